import {
  ADDRESS_LENGTH,
  asBigint,
  asBytes,
  asString,
  decodeList,
  rlpDecode,
  rlpEncode,
} from '../../../chain/index.js';

/** The bank's transaction kinds (the part after "bank."). */
export const BankTx = {
  Transfer: 'transfer',
} as const;

export const TRANSFER_KIND = `bank.${BankTx.Transfer}`;

export interface TransferArgs {
  to: Uint8Array;
  asset: string;
  amount: bigint;
}

/** bank.transfer payload. RLP: [to (20 bytes), asset symbol, amount (base units)]. */
export function encodeTransfer(a: TransferArgs): Uint8Array {
  return rlpEncode([a.to, a.asset, a.amount]);
}

export function decodeTransfer(payload: Uint8Array): TransferArgs {
  const f = decodeList(rlpDecode(payload, 'bank.transfer payload'), 3, 'bank.transfer payload');
  return {
    to: asBytes(f[0], 'transfer.to', ADDRESS_LENGTH),
    asset: asString(f[1], 'transfer.asset', 16),
    amount: asBigint(f[2], 'transfer.amount', 16),
  };
}

const decoded = new WeakMap<Uint8Array, TransferArgs>();

/**
 * decodeTransfer, remembered per payload array: a transaction's payload is decoded at mempool
 * admission and again when it executes (once per block it is proposed or validated in).
 */
export function transferArgs(payload: Uint8Array): TransferArgs {
  let a = decoded.get(payload);
  if (a === undefined) decoded.set(payload, (a = decodeTransfer(payload)));
  return a;
}
