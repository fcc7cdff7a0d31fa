/**
 * The entry log on disk (docs/state-entry-log.md): the log's records in the state's tables,
 * committed a block at a time in the block's batch, and reopened from what is stored. StoredState
 * commits to it on a chain whose genesis says `stateCommitment: "entry-log"`.
 *
 * Records (storage.ts StateTable):
 * - LogEntry ‖ position u64 → u16 key length ‖ key ‖ value hash ‖ next key;
 * - LogIndex ‖ key → position u64 ‖ value hash ‖ next key (the active entry of a key);
 * - LogTwig ‖ twig u32 → entry root ‖ active bits (written for every twig a block changed);
 * - LogTwigTree ‖ twig u32 → the full twig's entry tree (written once, when it fills);
 * - LogMeta → height, next, compactFrom, active, prunedTo, the key pages' next id (u64 each) ‖ root.
 * Key order, for an insert's or a delete's predecessor, comes from the key pages (keyindex.ts).
 *
 * - LogUndo ‖ height u64 → what the block changed (its log length before, the positions it
 *   deactivated, the index records it replaced), for the last `history` heights.
 *
 * Start-up reads the meta record, every twig record (one per 2,048 positions), the youngest
 * twig's entries (under 2,048) and the window's undo records, rebuilds the trees
 * (TwigTree.restore) and checks the root against the stored one: reads in proportion to the
 * twigs, not the entries.
 *
 * A recent height h's proof reads h's index record of the key through the undo records (or, for
 * an absent key, the key below it at h) and rewinds the head's tree through the blocks after h
 * (TwigTree.rewind): the deactivated entries stay stored, so nothing else is kept per height.
 */
import { LRUCache } from 'lru-cache';
import { HASH_LENGTH, equalBytes, fromKey, keySlice, readSafeU64be, stateValueHash, toHex, writeU64be } from '../../chain/index.js';
import { MAX_POSITIONS, TWIG_BITS_BYTES, TWIG_ENTRIES, stateEntryHashOf, type EntryProof } from '../../chain/stateentry.js';
import { COMPACT_SLACK, SENTINEL_KEY, planEntries, type EntryPlan, type EntryReader, type IndexRecord, type LogEntry, type LogState } from './entrylog.js';
import { KeyIndex, type StagedIndex } from './keyindex.js';
import { StateStorageError, StateTable, tableKey, u32, u64, type StateOps, type StateStorage } from './storage.js';
import { TWIG_NODES_BYTES, TwigTree, twigEntryTree, type TwigStore } from './twigs.js';

const metaKey = (): Uint8Array => tableKey(StateTable.LogMeta);
/** Entries pruning may delete in a block beyond twice the block's own appends. */
export const PRUNE_SLACK = 4096;
/** Undo records left below a window made smaller, deleted per block. */
const STALE_UNDO_PER_BLOCK = 64;
/** Positions `prefetch` walks at most ahead of compaction's cursor, and the bytes of keys it holds for them at most. */
const MAX_AHEAD = 16_384;
const MAX_AHEAD_BYTES = 8 << 20;
/** The cache's mark of a key known to have no index record (compared by identity). */
const ABSENT_RECORD: IndexRecord = Object.freeze({ position: -1, valueHash: new Uint8Array(0), next: '' });
const twigKey = (t: number): Uint8Array => tableKey(StateTable.LogTwig, u32(t));
const twigTreeKey = (t: number): Uint8Array => tableKey(StateTable.LogTwigTree, u32(t));

function entryKey(p: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = StateTable.LogEntry;
  writeU64be(out, 1, p);
  return out;
}

function indexKey(k: string): Uint8Array {
  const out = Buffer.allocUnsafe(1 + k.length);
  out[0] = StateTable.LogIndex;
  out.write(k, 1, 'latin1');
  return out;
}

/** An entry's record: its hash's preimage (chain/stateentry.ts encodeStateEntry), written from the latin1 keys. */
function encodeEntry(e: LogEntry): Uint8Array {
  if (e.key.length > 0xffff) throw new RangeError('a state key is at most 65,535 bytes');
  const out = Buffer.allocUnsafe(2 + e.key.length + HASH_LENGTH + e.next.length);
  out[0] = e.key.length >> 8;
  out[1] = e.key.length & 255;
  out.write(e.key, 2, 'latin1');
  out.set(e.valueHash, 2 + e.key.length);
  out.write(e.next, 2 + e.key.length + HASH_LENGTH, 'latin1');
  return out;
}

function decodeEntry(b: Uint8Array, position: number): LogEntry {
  const len = b.length >= 2 ? (b[0]! << 8) | b[1]! : -1;
  if (len < 0 || b.length < 2 + len + HASH_LENGTH) throw new StateStorageError(`the stored state is corrupt: entry ${position} cannot be read`);
  return { key: keySlice(b, 2, 2 + len), valueHash: b.slice(2 + len, 2 + len + HASH_LENGTH), next: keySlice(b, 2 + len + HASH_LENGTH, b.length) };
}

function encodeIndex(r: IndexRecord): Uint8Array {
  const out = Buffer.allocUnsafe(8 + HASH_LENGTH + r.next.length);
  writeU64be(out, 0, r.position);
  out.set(r.valueHash, 8);
  out.write(r.next, 8 + HASH_LENGTH, 'latin1');
  return out;
}

function decodeIndex(b: Uint8Array, key: string): IndexRecord {
  if (b.length < 8 + HASH_LENGTH) throw new StateStorageError(`the stored state is corrupt: the index record of ${toHex(fromKey(key))} cannot be read`);
  return { position: readSafeU64be(b, 0), valueHash: b.slice(8, 8 + HASH_LENGTH), next: keySlice(b, 8 + HASH_LENGTH, b.length) };
}

