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

