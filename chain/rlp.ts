import { RLP } from '@ethereumjs/rlp';
import { equalBytes, fromUtf8 } from './bytes.js';
import { ChainError, ChainErrorCode } from './errors.js';

export type RlpInput = Uint8Array | RlpInput[];
export type RlpItem = Uint8Array | RlpItem[];

/** Minimal big-endian bytes of a non-negative integer (0 is the empty string), as RLP wants. */
export function uintBytes(n: number | bigint): Uint8Array {
  const v = BigInt(n);
  if (v < 0n) throw new ChainError(ChainErrorCode.FieldValue, 'integers must be non-negative', { value: String(n) });
  if (v === 0n) return new Uint8Array(0);
  const hex = v.toString(16);
  return new Uint8Array(Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex'));
}

export function rlpEncode(item: RlpInput): Uint8Array {
  return RLP.encode(item as never);
}

/** Non-canonical forms that @ethereumjs/rlp itself refuses, before the re-encoding check below can run. */
const NON_CANONICAL_RE = /single byte < 0x80 are not prefixed|expected string length to be greater than 55|encoded list too short|extra zeros/;

/**
 * Strict decode: one item, no trailing bytes, and canonical (re-encoding gives the same bytes).
 */
export function rlpDecode(bytes: Uint8Array, what: string): RlpItem {
  let item: RlpItem;
  try {
    item = RLP.decode(bytes) as RlpItem;
  } catch (e) {
    const msg = (e as Error).message;
    if (NON_CANONICAL_RE.test(msg)) throw new ChainError(ChainErrorCode.NonCanonical, `${what}: RLP is not in canonical form (${msg})`);
    throw new ChainError(ChainErrorCode.InvalidRlp, `${what}: malformed RLP (${msg})`);
  }
  if (!equalBytes(RLP.encode(item as never), bytes)) {
    throw new ChainError(ChainErrorCode.NonCanonical, `${what}: RLP is not in canonical form`);
  }
  return item;
}

export function decodeList(item: RlpItem, count: number, what: string): RlpItem[] {
  if (!Array.isArray(item)) throw new ChainError(ChainErrorCode.InvalidRlp, `${what}: expected a list`);
  if (item.length !== count) {
    throw new ChainError(ChainErrorCode.FieldCount, `${what}: expected ${count} fields, got ${item.length}`);
  }
  return item;
}

export function asList(item: RlpItem | undefined, what: string): RlpItem[] {
  if (!Array.isArray(item)) throw new ChainError(ChainErrorCode.InvalidRlp, `${what}: expected a list`);
  return item;
}

export function asBytes(item: RlpItem | undefined, what: string, length?: number): Uint8Array {
  if (!(item instanceof Uint8Array)) throw new ChainError(ChainErrorCode.InvalidRlp, `${what}: expected a byte string`);
  if (length !== undefined && item.length !== length) {
    throw new ChainError(ChainErrorCode.FieldLength, `${what}: expected ${length} bytes, got ${item.length}`);
  }
  return item;
}

export function asBigint(item: RlpItem | undefined, what: string, maxBytes = 32): bigint {
  const b = asBytes(item, what);
  if (b.length > maxBytes) throw new ChainError(ChainErrorCode.FieldLength, `${what}: integer longer than ${maxBytes} bytes`);
  if (b.length > 0 && b[0] === 0) throw new ChainError(ChainErrorCode.NonCanonical, `${what}: integer has leading zero bytes`);
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}

/** A u64 read as a JS number; values above 2^53 are refused rather than rounded. */
export function asSafeUint(item: RlpItem | undefined, what: string): number {
  const v = asBigint(item, what, 8);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ChainError(ChainErrorCode.FieldValue, `${what}: exceeds 2^53-1`);
  return Number(v);
}

export function asString(item: RlpItem | undefined, what: string, maxLength = 256): string {
  const b = asBytes(item, what);
  if (b.length > maxLength) throw new ChainError(ChainErrorCode.FieldLength, `${what}: longer than ${maxLength} bytes`);
  try {
    return fromUtf8(b);
  } catch {
    throw new ChainError(ChainErrorCode.FieldValue, `${what}: not valid UTF-8`);
  }
}