interface Meta extends LogState {
  readonly height: number;
  readonly root: Uint8Array;
  /** Entries below this position are deleted (pruned). */
  readonly prunedTo: number;
  /** The key pages' next page id (keyindex.ts). */
  readonly nextPageId: number;
}

function encodeMeta(m: Meta): Uint8Array {
  const out = new Uint8Array(48 + HASH_LENGTH);
  [m.height + 1, m.next, m.compactFrom, m.active, m.prunedTo, m.nextPageId].forEach((n, i) => out.set(u64(n), 8 * i));
  out.set(m.root, 48);
  return out;
}

function decodeMeta(b: Uint8Array): Meta {
  if (b.length !== 48 + HASH_LENGTH) throw new StateStorageError("the stored state is corrupt: the entry log's meta record cannot be read");
  const n = (i: number): number => readSafeU64be(b, 8 * i);
  return { height: n(0) - 1, next: n(1), compactFrom: n(2), active: n(3), prunedTo: n(4), nextPageId: n(5), root: b.slice(48) };
}

const undoKey = (h: number): Uint8Array => tableKey(StateTable.LogUndo, u64(h));

/** What a block changed, kept for the heights before it: the log's length before it, what it deactivated, and the index records it replaced (undefined: the key was absent). */
export interface LogUndo {
  readonly height: number;
  readonly nextBefore: number;
  /** Compaction's cursor after the block: no height from this one on reads an entry below it. */
  readonly compactFrom: number;
  readonly deactivated: readonly number[];
  readonly records: ReadonlyMap<string, IndexRecord | undefined>;
}

/** u64 nextBefore ‖ u64 compactFrom ‖ u32 count ‖ count × u64 position ‖ then per key: u16 length ‖ key ‖ u32 record length (0: absent) ‖ the index record (up to 8 + 32 + 65,535 bytes). */
function encodeUndo(u: LogUndo): Uint8Array {
  const recs: [string, Uint8Array | undefined][] = [...u.records].map(([k, r]) => [k, r === undefined ? undefined : encodeIndex(r)]);
  let len = 20 + 8 * u.deactivated.length;
  for (const [k, r] of recs) len += 6 + k.length + (r?.length ?? 0);
  const out = Buffer.allocUnsafe(len);
  writeU64be(out, 0, u.nextBefore);
  writeU64be(out, 8, u.compactFrom);
  out.writeUInt32BE(u.deactivated.length, 16);
  let at = 20;
  for (const p of u.deactivated) {
    writeU64be(out, at, p);
    at += 8;
  }
  for (const [k, r] of recs) {
    out.writeUInt16BE(k.length, at);
    out.write(k, at + 2, 'latin1');
    at += 2 + k.length;
    out.writeUInt32BE(r?.length ?? 0, at);
    at += 4;
    if (r) {
      out.set(r, at);
      at += r.length;
    }
  }
  return out;
}

function decodeUndo(b: Uint8Array, height: number): LogUndo {
  const fail = (): never => {
    throw new StateStorageError(`the stored state is corrupt: the entry log's undo record of height ${height} cannot be read`);
  };
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < 20) fail();
  const nextBefore = readSafeU64be(buf, 0);
  const compactFrom = readSafeU64be(buf, 8);
  const n = buf.readUInt32BE(16);
  let at = 20;
  if (at + 8 * n > buf.length) fail();
  const deactivated: number[] = [];
  for (let i = 0; i < n; i++, at += 8) deactivated.push(readSafeU64be(buf, at));
  const records = new Map<string, IndexRecord | undefined>();
  while (at < buf.length) {
    if (at + 2 > buf.length) fail();
    const kl = buf.readUInt16BE(at);
    if (at + 6 + kl > buf.length) fail();
    const k = buf.toString('latin1', at + 2, at + 2 + kl);
    at += 2 + kl;
    const rl = buf.readUInt32BE(at);
    at += 4;
    if (at + rl > buf.length) fail();
    records.set(k, rl === 0 ? undefined : decodeIndex(buf.subarray(at, at + rl), k));
    at += rl;
  }
  return { height, nextBefore, compactFrom, deactivated, records };
}

/** The plan of a log's first commit: the sentinel, then the keys written (deletes are of nothing), in key order, each linked to the next. */
function firstPlan(writes: ReadonlyMap<string, Uint8Array | null>): EntryPlan {
  const keys: string[] = [];
  for (const [k, v] of writes) {
    if (k === SENTINEL_KEY) throw new StateStorageError('a state key cannot be empty');
    if (v !== null) keys.push(k);
  }
  keys.sort();
  const appends: LogEntry[] = [{ key: SENTINEL_KEY, valueHash: stateValueHash(new Uint8Array(0)), next: keys[0] ?? SENTINEL_KEY }];
  keys.forEach((k, i) => appends.push({ key: k, valueHash: writes.get(k)!, next: keys[i + 1] ?? SENTINEL_KEY }));
  const index = new Map<string, IndexRecord | null>();
  appends.forEach((e, position) => index.set(e.key, { position, valueHash: e.valueHash, next: e.next }));
  return { appends, deactivate: [], index, state: { next: appends.length, compactFrom: 0, active: appends.length }, moved: 0 };
}

/**
 * The entry log as a snapshot carries it (vm/state/snapshot.ts), since its root depends on where
 * each entry was written, not only on the state: the log's head (`next`), its compaction cursor,
 * the first position it ships (`from`, a twig boundary: every entry below it is inactive), the
 * entry roots of the twigs below `from`, then every position from `from` on, in order: an active
 * entry with its value, an inactive one, or (pruned already) just its hash.
 */
export interface LogSnapshotHead {
  readonly next: number;
  readonly compactFrom: number;
  readonly from: number;
}

