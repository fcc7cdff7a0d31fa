import {
  Block,
  BlockHeader,
  HEADER_VERSION,
  asBytes,
  asList,
  asSafeUint,
  asString,
  decodeCertificate,
  decodeHeader,
  decodeList,
  decodeTransaction,
  decodeValidatorSet,
  readU64be,
  decodeBlockEvents,
  decodeReceipt,
  encodeBlockEvents,
  rlpDecode,
  rlpEncode,
  toHex,
  toKey,
  u64be,
  uintBytes,
  utf8,
  type CommitCertificate,
  type Event,
  type Receipt,
  type Transaction,
  type ValidatorSet,
} from '../chain/index.js';
import { ACCOUNT_TX_ENTRY, Bucket, MetaKey, accountTxKey, bucketKey, bucketRange, heightKey } from './buckets.js';
import { StorageError, StorageErrorCode } from './errors.js';
import type { BatchOp, KVController } from './kv.js';
import { MemoryScratch, type Scratch } from './scratch.js';

export interface Head {
  height: number;
  hash: Uint8Array;
  stateRoot: Uint8Array;
}

export interface TxLocation {
  height: number;
  index: number;
}

/** One entry of the account index: a transaction that touched an account. */
export interface AccountTxEntry extends TxLocation {
  hash: Uint8Array;
}

/** Everything that becomes durable when a block is committed: written in one atomic batch. */
export interface BlockCommit {
  block: Block;
  receipts: readonly Receipt[];
  /** The events of the block's begin- and end-block hooks (none: nothing is written). */
  blockEvents?: readonly Event[];
  /** State changes: latin1 key → value, or null for a deletion. */
  stateWrites: Map<string, Uint8Array | null>;
  /** The state's own records that the block writes (a value) or deletes (null): vm/state/stored.ts. */
  stateOps?: readonly (readonly [key: Uint8Array, value: Uint8Array | null])[];
  /** The validator set from this height on, when it changes (always at genesis). */
  validatorSet?: ValidatorSet;
  /** The set a block's updates make, from the height it holds (the block's height + 2). */
  nextValidatorSet?: { height: number; set: ValidatorSet };
  /** The proposer priorities of the next height (ProposerPriorities.serialize). */
  proposerPriorities?: Uint8Array;
  /** With genesis: the digest of the genesis document (checked at each start). */
  genesisDigest?: Uint8Array;
  /**
   * For each transaction, in block order, the accounts it touches (e.g. a transfer's recipient),
   * indexed in AccountTx; its sender is indexed in any case.
   */
  accounts?: readonly (readonly Uint8Array[])[];
}

const RECENT_MAX_BLOCKS = 4;
const RECENT_MAX_TXS = 2_000;

/**
 * The block store and state store over one KV controller. A block, its receipts, its state
 * changes and the new head are one batch: after a crash the node sees all of it or none of it.
 */
export class ChainStore {
  /** Heights at which the validator set changed, ascending. */
  private valsetHeights: number[] = [];
  /**
   * The latest committed blocks and receipts, as committed (hashes and encodings cached): clients
   * and peers ask for the newest blocks most, right after they are committed. A few blocks, or
   * RECENT_MAX_TXS transactions, whichever is less, but always the newest block (each cached
   * transaction keeps its decoded form and receipt alive).
   */
  private recent: { block: Block; receipts: readonly Receipt[]; blockEvents: readonly Event[] }[] = [];
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

