import { writeU64be } from '../chain/bytes.js';

/**
 * Every storage key starts with one bucket byte. Ids are never reused; heights are 8-byte
 * big-endian so that keys sort by height. Keys from 0xff on belong to the KV store itself
 * (LevelKV's value log, kv.ts).
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
  /** Retired (one entry per transaction and account; replaced by AccountTxByBlock). Never reuse. */
  AccountTxRetired: 0x0a,
  SignLog: 0x0b,
  AccountTxByBlock: 0x0c,
  /** A block's begin/end-block events, when it has any. */
  BlockEventsByHeight: 0x0d,
  /** The state's own records (its tree's nodes, roots, key pages, undo sets: vm/state/storage.ts StateTable). */
  StateStore: 0x0e,
} as const;
export type Bucket = (typeof Bucket)[keyof typeof Bucket];

export const MetaKey = {
  Head: 0x01,
  Chain: 0x02,
  /** The proposer priorities of the height after the head (chain/proposer.ts), written with each block. */
  ProposerPriorities: 0x03,
  /** The digest of the genesis document the chain was made from (consensus/blockchain.ts genesisDigest). */
  GenesisDigest: 0x04,
  /** Set while a large genesis writes its state, before its block (consensus/blockchain.ts): a start that finds it and no chain redoes genesis. */
  GenesisPending: 0x05,
} as const;

export function bucketKey(bucket: Bucket, ...parts: Uint8Array[]): Uint8Array {
  let len = 1;
  for (const p of parts) len += p.length;
  const key = new Uint8Array(len);
  key[0] = bucket;
  let at = 1;
  for (const p of parts) {
    key.set(p, at);
    at += p.length;
  }
  return key;
}

export function heightKey(bucket: Bucket, height: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = bucket;
  writeU64be(k, 1, height);
  return k;
}

/**
 * The account index: AccountTxByBlock ‖ address(20) ‖ height(8) → the transactions of that block
 * that touched the address, as entries of index (u32 BE) ‖ tx hash (32), by ascending index.
 * One entry per account and block rather than per transaction: an active account sends and
 * receives many transactions per block, and every LevelDB write costs microseconds.
 */
export function accountTxKey(address: Uint8Array, height: number): Uint8Array {
  const k = new Uint8Array(1 + address.length + 8);
  k[0] = Bucket.AccountTxByBlock;
  k.set(address, 1);
  writeU64be(k, 1 + address.length, height);
  return k;
}

export const ACCOUNT_TX_ENTRY = 36;

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
