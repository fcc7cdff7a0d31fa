import {
  Block,
  BlockHeader,
  asBytes,
  asList,
  asSafeUint,
  asString,
  decodeCertificate,
  decodeHeader,
  decodeList,
  decodeTransaction,
  decodeValidatorSet,
  fromKey,
  readU64be,
  receiptFromRlp,
  rlpDecode,
  rlpEncode,
  toHex,
  u64be,
  uintBytes,
  utf8,
  type CommitCertificate,
  type Receipt,
  type Transaction,
  type ValidatorSet,
} from '../chain/index.js';
import { Bucket, MetaKey, bucketKey, bucketRange, heightKey } from './buckets.js';
import { StorageError, StorageErrorCode } from './errors.js';
import type { BatchOp, KVController } from './kv.js';

export interface Head {
  height: number;
  hash: Uint8Array;
  stateRoot: Uint8Array;
}

export interface TxLocation {
  height: number;
  index: number;
}

/** Everything that becomes durable when a block is committed: written in one atomic batch. */
export interface BlockCommit {
  block: Block;
  receipts: readonly Receipt[];
  /** State changes: latin1 key → value, or null for a deletion. */
  stateWrites: Map<string, Uint8Array | null>;
  /** The validator set from this height on, when it changes (always at genesis). */
  validatorSet?: ValidatorSet;
}

/**
 * The block store and state store over one KV controller. A block, its receipts, its state
 * changes and the new head are one batch: after a crash the node sees all of it or none of it.
 */
export class ChainStore {
  /** Heights at which the validator set changed, ascending. */
  private valsetHeights: number[] = [];
  private readonly valsetCache = new Map<number, ValidatorSet>();

  private constructor(private readonly kv: KVController) {}

  static async open(kv: KVController): Promise<ChainStore> {
    const s = new ChainStore(kv);
    for await (const [k, v] of kv.entries(bucketRange(Bucket.ValidatorSetByHeight))) {
      const h = Number(readU64be(k, 1));
      s.valsetHeights.push(h);
      s.valsetCache.set(h, s.decode(() => decodeValidatorSet(v), `validator set at ${h}`));
    }
    return s;
  }

  async close(): Promise<void> {
    await this.kv.close();
  }

