import { parseAddress } from '../chain/index.js';
import { encodeTransfer, TRANSFER_KIND } from '../vm/modules/bank/codec.js';
import { ClientError, ClientErrorCode } from './errors.js';

/** What a transaction does: its kind and its module's payload (the signed envelope adds chain, nonce, fee). */
export interface TxIntent {
  kind: string;
  payload: Uint8Array;
}

/** An address as bytes, from bytes or text (mn1…, checksummed); a bad one is a ClientError naming `what`. */
export function addressArg(a: Uint8Array | string, what: string): Uint8Array {
  if (typeof a !== 'string') return a;
  try {
    return parseAddress(a);
  } catch (e) {
    throw new ClientError(ClientErrorCode.BadArgument, `${what} "${a}" is not an address: ${(e as Error).message}`);
  }
}

/** An amount in base units, from a bigint or a decimal string of base units. */
export function baseUnits(v: bigint | string, what: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n) throw new ClientError(ClientErrorCode.BadArgument, `${what} must not be negative`);
    return v;
  }
  if (!/^\d+$/.test(v)) throw new ClientError(ClientErrorCode.BadArgument, `${what} "${v}" must be a whole number of base units`);
  return BigInt(v);
}

/** The bank's transactions (vm/modules/bank/codec.ts). */
export const bank = {
  /** bank.transfer: `amount` base units of `asset` to `to`. */
  transfer(a: { to: Uint8Array | string; asset: string; amount: bigint | string }): TxIntent {
    return { kind: TRANSFER_KIND, payload: encodeTransfer({ to: addressArg(a.to, 'to'), asset: a.asset, amount: baseUnits(a.amount, 'amount') }) };
  },
};