  /** The digest of the genesis document recorded with the chain (undefined: a home written before it was kept). */
  async genesisDigest(): Promise<Uint8Array | undefined> {
    return this.kv.get(bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.GenesisDigest)));
  }

  async setGenesisDigest(digest: Uint8Array): Promise<void> {
    await this.kv.batch([{ type: 'put', key: bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.GenesisDigest)), value: digest }], { sync: true });
  }

  /**
   * Whether a large genesis began writing its state here and its block has not landed yet (set
   * before the state, cleared after the block): a store with no chain that says so holds a genesis
   * cut short, not a database that lost its records.
   */
  async genesisPending(): Promise<boolean> {
    return (await this.kv.get(bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.GenesisPending)))) !== undefined;
  }

  async setGenesisPending(pending: boolean): Promise<void> {
    const key = bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.GenesisPending));
    try {
      await this.kv.batch([pending ? { type: 'put', key, value: Uint8Array.of(1) } : { type: 'del', key }], { sync: true });
    } catch (e) {
      throw new StorageError(StorageErrorCode.Write, `writing the genesis-pending mark failed: ${(e as Error).message}`);
    }
  }

  /** The proposer priorities written with the head block (undefined: a home written before they were kept). */
  async proposerPriorities(): Promise<Uint8Array | undefined> {
    return this.kv.get(bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.ProposerPriorities)));
  }

  async commit(c: BlockCommit): Promise<void> {
    const { block, receipts } = c;
    const h = block.height;
    const hash = block.hash();
    const ops: BatchOp[] = [
      { type: 'put', key: heightKey(Bucket.HeaderByHeight, h), value: block.header.serialize() },
      { type: 'put', key: bucketKey(Bucket.HeightByHash, hash), value: u64be(h) },
      // Written once, read rarely: kept out of LevelDB's tree where the store allows (kv.ts).
      { type: 'append', key: heightKey(Bucket.BodyByHeight, h), value: rlpEncode(block.transactions.map((t) => t.serialize())) },
      { type: 'append', key: heightKey(Bucket.ReceiptsByHeight, h), value: rlpEncode(receipts.map((r) => r.serialize())) },
    ];
    const blockEvents = c.blockEvents ?? [];
    if (blockEvents.length) ops.push({ type: 'append', key: heightKey(Bucket.BlockEventsByHeight, h), value: encodeBlockEvents(blockEvents) });
    if (block.certificate) ops.push({ type: 'put', key: heightKey(Bucket.CertificateByHeight, h), value: block.certificate.serialize() });
    // The account index: per address, the block's transactions that touched it, in index order.
    const touched = new Map<string, { address: Uint8Array; indices: number[] }>();
    block.transactions.forEach((t, i) => {
      ops.push({ type: 'put', key: bucketKey(Bucket.TxLocation, t.hash()), value: rlpEncode([h, i]) });
      const accounts = c.accounts?.[i];
      for (let j = -1; j < (accounts?.length ?? 0); j++) {
        const a = j < 0 ? t.from() : accounts![j]!;
        const k = j < 0 ? t.fromKey : toKey(a);
        const entry = touched.get(k);
        if (!entry) touched.set(k, { address: a, indices: [i] });
        else if (entry.indices[entry.indices.length - 1] !== i) entry.indices.push(i);
      }
    });
    for (const { address, indices } of touched.values()) {
      const value = new Uint8Array(indices.length * ACCOUNT_TX_ENTRY);
      indices.forEach((i, n) => {
        const at = n * ACCOUNT_TX_ENTRY;
        value[at] = i >>> 24;
        value[at + 1] = i >>> 16;
        value[at + 2] = i >>> 8;
        value[at + 3] = i;
        value.set(block.transactions[i]!.hash(), at + 4);
      });
      ops.push({ type: 'put', key: accountTxKey(address, h), value });
    }
    for (const [k, v] of c.stateWrites) {
      const key = stateKey(k);
      ops.push(v === null ? { type: 'del', key } : { type: 'put', key, value: v });
    }
    for (const [k, v] of c.stateOps ?? []) {
      const key = bucketKey(Bucket.StateStore, k);
      ops.push(v === null ? { type: 'del', key } : { type: 'put', key, value: v });
    }
    if (c.validatorSet) ops.push({ type: 'put', key: heightKey(Bucket.ValidatorSetByHeight, h), value: c.validatorSet.serialize() });
    const next = c.nextValidatorSet;
    if (next) {
      const last = this.valsetHeights[this.valsetHeights.length - 1] ?? -1;
      if (next.height <= last || next.height <= h) throw new StorageError(StorageErrorCode.Write, `a validator set from height ${next.height} cannot follow the one from ${last} (block ${h})`, { height: h });
      ops.push({ type: 'put', key: heightKey(Bucket.ValidatorSetByHeight, next.height), value: next.set.serialize() });
    }
    if (h === 0) {
      ops.push({ type: 'put', key: bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.Chain)), value: rlpEncode([utf8(block.header.chainId), hash]) });
    }
    if (c.genesisDigest) ops.push({ type: 'put', key: bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.GenesisDigest)), value: c.genesisDigest });
    if (c.proposerPriorities) ops.push({ type: 'put', key: bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.ProposerPriorities)), value: c.proposerPriorities });
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
    if (next) {
      this.valsetHeights.push(next.height);
      this.valsetCache.set(next.height, next.set);
    }
    this.recent.push({ block, receipts, blockEvents });
    let txs = 0;
    for (const r of this.recent) txs += r.block.transactions.length;
    while (this.recent.length > RECENT_MAX_BLOCKS || (this.recent.length > 1 && txs > RECENT_MAX_TXS)) txs -= this.recent.shift()!.block.transactions.length;
  }

  private recentAt(height: number): { block: Block; receipts: readonly Receipt[]; blockEvents: readonly Event[] } | undefined {
    for (const r of this.recent) if (r.block.height === height) return r;
    return undefined;
  }

  async header(height: number): Promise<BlockHeader | undefined> {
    const cached = this.recentAt(height);
    if (cached) return cached.block.header;
    const v = await this.kv.get(heightKey(Bucket.HeaderByHeight, height));
    if (!v) return undefined;
    // A header's first field is its version: one this build does not read means another release wrote the chain.
    const version = headerVersionOf(v);
    if (version !== undefined && version !== HEADER_VERSION) {
      throw new StorageError(
        StorageErrorCode.Incompatible,
        `block ${height} was written by another Metanode release (header version ${version}; this one reads version ${HEADER_VERSION}) and there is no migration: start a new chain (a devnet: rm -rf .devnet; a node: a new home, or delete its data folder and sync again)`,
        { height },
      );
    }
    return this.decode(() => decodeHeader(v), `header ${height}`);
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
    const cached = this.recentAt(height);
    if (cached) return [...cached.block.transactions];
    const v = await this.kv.getAppended(heightKey(Bucket.BodyByHeight, height));
    if (!v) return undefined;
    return this.decode(() => asList(rlpDecode(v, 'body'), 'body').map((t, i) => decodeTransaction(asBytes(t, `tx ${i}`))), `body ${height}`);
  }

  async block(height: number): Promise<Block | undefined> {
    const cached = this.recentAt(height);
    if (cached) return cached.block;
    const [header, txs, cert] = await Promise.all([this.header(height), this.transactions(height), this.certificate(height)]);
    if (!header || !txs) return undefined;
    return new Block(header, txs, cert);
  }

  async receipts(height: number): Promise<Receipt[] | undefined> {
    const cached = this.recentAt(height);
    if (cached) return [...cached.receipts];
    const v = await this.kv.getAppended(heightKey(Bucket.ReceiptsByHeight, height));
    if (!v) return undefined;
    return this.decode(() => asList(rlpDecode(v, 'receipts'), 'receipts').map((r, i) => decodeReceipt(asBytes(r, `receipt ${i}`))), `receipts ${height}`);
  }

  /** The events of block `height`'s begin- and end-block hooks ([] when it had none), or undefined for a block not stored. */
  async blockEvents(height: number): Promise<Event[] | undefined> {
    const cached = this.recentAt(height);
    if (cached) return [...cached.blockEvents];
    const v = await this.kv.getAppended(heightKey(Bucket.BlockEventsByHeight, height));
    if (v) return this.decode(() => decodeBlockEvents(v), `block events ${height}`);
    return (await this.header(height)) ? [] : undefined;
  }

  async txLocation(hash: Uint8Array): Promise<TxLocation | undefined> {
    const v = await this.kv.get(bucketKey(Bucket.TxLocation, hash));
    if (!v) return undefined;
    return this.decode(() => {
      const f = decodeList(rlpDecode(v, 'tx location'), 2, 'tx location');
      return { height: asSafeUint(f[0], 'height'), index: asSafeUint(f[1], 'index') };
    }, `location of tx ${toHex(hash)}`);
  }

  /** How many transactions block `height` holds (without decoding them), or undefined if unknown. */
  async transactionCount(height: number): Promise<number | undefined> {
    const v = await this.kv.getAppended(heightKey(Bucket.BodyByHeight, height));
    if (!v) return undefined;
    return this.decode(() => asList(rlpDecode(v, 'body'), 'body').length, `body ${height}`);
  }

  /**
   * Transactions that touched `address` (as sender, or named by their module), newest first:
   * at most `limit` of them, all strictly before the `before` location when it is given. A
   * reverse range scan over the index, so its cost depends on `limit`, not on the chain's length.
   */
  async accountTransactions(address: Uint8Array, o: { limit: number; before?: TxLocation }): Promise<AccountTxEntry[]> {
    const all = bucketRange(Bucket.AccountTxByBlock, address);
    const { before } = o;
    // Blocks strictly below the cursor's, plus the cursor's own block when it starts after index 0.
    const lt = before ? accountTxKey(address, before.index > 0 ? before.height + 1 : before.height) : all.lt;
    const out: AccountTxEntry[] = [];
    if (o.limit <= 0) return out;
    const at = 1 + address.length;
    for await (const [k, v] of this.kv.entries({ gte: all.gte, lt, reverse: true, limit: o.limit + 1 })) {
      if (k.length !== at + 8 || v.length === 0 || v.length % ACCOUNT_TX_ENTRY !== 0) throw new StorageError(StorageErrorCode.Corrupt, `account index entry ${toHex(k)} is corrupt`);
      const height = Number(readU64be(k, at));
      for (let e = v.length - ACCOUNT_TX_ENTRY; e >= 0; e -= ACCOUNT_TX_ENTRY) {
        const index = ((v[e]! << 24) | (v[e + 1]! << 16) | (v[e + 2]! << 8) | v[e + 3]!) >>> 0;
        if (before && height === before.height && index >= before.index) continue;
        out.push({ height, index, hash: v.subarray(e + 4, e + ACCOUNT_TX_ENTRY) });
        if (out.length === o.limit) return out;
      }
    }
    return out;
  }

  /** The validator set in force at `height`. */
  validatorSet(height: number): ValidatorSet | undefined {
    let best: number | undefined;
    // valsetHeights is ascending: the last one at or below `height`, by binary search.
    let lo = 0;
    let hi = this.valsetHeights.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.valsetHeights[mid]! <= height) {
        best = this.valsetHeights[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best === undefined ? undefined : this.valsetCache.get(best);
  }

  /**
   * Synchronous reads of the state as of the last commit that landed (a snapshot, moved on by
   * `refresh` once the next has): head values by state key, and the state's own records.
   */
  stateView(): {
    value(key: string): Uint8Array | undefined;
    get(key: Uint8Array): Uint8Array | undefined;
    valuesAsync(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
    getManyAsync(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
    refresh(): void;
  } {
    const view = this.kv.readView();
    return {
      value: (key) => view.get(stateKey(key)),
      get: (key) => view.get(bucketKey(Bucket.StateStore, key)),
      valuesAsync: (keys) => view.getMany(keys.map(stateKey)),
      getManyAsync: (keys) => view.getMany(keys.map((k) => bucketKey(Bucket.StateStore, k))),
      refresh: () => view.refresh(),
    };
  }

  /** A scratch store beside the database (storage/scratch.ts), for a bulk load's path index. */
  scratch(): Promise<Scratch> {
    return this.kv.scratch ? this.kv.scratch() : Promise.resolve(new MemoryScratch());
  }

  /** The state's own records whose keys start with `prefix` (e.g. one table), in key order. */
  async *stateRecords(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    const range = bucketRange(Bucket.StateStore, prefix);
    for await (const [k, v] of this.kv.entries(range)) yield [k.subarray(1), new Uint8Array(v.buffer, v.byteOffset, v.byteLength)];
  }

  /**
   * The state's own records under `prefix`, read whole and held packed (one buffer for all their
   * bytes), then handed out as views in key order: for a table read at start-up (the key
   * directory: ~150,000 records at 40 million keys), whose records one by one would cost ~600 bytes
   * of heap each, and grow the heap by hundreds of MB that it keeps.
   */
  async stateRecordsPacked(prefix: Uint8Array): Promise<Iterable<[Uint8Array, Uint8Array]>> {
    let buf = Buffer.allocUnsafe(64 * 1024);
    let used = 0;
    const ends: number[] = [];
    const put = (bytes: Uint8Array): void => {
      if (used + bytes.length > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, used + bytes.length));
        buf.copy(grown, 0, 0, used);
        buf = grown;
      }
      buf.set(bytes, used);
      used += bytes.length;
      ends.push(used);
    };
    for await (const [k, v] of this.stateRecords(prefix)) {
      put(k);
      put(v);
    }
    const packed = buf;
    return {
      *[Symbol.iterator]() {
        for (let i = 0, at = 0; i < ends.length; i += 2) {
          const mid = ends[i]!;
          const end = ends[i + 1]!;
          yield [packed.subarray(at, mid), packed.subarray(mid, end)] as [Uint8Array, Uint8Array];
          at = end;
        }
      },
    };
  }

  /**
   * Writes state values and records of the state's own outside a block, in batches of at most
   * `chunk` operations: a bulk load (the genesis of a large state, a migration), which one batch
   * would make a write-ahead log and a memtable the size of the state. Not atomic as a whole: what
   * completes the load (the state's meta record, the genesis block) is written after it, so an
   * interrupted load is not taken for a state.
   */
  async writeStateBulk(writes: ReadonlyMap<string, Uint8Array | null>, ops: readonly (readonly [key: Uint8Array, value: Uint8Array | null])[], chunk = 50_000): Promise<void> {
    let batch: BatchOp[] = [];
    const flush = async (): Promise<void> => {
      if (!batch.length) return;
      try {
        await this.kv.batch(batch, { sync: true }); // each chunk durable before what completes the load is written
      } catch (e) {
        throw new StorageError(StorageErrorCode.Write, `writing the state failed: ${(e as Error).message}`);
      }
      batch = [];
    };
    for (const [k, v] of writes) {
      const key = stateKey(k);
      batch.push(v === null ? { type: 'del', key } : { type: 'put', key, value: v });
      if (batch.length >= chunk) await flush();
    }
    for (const [k, v] of ops) {
      const key = bucketKey(Bucket.StateStore, k);
      batch.push(v === null ? { type: 'del', key } : { type: 'put', key, value: v });
      if (batch.length >= chunk) await flush();
    }
    await flush();
  }

  /**
   * Whether any state value or state record is stored: a store with no chain that has some holds
   * what a bulk genesis left when it was cut short (its block was never written).
   */
  async hasState(): Promise<boolean> {
    for (const b of [Bucket.State, Bucket.StateStore]) for await (const _ of this.kv.entries(bucketRange(b))) return true;
    return false;
  }

  /**
   * Deletes every state value and state record (what an interrupted bulk genesis left), in synced
   * chunks; with `recordsOnly`, only the state's own records (what an interrupted bulk load of
   * stored values left: its tree, key pages and directory), keeping the values.
   */
  async clearState(chunk = 50_000, recordsOnly = false): Promise<number> {
    let deleted = 0;
    for (const b of recordsOnly ? [Bucket.StateStore] : [Bucket.State, Bucket.StateStore]) {
      let batch: BatchOp[] = [];
      const flush = async (): Promise<void> => {
        try {
          await this.kv.batch(batch, { sync: true });
        } catch (e) {
          throw new StorageError(StorageErrorCode.Write, `clearing the state failed: ${(e as Error).message}`);
        }
        deleted += batch.length;
        batch = [];
      };
      for await (const [k] of this.kv.entries(bucketRange(b))) {
        batch.push({ type: 'del', key: k });
        if (batch.length >= chunk) await flush();
      }
      if (batch.length) await flush();
    }
    return deleted;
  }

  /** Every state entry (head values), for a migration or a check. */
  async *stateEntries(): AsyncIterable<[Uint8Array, Uint8Array]> {
    // Plain Uint8Array views of LevelDB's Buffers: a module's value.slice() is then a copy, as it is for state it wrote.
    for await (const [k, v] of this.kv.entries(bucketRange(Bucket.State))) yield [k.subarray(1), new Uint8Array(v.buffer, v.byteOffset, v.byteLength)];
  }

  private decode<T>(f: () => T, what: string): T {
    // (a header of another version is told apart in header())
    try {
      return f();
    } catch (e) {
      throw new StorageError(StorageErrorCode.Corrupt, `stored ${what} is corrupt: ${(e as Error).message}`);
    }
  }
}

/** Bucket.State ‖ key, from a state key string (latin1; see chain/bytes.ts toKey). */
function stateKey(k: string): Uint8Array {
  const out = new Uint8Array(1 + k.length);
  out[0] = Bucket.State;
  for (let i = 0; i < k.length; i++) out[i + 1] = k.charCodeAt(i);
  return out;
}

/** The version field of an encoded header, if it reads as one (else undefined: decodeHeader says what is wrong). */
function headerVersionOf(bytes: Uint8Array): number | undefined {
  try {
    return asSafeUint(asList(rlpDecode(bytes, 'header'), 'header')[0]!, 'header.version');
  } catch {
    return undefined;
  }
}