  /** The chain this database belongs to, written with genesis. */
  async chainInfo(): Promise<{ chainId: string; genesisHash: Uint8Array } | undefined> {
    const v = await this.kv.get(bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.Chain)));
    if (!v) return undefined;
    return this.decode(() => {
      const f = decodeList(rlpDecode(v, 'chain info'), 2, 'chain info');
      return { chainId: asString(f[0], 'chainId'), genesisHash: asBytes(f[1], 'genesisHash', 32) };
    }, 'chain info');
  }

  async head(): Promise<Head | undefined> {
    const v = await this.kv.get(bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.Head)));
    if (!v) return undefined;
    return this.decode(() => {
      const f = decodeList(rlpDecode(v, 'head'), 3, 'head');
      return { height: asSafeUint(f[0], 'height'), hash: asBytes(f[1], 'hash', 32), stateRoot: asBytes(f[2], 'stateRoot', 32) };
    }, 'head');
  }

  async commit(c: BlockCommit): Promise<void> {
    const { block, receipts } = c;
    const h = block.height;
    const hash = block.hash();
    const ops: BatchOp[] = [
      { type: 'put', key: heightKey(Bucket.HeaderByHeight, h), value: block.header.serialize() },
      { type: 'put', key: bucketKey(Bucket.HeightByHash, hash), value: u64be(h) },
      { type: 'put', key: heightKey(Bucket.BodyByHeight, h), value: rlpEncode(block.transactions.map((t) => t.serialize())) },
      { type: 'put', key: heightKey(Bucket.ReceiptsByHeight, h), value: rlpEncode(receipts.map((r) => rlpDecode(r.serialize(), 'receipt') as Uint8Array[])) },
    ];
    if (block.certificate) ops.push({ type: 'put', key: heightKey(Bucket.CertificateByHeight, h), value: block.certificate.serialize() });
    block.transactions.forEach((t, i) => {
      ops.push({ type: 'put', key: bucketKey(Bucket.TxLocation, t.hash()), value: rlpEncode([uintBytes(h), uintBytes(i)]) });
    });
    for (const [k, v] of c.stateWrites) {
      const key = bucketKey(Bucket.State, fromKey(k));
      ops.push(v === null ? { type: 'del', key } : { type: 'put', key, value: v });
    }
    if (c.validatorSet) ops.push({ type: 'put', key: heightKey(Bucket.ValidatorSetByHeight, h), value: c.validatorSet.serialize() });
    if (h === 0) {
      ops.push({ type: 'put', key: bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.Chain)), value: rlpEncode([utf8(block.header.chainId), hash]) });
    }
    ops.push({ type: 'put', key: bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.Head)), value: rlpEncode([uintBytes(h), hash, block.header.stateRoot]) });
    try {
      await this.kv.batch(ops, { sync: true });
    } catch (e) {
      throw new StorageError(StorageErrorCode.Write, `writing block ${h} failed: ${(e as Error).message}`, { height: h });
    }
    if (c.validatorSet) {
      this.valsetHeights.push(h);
      this.valsetCache.set(h, c.validatorSet);
    }
  }

  async header(height: number): Promise<BlockHeader | undefined> {
    const v = await this.kv.get(heightKey(Bucket.HeaderByHeight, height));
    return v && this.decode(() => decodeHeader(v), `header ${height}`);
  }

  async heightOf(hash: Uint8Array): Promise<number | undefined> {
    const v = await this.kv.get(bucketKey(Bucket.HeightByHash, hash));
    if (!v) return undefined;
    if (v.length !== 8) throw new StorageError(StorageErrorCode.Corrupt, `stored height of block ${toHex(hash)} is corrupt: ${v.length} bytes, not 8`);
    return Number(readU64be(v));
  }

  async certificate(height: number): Promise<CommitCertificate | undefined> {
    const v = await this.kv.get(heightKey(Bucket.CertificateByHeight, height));
    return v && this.decode(() => decodeCertificate(v), `certificate ${height}`);
  }

  async transactions(height: number): Promise<Transaction[] | undefined> {
    const v = await this.kv.get(heightKey(Bucket.BodyByHeight, height));
    if (!v) return undefined;
    return this.decode(() => asList(rlpDecode(v, 'body'), 'body').map((t, i) => decodeTransaction(asBytes(t, `tx ${i}`))), `body ${height}`);
  }

  async block(height: number): Promise<Block | undefined> {
    const [header, txs, cert] = await Promise.all([this.header(height), this.transactions(height), this.certificate(height)]);
    if (!header || !txs) return undefined;
    return new Block(header, txs, cert);
  }

  async receipts(height: number): Promise<Receipt[] | undefined> {
    const v = await this.kv.get(heightKey(Bucket.ReceiptsByHeight, height));
    if (!v) return undefined;
    return this.decode(() => asList(rlpDecode(v, 'receipts'), 'receipts').map(receiptFromRlp), `receipts ${height}`);
  }

  async txLocation(hash: Uint8Array): Promise<TxLocation | undefined> {
    const v = await this.kv.get(bucketKey(Bucket.TxLocation, hash));
    if (!v) return undefined;
    return this.decode(() => {
      const f = decodeList(rlpDecode(v, 'tx location'), 2, 'tx location');
      return { height: asSafeUint(f[0], 'height'), index: asSafeUint(f[1], 'index') };
    }, `location of tx ${toHex(hash)}`);
  }

  /** The validator set in force at `height`. */
  validatorSet(height: number): ValidatorSet | undefined {
    let best: number | undefined;
    for (const h of this.valsetHeights) if (h <= height) best = h;
    return best === undefined ? undefined : this.valsetCache.get(best);
  }

  /** Every state entry, for loading the state at start. */
  async *stateEntries(): AsyncIterable<[Uint8Array, Uint8Array]> {
    for await (const [k, v] of this.kv.entries(bucketRange(Bucket.State))) yield [k.subarray(1), v];
  }

  private decode<T>(f: () => T, what: string): T {
    try {
      return f();
    } catch (e) {
      throw new StorageError(StorageErrorCode.Corrupt, `stored ${what} is corrupt: ${(e as Error).message}`);
    }
  }
}