export type LogSnapshotItem =
  | { readonly kind: 'roots'; readonly roots: readonly Uint8Array[] }
  | { readonly kind: 'active'; readonly record: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: 'inactive'; readonly record: Uint8Array }
  | { readonly kind: 'hash'; readonly hash: Uint8Array };

/** A block's commit made ready: its records, and what `apply` takes once they landed. */
export interface StagedLog {
  readonly ops: StateOps;
  readonly height: number;
  readonly root: Uint8Array;
  readonly tree: TwigTree;
  readonly plan: EntryPlan;
  readonly keys: StagedIndex;
  readonly undo: LogUndo;
  readonly prunedTo: number;
}

export class EntryStore implements EntryReader, TwigStore {
  /** Index records and entries read from storage (cache misses) since the store was opened. */
  reads = 0;
  /** Index records and entries read by `prefetch` since the store was opened (not counted in `reads`). */
  prefetched = 0;
  /** Index records by key; ABSENT_RECORD for a key known to be absent. */
  private readonly records: LRUCache<string, IndexRecord>;
  /**
   * Entries at and after compaction's cursor, read by `prefetch` for the next block's compaction
   * (a stored position's entry never changes); those behind the cursor are dropped at each commit.
   */
  private readonly ahead = new Map<number, LogEntry>();
  /** The bytes of the keys `ahead` holds (each entry's key and next key). */
  private aheadBytes = 0;
  /** The undo records of the last `history` blocks, oldest first. */
  private past: LogUndo[] = [];
  /** Heights below the window whose undo records are still stored (a window made smaller), deleted a few a block. */
  private staleUndo: number[] = [];
  /** The last tree `treeAt` rewound (proofs of one height come in runs); dropped at each commit. */
  private rewound: { height: number; tree: TwigTree } | undefined;

  private constructor(
    private readonly storage: StateStorage,
    private _tree: TwigTree,
    private meta: Meta,
    private readonly keys: KeyIndex,
    cacheBytes: number,
    /** Heights below the head whose state stays provable. */
    readonly history: number,
  ) {
    this.records = new LRUCache({ maxSize: Math.max(4096, cacheBytes), sizeCalculation: (r, k) => 120 + k.length + r.next.length });
  }

  /** A log with nothing stored: the first commit writes its sentinel. */
  static empty(storage: StateStorage, cacheBytes = 16 << 20, history = 16): EntryStore {
    return new EntryStore(storage, TwigTree.empty(), { height: -1, next: 0, compactFrom: 0, active: 0, prunedTo: 0, nextPageId: 1, root: TwigTree.empty().root }, KeyIndex.empty(storage, cacheBytes / 2), cacheBytes / 2, history);
  }

  /**
   * Fills an empty log with `entries` (ascending keys, each once, none empty) as the state at
   * `height`: the sentinel, then one entry per key in key order, each linked to the next, so the
   * log is built by appends alone, `stepKeys` at a time through `write` (which must make what it
   * writes readable through `storage` before it returns). The meta record comes last, alone: a
   * load cut short leaves no log, but leaves its records: the caller clears the log's tables and
   * the key pages before loading again (as StoredState.load clears its own), and a storage that
   * holds a log is refused. Memory is bounded by the step, not the state. Returns the store
   * opened on what was written.
   */
  static async load(
    storage: StateStorage,
    entries: AsyncIterable<readonly [key: string, value: Uint8Array]>,
    height: number,
    write: (ops: StateOps) => Promise<void>,
    opts: { stepKeys?: number; cacheBytes?: number; history?: number } = {},
  ): Promise<EntryStore> {
    if (storage.get(metaKey()) !== undefined) throw new StateStorageError('a bulk load is for a storage that holds no entry log');
    const stepKeys = opts.stepKeys ?? 100_000;
    const cacheBytes = opts.cacheBytes ?? 16 << 20;
    const keys = KeyIndex.empty(storage, cacheBytes / 2);
    let tree = TwigTree.empty();
    let ops: StateOps = [];
    let hashes: Uint8Array[] = [];
    let added: string[] = [];
    const changed = new Set<number>();
    let position = 0;
    let pending: LogEntry = { key: SENTINEL_KEY, valueHash: stateValueHash(new Uint8Array(0)), next: SENTINEL_KEY };
    const emit = (e: LogEntry): void => {
      const rec = encodeEntry(e);
      hashes.push(stateEntryHashOf(rec));
      ops.push([entryKey(position), rec], [indexKey(e.key), encodeIndex({ position, valueHash: e.valueHash, next: e.next })]);
      if (e.key !== SENTINEL_KEY) added.push(e.key);
      position++;
    };
    const flush = async (): Promise<void> => {
      const u = tree.update({ appends: hashes, deactivate: [] });
      tree = u.tree;
      for (const t of u.changed) changed.add(t);
      for (const f of u.filled) ops.push([twigTreeKey(f.twig), f.nodes]);
      const staged = keys.stage(added, []);
      for (const op of staged.ops) ops.push(op);
      await write(ops);
      storage.refresh();
      keys.applyStaged(staged);
      ops = [];
      hashes = [];
      added = [];
    };
    let count = 0;
    for await (const [k, v] of entries) {
      if (k === SENTINEL_KEY) throw new StateStorageError('a state key cannot be empty');
      if (k <= pending.key && pending.key !== SENTINEL_KEY) throw new StateStorageError(`the entries to load are not in ascending key order (at key ${toHex(fromKey(k))})`);
      emit({ ...pending, next: k });
      pending = { key: k, valueHash: stateValueHash(v), next: SENTINEL_KEY };
      count++;
      if (hashes.length >= stepKeys) await flush();
    }
    emit(pending);
    await flush();
    const twigOps: StateOps = [];
    for (const t of [...changed].sort((a, b) => a - b)) {
      const { entryRoot, bits } = tree.twigRecord(t);
      const rec = new Uint8Array(HASH_LENGTH + TWIG_BITS_BYTES);
      rec.set(entryRoot, 0);
      rec.set(bits, HASH_LENGTH);
      twigOps.push([twigKey(t), rec]);
    }
    await write(twigOps);
    const meta: Meta = { height, next: position, compactFrom: 0, active: count + 1, prunedTo: 0, nextPageId: keys.nextPageId, root: tree.root };
    await write([[metaKey(), encodeMeta(meta)]]);
    storage.refresh();
    const store = new EntryStore(storage, tree, meta, keys, cacheBytes / 2, opts.history ?? 16);
    return store;
  }

