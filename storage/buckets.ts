import { concatBytes, u64be } from '../chain/index.js';

/**
 * Every storage key starts with one bucket byte. Ids are never reused; heights are 8-byte
 * big-endian so that keys sort by height.
 */
export const Bucket = {
  Meta: 0x01,
  HeaderByHeight: 0x02,
  HeightByHash: 0x03,
  BodyByHeight: 0x04,
  CertificateByHeight: 0x05,
  TxLocation: 0x06,
  ReceiptsByHeight: 0x07,
  State: 0x08,
  ValidatorSetByHeight: 0x09,
  AccountTx: 0x0a,
  SignLog: 0x0b,
} as const;
export type Bucket = (typeof Bucket)[keyof typeof Bucket];

export const MetaKey = {
  Head: 0x01,
  Chain: 0x02,
} as const;

export function bucketKey(bucket: Bucket, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(Uint8Array.of(bucket), ...parts);
}

export function heightKey(bucket: Bucket, height: number): Uint8Array {
  return bucketKey(bucket, u64be(height));
}

/** The account index: AccountTx ‖ address(20) ‖ height(8) ‖ index(4 BE) → tx hash. */
export function accountTxKey(address: Uint8Array, height: number, index: number): Uint8Array {
  const i = new Uint8Array(4);
  new DataView(i.buffer).setUint32(0, index);
  return bucketKey(Bucket.AccountTx, address, u64be(height), i);
}

/** [gte, lt) covering a whole bucket, or the part of it under `prefix`. */
export function bucketRange(bucket: Bucket, prefix: Uint8Array = new Uint8Array(0)): { gte: Uint8Array; lt: Uint8Array } {
  const gte = bucketKey(bucket, prefix);
  const lt = new Uint8Array(gte);
  let i = lt.length - 1;
  while (i >= 0 && lt[i] === 0xff) lt[i--] = 0;
  if (i < 0) return { gte, lt: Uint8Array.of(bucket + 1) };
  lt[i]!++;
  return { gte, lt: lt.subarray(0, i + 1) };
}