  /** The log as stored; `directory`: the key pages' directory records (keyindex.ts), as StoredState.open takes them. */
  static open(storage: StateStorage, directory: Iterable<readonly [Uint8Array, Uint8Array]>, cacheBytes = 16 << 20, history = 16): EntryStore {
    const m = storage.get(metaKey());
    if (m === undefined) throw new StateStorageError('the stored state has no entry log');
    const meta = decodeMeta(m);
    const twigs = Math.ceil(meta.next / TWIG_ENTRIES);
    const records = function* (): Generator<{ entryRoot: Uint8Array; bits: Uint8Array }> {
      for (let t = 0; t < twigs; t++) {
        const r = storage.get(twigKey(t));
        if (r === undefined || r.length !== HASH_LENGTH + TWIG_BITS_BYTES) throw new StateStorageError(`the stored state is corrupt: twig ${t} has no record`);
        yield { entryRoot: r.subarray(0, HASH_LENGTH), bits: r.subarray(HASH_LENGTH) };
      }
    };
    const tail: Uint8Array[] = [];
    for (let p = meta.next - (meta.next % TWIG_ENTRIES); p < meta.next; p++) {
      const e = storage.get(entryKey(p));
      if (e === undefined) throw new StateStorageError(`the stored state is corrupt: entry ${p} is missing`);
      decodeEntry(e, p);
      tail.push(stateEntryHashOf(e));
    }
    let tree: TwigTree;
    try {
      tree = TwigTree.restore(meta.next, records(), tail);
    } catch (e) {
      if (e instanceof StateStorageError) throw e;
      throw new StateStorageError(`the stored state is corrupt: ${(e as Error).message}`);
    }
    if (!equalBytes(tree.root, meta.root)) throw new StateStorageError(`the entry log's records give the root ${toHex(tree.root)}, not the stored ${toHex(meta.root)}`);
    const store = new EntryStore(storage, tree, meta, KeyIndex.fromDirectory(storage, directory, meta.nextPageId, cacheBytes / 2), cacheBytes / 2, history);
    for (let h = Math.max(0, meta.height - history + 1); h <= meta.height; h++) {
      const u = storage.get(undoKey(h));
      if (u !== undefined) store.past.push(decodeUndo(u, h));
      else store.past = [];
    }
    // Undo records below the window: a node that ran with a longer one left them (its blocks delete
    // only the one falling out of the window now); the next commits delete them.
    for (let h = meta.height - history; h >= 0 && storage.get(undoKey(h)) !== undefined; h--) store.staleUndo.push(h);
    return store;
  }

  get root(): Uint8Array {
    return this._tree.root;
  }

  get height(): number {
    return this.meta.height;
  }

  get state(): LogState {
    return this.meta;
  }

  get tree(): TwigTree {
    return this._tree;
  }

  /** Entries below this position are deleted. */
  get prunedTo(): number {
    return this.meta.prunedTo;
  }

  get nextPageId(): number {
    return this.keys.nextPageId;
  }

  /** What the index records' cache holds: records, and the bytes they are counted as. */
  get cached(): { records: number; bytes: number } {
    return { records: this.records.size, bytes: this.records.calculatedSize };
  }

  /** The key pages (the state's key order, for scans and predecessors): the log keeps them in its commits. */
  get keyIndex(): KeyIndex {
    return this.keys;
  }

  /**
   * Reads the index records of `keys` that the cache lacks, off the main thread (`getMany`: the
   * storage's getManyAsync), so that the block's planner finds them in memory; absent keys are
   * remembered as absent. Advisory: what lands after a commit applied is dropped. Returns how many
   * records were read.
   */
  async prefetch(keys: readonly string[], getMany: (keys: readonly Uint8Array[]) => Promise<(Uint8Array | undefined)[]>): Promise<number> {
    const want = keys.filter((k) => k !== SENTINEL_KEY && !this.records.has(k));
    const moving = this.compactionAhead(keys.length);
    if (want.length === 0 && moving.length === 0) return 0;
    const height = this.meta.height;
    const got = await getMany([...want.map(indexKey), ...moving.map(entryKey)]);
    if (this.meta.height !== height) return 0;
    want.forEach((k, i) => {
      const b = got[i];
      if (!this.records.has(k)) this.records.set(k, b === undefined ? ABSENT_RECORD : decodeIndex(b, k));
    });
    moving.forEach((p, i) => {
      const b = got[want.length + i];
      if (b === undefined || this.aheadBytes >= MAX_AHEAD_BYTES) return;
      const e = decodeEntry(b, p);
      this.ahead.set(p, e);
      this.aheadBytes += e.key.length + e.next.length;
    });
    this.prefetched += want.length + moving.length;
    return want.length + moving.length;
  }

  /**
   * The active positions the next block's compaction may move, if it writes `writes` keys and the
   * log is near or past compaction's threshold (entrylog.ts planEntries: a block of n writes
   * appends at most 2n entries, and compaction walks twice the block's appends and COMPACT_SLACK),
   * that `ahead` lacks; at most MAX_AHEAD positions walked.
   */
  private compactionAhead(writes: number): number[] {
    const { next, compactFrom, active } = this.meta;
    if (next === 0 || next + 2 * writes - compactFrom <= 2 * Math.max(0, active - writes) + TWIG_ENTRIES) return [];
    const end = Math.min(next, compactFrom + Math.min(MAX_AHEAD, 4 * writes + COMPACT_SLACK));
    const out: number[] = [];
    for (let p = compactFrom; p < end; p++) if (!this.ahead.has(p) && this._tree.isActive(p)) out.push(p);
    return out;
  }

  // EntryReader, over what is committed.
  record(key: string): IndexRecord | undefined {
    let r = this.records.get(key);
    if (r === undefined) {
      const b = this.storage.get(indexKey(key));
      this.reads++;
      r = b === undefined ? ABSENT_RECORD : decodeIndex(b, key);
      this.records.set(key, r);
    }
    return r === ABSENT_RECORD ? undefined : r;
  }

  below(key: string): readonly [string, IndexRecord] {
    const k = key === SENTINEL_KEY ? undefined : (this.keys.below(key) ?? SENTINEL_KEY);
    if (k === undefined) throw new RangeError('no key is below the sentinel');
    const r = this.record(k);
    if (r === undefined) throw new StateStorageError(`the stored state is corrupt: the key ${toHex(fromKey(k))} has no index record`);
    return [k, r];
  }

  entryAt(position: number): LogEntry {
    const ahead = this.ahead.get(position);
    if (ahead !== undefined) return ahead;
    const b = this.storage.get(entryKey(position));
    this.reads++;
    if (b === undefined) throw new StateStorageError(`the stored state is corrupt: entry ${position} is missing`);
    return decodeEntry(b, position);
  }

  isActive(position: number): boolean {
    return this._tree.isActive(position);
  }

  // TwigStore.
  twigNodes(twig: number): Uint8Array | undefined {
    const b = this.storage.get(twigTreeKey(twig));
    return b !== undefined && b.length === TWIG_NODES_BYTES ? b : undefined;
  }

  /**
   * The records of height `height`'s writes (`null` deletes). Changes nothing: `apply` takes the
   * result once the records are in storage.
   */
  stage(writes: ReadonlyMap<string, Uint8Array | null>, height: number): StagedLog {
    if (height !== this.meta.height + 1) throw new StateStorageError(`the entry log is at height ${this.meta.height}; it cannot take height ${height}`);
    const hashed = new Map<string, Uint8Array | null>();
    for (const [k, v] of writes) hashed.set(k, v === null ? null : stateValueHash(v));
    // The first commit lays the log out as a bulk load does (`load`): the sentinel, then the keys
    // in order, each linked to the next. Its root then depends only on the state, so a genesis
    // written by blocks and one written by the bulk load have the same root.
    const first = this.meta.next === 0;
    const plan = first ? firstPlan(hashed) : planEntries(this, this.meta, hashed);
    const ops: StateOps = [];
    const hashes: Uint8Array[] = [];
    let p = this.meta.next;
    for (const e of plan.appends) {
      const rec = encodeEntry(e);
      hashes.push(stateEntryHashOf(rec));
      ops.push([entryKey(p++), rec]);
    }
    const u = this._tree.update({ appends: hashes, deactivate: plan.deactivate });
    const index = plan.index;
    // A key compaction moves has its record in the entry moved (the last `moved` appends, from
    // the last `moved` positions deactivated), so its record needs no read.
    const movedFrom = new Map<string, IndexRecord>();
    for (let i = 1; i <= plan.moved; i++) {
      const e = plan.appends[plan.appends.length - i]!;
      movedFrom.set(e.key, { position: plan.deactivate[plan.deactivate.length - i]!, valueHash: e.valueHash, next: e.next });
    }
    const before = (k: string): IndexRecord | undefined => (first ? undefined : (movedFrom.get(k) ?? this.record(k)));
    const adds: string[] = [];
    const dels: string[] = [];
    const replaced = new Map<string, IndexRecord | undefined>();
    for (const [k, r] of index) {
      ops.push([indexKey(k), r === null ? null : encodeIndex(r)]);
      const had = before(k);
      replaced.set(k, had);
      if (k === SENTINEL_KEY) continue;
      if (r === null) dels.push(k);
      else if (had === undefined) adds.push(k);
    }
    const undo: LogUndo = { height, nextBefore: this.meta.next, compactFrom: plan.state.compactFrom, deactivated: plan.deactivate, records: replaced };
    if (this.history > 0) ops.push([undoKey(height), encodeUndo(undo)]);
    if (height - this.history >= 0) ops.push([undoKey(height - this.history), null]);
    for (const h of this.staleUndo.slice(0, STALE_UNDO_PER_BLOCK)) ops.push([undoKey(h), null]);
    const keys = this.keys.stage(adds, dels);
    for (const op of keys.ops) ops.push(op);
    for (const t of u.changed) {
      const { entryRoot, bits } = u.tree.twigRecord(t);
      const rec = new Uint8Array(HASH_LENGTH + TWIG_BITS_BYTES);
      rec.set(entryRoot, 0);
      rec.set(bits, HASH_LENGTH);
      ops.push([twigKey(t), rec]);
    }
    for (const f of u.filled) ops.push([twigTreeKey(f.twig), f.nodes]);
    const prunedTo = this.prune(height, plan.state.compactFrom, 2 * hashes.length + PRUNE_SLACK, ops);
    const root = u.tree.root;
    ops.push([metaKey(), encodeMeta({ ...plan.state, height, root, prunedTo, nextPageId: keys.nextId })]);
    return { ops, height, root, tree: u.tree, plan, keys, undo, prunedTo };
  }

  /**
   * Deletes (in `ops`) the entries no kept height reads, at most `budget` of them: those behind
   * compaction's cursor as it was at the oldest height the window keeps after block `height`
   * (every one of them inactive from then on), and the entry trees of twigs wholly behind it.
   * Returns the new `prunedTo`.
   */
  private prune(height: number, cursorNow: number, budget: number, ops: StateOps): number {
    const from = this.meta.prunedTo;
    let target: number;
    if (this.history === 0) target = cursorNow;
    else {
      const oldest = this.past.find((u) => u.height === height - this.history);
      if (oldest === undefined) return from;
      target = oldest.compactFrom;
    }
    const to = Math.min(target, from + budget);
    if (to <= from) return from;
    for (let p = from; p < to; p++) ops.push([entryKey(p), null]);
    for (let t = Math.floor(from / TWIG_ENTRIES); (t + 1) * TWIG_ENTRIES <= to; t++) ops.push([twigTreeKey(t), null]);
    return to;
  }

  /** Makes a staged commit the log's head, once its records are in storage. */
  apply(s: StagedLog): void {
    if (s.height !== this.meta.height + 1) throw new Error(`a staged commit of height ${s.height} cannot apply to an entry log at ${this.meta.height}`);
    this.storage.refresh();
    this._tree = s.tree;
    this.keys.applyStaged(s.keys);
    for (const [k, r] of s.plan.index) {
      this.records.set(k, r === null ? ABSENT_RECORD : r);
    }
    this.meta = { ...s.plan.state, height: s.height, root: s.root, prunedTo: s.prunedTo, nextPageId: s.keys.nextId };
    this.rewound = undefined;
    for (const [p, e] of this.ahead) {
      if (p >= this.meta.compactFrom) continue;
      this.ahead.delete(p);
      this.aheadBytes -= e.key.length + e.next.length;
    }
    this.staleUndo.splice(0, STALE_UNDO_PER_BLOCK);
    if (this.history > 0) {
      this.past.push(s.undo);
      if (this.past.length > this.history) this.past.splice(0, this.past.length - this.history);
    }
  }

  /** The log's head and compaction cursor at height `h` (the head, or a kept height whose block's undo record is kept), or undefined. */
  cursorAt(h: number): { next: number; compactFrom: number } | undefined {
    if (h === this.meta.height) return { next: this.meta.next, compactFrom: this.meta.compactFrom };
    if (h < this.oldestReadable || h > this.meta.height) return undefined;
    const own = this.past.find((u) => u.height === h);
    return own === undefined ? undefined : { next: this.treeAt(h).next, compactFrom: own.compactFrom };
  }

  /**
   * The log at height `h` as a snapshot carries it (LogSnapshotHead; `value(key)`: the value of an
   * active key at `h`), or undefined when `h` is not one `cursorAt` knows.
   */
  snapshotAt(h: number, value: (key: string) => Uint8Array | undefined): { head: LogSnapshotHead; items: Generator<LogSnapshotItem> } | undefined {
    const st = this.cursorAt(h);
    if (st === undefined) return undefined;
    const tree = this.treeAt(h);
    const prunedTo = this.meta.prunedTo;
    const from = prunedTo - (prunedTo % TWIG_ENTRIES);
    const head: LogSnapshotHead = { next: st.next, compactFrom: st.compactFrom, from };
    const storage = this.storage;
    const twigNodes = (t: number): Uint8Array | undefined => this.twigNodes(t);
    function* items(): Generator<LogSnapshotItem> {
      let roots: Uint8Array[] = [];
      for (let t = 0; t < from / TWIG_ENTRIES; t++) {
        roots.push(tree.twigRecord(t).entryRoot.slice());
        if (roots.length === 1024) {
          yield { kind: 'roots', roots };
          roots = [];
        }
      }
      if (roots.length) yield { kind: 'roots', roots };
      let nodes: Uint8Array | undefined;
      for (let p = from; p < st!.next; p++) {
        if (p < prunedTo) {
          nodes ??= twigNodes(Math.floor(p / TWIG_ENTRIES));
          if (nodes === undefined) throw new StateStorageError(`the stored state is corrupt: the entry tree of twig ${Math.floor(p / TWIG_ENTRIES)} is missing`);
          const at = (TWIG_ENTRIES + (p % TWIG_ENTRIES)) * HASH_LENGTH;
          yield { kind: 'hash', hash: nodes.slice(at, at + HASH_LENGTH) };
          continue;
        }
        const record = storage.get(entryKey(p));
        if (record === undefined) throw new StateStorageError(`the stored state is corrupt: entry ${p} is missing`);
        if (!tree.isActive(p)) {
          yield { kind: 'inactive', record };
          continue;
        }
        const key = decodeEntry(record, p).key;
        const v = key === SENTINEL_KEY ? new Uint8Array(0) : value(key);
        if (v === undefined) throw new StateStorageError(`the stored state is corrupt: the active entry ${p} names ${toHex(fromKey(key))}, which has no value at height ${h}`);
        yield { kind: 'active', record, value: v };
      }
    }
    return { head, items: items() };
  }

  /**
   * Fills an empty log from a snapshot's log (`snapshotAt`'s head and items) as the state at
   * `height`, checked as it goes (records well formed, values that hash to their entries, nothing
   * active below `from` or `compactFrom`), and at the end against `expectRoot` before its meta
   * record is written: a root that differs leaves no log (and what was written is the caller's to
   * clear, as for `load`). `write` takes the values of the active keys and the records, a step at a
   * time, and must make them readable through `storage` before it returns. The compaction cursor is
   * not in the root: a wrong one shows at the next block, whose root the node then cannot agree on.
   */
  static async importSnapshot(
    storage: StateStorage,
    height: number,
    head: LogSnapshotHead,
    items: AsyncIterable<LogSnapshotItem>,
    write: (values: Map<string, Uint8Array>, ops: StateOps) => Promise<void>,
    opts: { expectRoot?: Uint8Array; stepKeys?: number; cacheBytes?: number } = {},
  ): Promise<{ root: Uint8Array; keys: number; nextPageId: number }> {
    if (storage.get(metaKey()) !== undefined) throw new StateStorageError('a snapshot import is for a storage that holds no entry log');
    const { next, compactFrom, from } = head;
    const bad = (what: string): never => {
      throw new StateStorageError(`the snapshot's entry log ${what}`);
    };
    if (![next, compactFrom, from].every((n) => Number.isSafeInteger(n) && n >= 0) || from % TWIG_ENTRIES !== 0 || from > compactFrom || compactFrom > next || next === 0 || next > MAX_POSITIONS) bad(`head is inconsistent (next ${next}, compactFrom ${compactFrom}, from ${from})`);
    const stepKeys = opts.stepKeys ?? 100_000;
    const keys = KeyIndex.empty(storage, (opts.cacheBytes ?? 16 << 20) / 2);
    const zeroBits = new Uint8Array(TWIG_BITS_BYTES);
    let values = new Map<string, Uint8Array>();
    let ops: StateOps = [];
    let added: string[] = [];
    const flush = async (): Promise<void> => {
      const staged = keys.stage(added, []);
      for (const op of staged.ops) ops.push(op);
      await write(values, ops);
      storage.refresh();
      keys.applyStaged(staged);
      values = new Map();
      ops = [];
      added = [];
    };
    const twigRecord = (entryRoot: Uint8Array, bits: Uint8Array): Uint8Array => {
      const rec = new Uint8Array(HASH_LENGTH + TWIG_BITS_BYTES);
      rec.set(entryRoot, 0);
      rec.set(bits, HASH_LENGTH);
      return rec;
    };
    let twig = 0;
    let position = from;
    let leaves: Uint8Array[] = [];
    let bits = new Uint8Array(TWIG_BITS_BYTES);
    let active = 0;
    let count = 0;
    let prunedTo = from;
    let records = false;
    const endTwig = (): void => {
      const nodes = twigEntryTree(leaves);
      const t = Math.floor((position - 1) / TWIG_ENTRIES);
      ops.push([twigKey(t), twigRecord(nodes.subarray(HASH_LENGTH, 2 * HASH_LENGTH), bits)]);
      if (leaves.length === TWIG_ENTRIES) ops.push([twigTreeKey(t), nodes]);
      leaves = [];
      bits = new Uint8Array(TWIG_BITS_BYTES);
    };
    for await (const item of items) {
      if (item.kind === 'roots') {
        if (position !== from || leaves.length) bad('has twig roots after its entries');
        for (const r of item.roots) {
          if (r.length !== HASH_LENGTH) bad(`root of twig ${twig} is not ${HASH_LENGTH} bytes`);
          if (twig >= from / TWIG_ENTRIES) bad(`has more twig roots than the ${from / TWIG_ENTRIES} below position ${from}`);
          ops.push([twigKey(twig++), twigRecord(r, zeroBits)]);
        }
        if (ops.length >= 4 * stepKeys) await flush();
        continue;
      }
      if (twig !== from / TWIG_ENTRIES) bad(`has ${twig} twig roots below position ${from}, not ${from / TWIG_ENTRIES}`);
      if (position >= next) bad(`has more than the ${next - from} positions from ${from} to ${next}`);
      let hash: Uint8Array;
      if (item.kind === 'hash') {
        if (item.hash.length !== HASH_LENGTH) bad(`hash at ${position} is not ${HASH_LENGTH} bytes`);
        if (records || position >= compactFrom) bad(`has a pruned position at ${position}, after its stored entries or at or above its compaction cursor ${compactFrom}`);
        hash = item.hash;
        prunedTo = position + 1;
      } else {
        records = true;
        let e: LogEntry;
        try {
          e = decodeEntry(item.record, position);
        } catch {
          return bad(`entry at ${position} cannot be read`);
        }
        hash = stateEntryHashOf(item.record);
        ops.push([entryKey(position), item.record]);
        if (item.kind === 'active') {
          if (position < compactFrom) bad(`has an active entry at ${position}, below its compaction cursor ${compactFrom}`);
          if (!equalBytes(stateValueHash(item.value), e.valueHash)) bad(`entry ${position}'s value does not hash to the entry's value hash`);
          const i = position % TWIG_ENTRIES;
          bits[i >> 3] |= 1 << (i & 7);
          ops.push([indexKey(e.key), encodeIndex({ position, valueHash: e.valueHash, next: e.next })]);
          active++;
          if (e.key !== SENTINEL_KEY) {
            values.set(e.key, item.value);
            added.push(e.key);
            count++;
          }
        }
      }
      leaves.push(hash);
      position++;
      if (position % TWIG_ENTRIES === 0) endTwig();
      if (added.length >= stepKeys || ops.length >= 4 * stepKeys) await flush();
    }
    if (twig !== from / TWIG_ENTRIES) bad(`has ${twig} twig roots below position ${from}, not ${from / TWIG_ENTRIES}`);
    if (position !== next) bad(`ends at position ${position}, not at its head ${next}`);
    if (leaves.length) endTwig();
    await flush();
    // The active entries form the list a log's do: from the sentinel, each key linked to the next
    // one in key order, each key once (a key active twice would leave fewer keys than entries).
    const linkOf = (k: string): string => {
      const b = storage.get(indexKey(k));
      return b === undefined ? bad(`has no active entry for ${k === SENTINEL_KEY ? 'the sentinel' : toHex(fromKey(k))}`) : decodeIndex(b, k).next;
    };
    let link = linkOf(SENTINEL_KEY);
    let listed = 0;
    for (let after: string | undefined; ; ) {
      const page = keys.range('', after, 1000);
      for (const k of page) {
        if (link !== k) bad(`links ${link === SENTINEL_KEY ? 'to the end' : toHex(fromKey(link))} where the next key is ${toHex(fromKey(k))}`);
        link = linkOf(k);
        listed++;
      }
      if (page.length < 1000) break;
      after = page[page.length - 1];
    }
    if (link !== SENTINEL_KEY) bad(`links its last key to ${toHex(fromKey(link))}, which is not active`);
    if (listed + 1 !== active) bad(`has ${active} active entries for ${listed} keys and the sentinel (a key active twice?)`);
    // The root, from what was written (as a start-up computes it).
    const twigs = Math.ceil(next / TWIG_ENTRIES);
    const twigRecords = function* (): Generator<{ entryRoot: Uint8Array; bits: Uint8Array }> {
      for (let t = 0; t < twigs; t++) {
        const r = storage.get(twigKey(t))!;
        yield { entryRoot: r.subarray(0, HASH_LENGTH), bits: r.subarray(HASH_LENGTH) };
      }
    };
    const tail: Uint8Array[] = [];
    for (let p = next - (next % TWIG_ENTRIES); p < next; p++) {
      const e = storage.get(entryKey(p));
      if (e === undefined) bad(`has no entry at ${p}, in its youngest twig`);
      tail.push(stateEntryHashOf(e!));
    }
    let tree: TwigTree;
    try {
      tree = TwigTree.restore(next, twigRecords(), tail);
    } catch (e) {
      return bad(`cannot be read: ${(e as Error).message}`);
    }
    if (opts.expectRoot && !equalBytes(tree.root, opts.expectRoot)) throw new StateStorageError(`the snapshot's entry log hashes to ${toHex(tree.root)}, not the expected state root ${toHex(opts.expectRoot)}`);
    await write(new Map(), [[metaKey(), encodeMeta({ height, next, compactFrom, active, prunedTo, nextPageId: keys.nextPageId, root: tree.root })]]);
    storage.refresh();
    return { root: tree.root, keys: count, nextPageId: keys.nextPageId };
  }

  /** The oldest height whose state is still provable (the head's, with no history). */
  get oldestReadable(): number {
    return Math.max(0, this.meta.height - this.past.length);
  }

  /** The index record of `key` at height `h` (in the window). */
  recordAt(h: number, key: string): IndexRecord | undefined {
    let r = this.record(key);
    for (let i = this.past.length - 1; i >= 0 && this.past[i]!.height > h; i--) {
      const u = this.past[i]!;
      if (u.records.has(key)) r = u.records.get(key);
    }
    return r;
  }

  /** The tree at height `h` (in the window): the head's, rewound through the blocks after it. */
  treeAt(h: number): TwigTree {
    if (h === this.meta.height) return this._tree;
    if (this.rewound?.height === h) return this.rewound.tree;
    const after = this.past.filter((u) => u.height > h);
    const tree = this._tree.rewind(after[0]!.nextBefore, after.flatMap((u) => u.deactivated), this);
    this.rewound = { height: h, tree };
    return tree;
  }

  /**
   * A proof of `key` at height `h`, against that height's root (the last `history` heights and
   * the head); undefined for a height outside the window.
   */
  proofAt(h: number, key: Uint8Array): { value: 'present' | 'absent'; root: Uint8Array; proof: EntryProof } | undefined {
    if (!Number.isSafeInteger(h) || h < this.oldestReadable || h > this.meta.height) return undefined;
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    if (k === SENTINEL_KEY) throw new RangeError('the empty key is the sentinel: it has no proof');
    let r = this.recordAt(h, k);
    const present = r !== undefined;
    if (r === undefined) {
      // The key just below at h: from the head's predecessor, back over keys inserted since
      // (absent at h), then forward along h's list over keys deleted since (absent at the head).
      let p = this.keys.below(k) ?? SENTINEL_KEY;
      let pr = this.recordAt(h, p);
      while (pr === undefined) {
        p = this.keys.below(p) ?? SENTINEL_KEY;
        pr = this.recordAt(h, p);
      }
      while (pr.next !== SENTINEL_KEY && pr.next < k) {
        p = pr.next;
        const q = this.recordAt(h, p);
        if (q === undefined) throw new StateStorageError(`the stored state is corrupt: the list at height ${h} names ${toHex(fromKey(p))}, which has no record`);
        pr = q;
      }
      r = pr;
    }
    const tree = this.treeAt(h);
    const e = this.entryAt(r.position);
    return { value: present ? 'present' : 'absent', root: tree.root, proof: { entry: { key: fromKey(e.key), valueHash: e.valueHash, next: fromKey(e.next) }, ...tree.path(r.position, this) } };
  }

  /** A proof of `key` at the head: its own entry when present, the one below it when absent. */
  proof(key: Uint8Array): { value: 'present' | 'absent'; proof: EntryProof } {
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    if (k === SENTINEL_KEY) throw new RangeError('the empty key is the sentinel: it has no proof');
    const own = this.record(k);
    const r = own ?? this.below(k)[1];
    const e = this.entryAt(r.position);
    return { value: own ? 'present' : 'absent', proof: { entry: { key: fromKey(e.key), valueHash: e.valueHash, next: fromKey(e.next) }, ...this._tree.path(r.position, this) } };
  }
}
