/**
 * The committed state as a node keeps it: on disk, with bounded caches in memory.
 *
 * - Values: the head's value of each key, stored by the chain store beside the block (one record
 *   per key), read through an LRU cache that also remembers absent keys.
 * - The commitment, one of two (the chain's genesis chooses, `stateCommitment`; the meta record's
 *   format says which a home holds):
 *   - `tree` (format 1): disktree.ts, the sparse Merkle tree's nodes one record each, keyed by
 *     the height that made them; the root record of every kept height.
 *   - `entries` (format 2): entrystore.ts, the entry log (docs/state-entry-log.md), which keeps
 *     its own recent heights and prunes itself; its proofs are format 2.
 * - Key order, for scans: keyindex.ts, sorted pages of keys (kept by the entry log's commits when
 *   it is the commitment).
 * - Recent heights: per block, what its writes replaced (its undo set), kept in memory and on disk
 *   for `history` blocks; a read at height h looks through the undo sets of h+1 … head, then the
 *   head. A proof at h walks h's tree, whose nodes stay stored until pruned.
 * - Pruning: the nodes a block replaced (its stale list) are deleted, with its undo set and the
 *   root before it, once it falls out of the window; at most PRUNE_PER_BLOCK blocks per commit.
 *
 * A commit is staged (`stage`: every record it writes or deletes, without changing anything),
 * written by the caller in the block's one atomic batch, then applied (`apply`). After a crash the
 * store holds the records of the last batch that landed, and `open` reads only the meta record,
 * the key directory, the head's root and the undo sets of the window.
 */
import { LRUCache } from 'lru-cache';
import { ENTRY_PROOF_FORMAT, HASH_LENGTH, STATE_PROOF_FORMAT, asBytes, asList, asSafeUint, decodeList, equalBytes, fromKey, rlpDecode, rlpEncode, statePath, stateValueHash, toKey, toHex, type VersionedStateProof } from '../../chain/index.js';
import { DiskTree, NodeStore, PREFETCH_PART_MIN, PREFETCH_PARTS, TreeBuilder, nodeKey, type PersistedTree } from './disktree.js';
import { EntryStore, type LogSnapshotHead, type LogSnapshotItem, type StagedLog } from './entrystore.js';
import { KeyIndex, type StagedIndex } from './keyindex.js';
import { checkScanLimit, mergeScan, prefixEnd, type OrderedReader, type ScanOptions, type WriteSet } from './overlay.js';
import { pathOf, type SmtUpdateStats, type StateTree } from './smt.js';
import { StateStorageError, StateTable, tableKey, u64, type StateOps, type StateStorage } from './storage.js';
import type { ReadOnlyState } from './world.js';

/** The layout's version, first in the meta record: a node refuses a layout it does not know. 1: the sparse Merkle tree on disk; 2: the entry log. */
export const STATE_FORMAT = 1;
export const ENTRY_LOG_STATE_FORMAT = 2;

/** The state commitment a chain's headers carry: the sparse Merkle tree (proof format 1) or the entry log (proof format 2). */
export type StateCommitment = 'tree' | 'entries';
/** Blocks pruned by one commit at most (a window made smaller is caught up over several). */
export const PRUNE_PER_BLOCK = 64;
const ID_LENGTH = 12;
const ABSENT: unique symbol = Symbol('absent');

export interface StoredStateOptions {
  /** How many heights below the head stay readable and provable; 0: only the head. */
  history: number;
  /** Bytes of memory for the caches of values, tree nodes and key pages together. */
  cacheBytes: number;
  /** The commitment of a new state (`empty`); a stored one says its own. Default `tree`. */
  commitment?: StateCommitment;
}

export const defaultStoredStateOptions: StoredStateOptions = { history: 16, cacheBytes: 64 * 1024 * 1024 };

/** What opening found: the meta record's fields. */
interface Meta {
  format: number;
  height: number;
  size: number;
  nextPageId: number;
  /** The lowest version whose stale nodes are still stored: heights from nextPrune − 1 on have their trees. */
  nextPrune: number;
}

function encodeMeta(m: Meta): Uint8Array {
  return rlpEncode([m.format, m.height, m.size, m.nextPageId, m.nextPrune]);
}

function decodeMeta(bytes: Uint8Array): Meta {
  const what = 'the stored state meta record';
  try {
    const f = asList(rlpDecode(bytes, what), what);
    const format = asSafeUint(f[0], `${what} format`);
    if (format !== STATE_FORMAT && format !== ENTRY_LOG_STATE_FORMAT) throw new StateStorageError(`the stored state has layout ${format}; this node reads layouts ${STATE_FORMAT} and ${ENTRY_LOG_STATE_FORMAT} (a newer node wrote it?)`);
    decodeList(f, 5, what);
    return { format, height: asSafeUint(f[1], `${what} height`), size: asSafeUint(f[2], `${what} size`), nextPageId: asSafeUint(f[3], `${what} next page`), nextPrune: asSafeUint(f[4], `${what} next prune`) };
  } catch (e) {
    if (e instanceof StateStorageError) throw e;
    throw new StateStorageError(`the stored state is corrupt: ${(e as Error).message}`);
  }
}

type Undo = Map<string, Uint8Array | null>;

function encodeUndo(undo: Undo): Uint8Array {
  const items: [Uint8Array, Uint8Array[]][] = [];
  for (const [k, v] of undo) items.push([fromKey(k), v === null ? [] : [v]]);
  return rlpEncode(items);
}

function decodeUndo(bytes: Uint8Array, height: number): Undo {
  const what = `the stored undo set of height ${height}`;
  const undo: Undo = new Map();
  try {
    for (const item of asList(rlpDecode(bytes, what), what)) {
      const [k, v] = decodeList(item, 2, what);
      const present = asList(v, what);
      undo.set(toKey(asBytes(k, what)), present.length ? plain(asBytes(present[0], what)) : null);
    }
  } catch (e) {
    throw new StateStorageError(`the stored state is corrupt: ${(e as Error).message}`);
  }
  return undo;
}

/** A plain Uint8Array view (not a Buffer), so that a module's value.slice() is a copy. */
function plain(v: Uint8Array): Uint8Array {
  return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** `read` of `keys` in up to PREFETCH_PARTS parts at once (as the tree's prefetch reads), the answers in the keys' order. */
async function inParts<K, V>(keys: readonly K[], read: (part: K[]) => Promise<V[]>): Promise<V[]> {
  const size = Math.max(PREFETCH_PART_MIN, Math.ceil(keys.length / PREFETCH_PARTS));
  const parts: Promise<V[]>[] = [];
  for (let i = 0; i < keys.length; i += size) parts.push(read(keys.slice(i, i + size)));
  return (await Promise.all(parts)).flat();
}

const metaKey = (): Uint8Array => tableKey(StateTable.Meta);
const rootKey = (h: number): Uint8Array => tableKey(StateTable.Root, u64(h));
const staleKey = (h: number): Uint8Array => tableKey(StateTable.Stale, u64(h));
const undoKey = (h: number): Uint8Array => tableKey(StateTable.Undo, u64(h));

/**
 * The entry log as the executor sees a commitment (StateTree): the committed head's, and the one a
 * block's writes make from it, which carries the block's staged records (EntryStore.stage: a
 * pure function of the writes and the committed log), so that committing the block stages nothing
 * again. Only the head's updates: a block's tree is committed or dropped, never built on.
 */
export class EntryTree implements StateTree {
  private readonly height: number;

  constructor(
    readonly log: EntryStore,
    readonly staged?: StagedLog,
    /** `changes`: distinct keys written; `hashes`: the values' and the appended entries' hashes (the twigs' inner nodes are not counted). */
    readonly updateStats: SmtUpdateStats = { changes: 0, hashes: 0 },
  ) {
    this.height = staged ? staged.height - 1 : log.height;
  }

  get root(): Uint8Array {
    return this.staged ? this.staged.root : this.log.root;
  }

  updateRaw(writes: ReadonlyMap<string, Uint8Array | null>): EntryTree {
    if (this.staged) throw new Error("an entry-log tree is updated only from the committed head's");
    if (this.log.height !== this.height) throw new Error(`this entry-log tree is of height ${this.height}; the log has moved on to ${this.log.height}`);
    const staged = this.log.stage(writes, this.height + 1);
    let values = 0;
    for (const v of writes.values()) if (v !== null) values++;
    return new EntryTree(this.log, staged, { changes: writes.size, hashes: values + staged.plan.appends.length });
  }
}

/** A commit made ready: the records for the block's batch, and what `apply` does once they land. */
export interface StagedState {
  readonly ops: StateOps;
  readonly height: number;
  readonly writes: WriteSet;
  /** The tree commitment's (format 1): the new tree and its records. */
  readonly tree?: DiskTree;
  readonly persisted?: PersistedTree;
  /** The entry log's (format 2): its staged commit. */
  readonly log?: StagedLog;
  readonly index: StagedIndex;
  readonly undo: Undo;
  readonly size: number;
  readonly nextPrune: number;
}

export class StoredState implements OrderedReader {
  readonly nodes: NodeStore;
  /** The entry log, when it is the commitment (format 2). */
  readonly log: EntryStore | undefined;
  /** Value records read from storage (cache misses) since the state was opened. */
  valueReads = 0;
  /** Value records read by `prefetch` since the state was opened (not counted in `valueReads`). */
  valuesPrefetched = 0;
  private readonly values: LRUCache<string, Uint8Array | typeof ABSENT>;
  private _version = 0;
  private _history: number;
  /** The undo sets of the kept heights, oldest first; `undo[i]` is of height `undoFrom + i`. */
  private undo: Undo[] = [];
  private undoFrom: number;

  private constructor(
    private readonly storage: StateStorage,
    private _tree: DiskTree | EntryTree,
    private readonly index: KeyIndex,
    private readonly meta: Meta,
    nodes: NodeStore,
    opts: StoredStateOptions,
  ) {
    this.nodes = nodes;
    this.log = _tree instanceof EntryTree ? _tree.log : undefined;
    this._history = opts.history;
    this.values = new LRUCache({ maxSize: Math.max(4096, Math.floor(opts.cacheBytes / 4)), sizeCalculation: (v, k) => 80 + k.length + (v === ABSENT ? 0 : v.length + 64) });
    this.undoFrom = meta.height + 1;
  }

  /**
   * What the caches hold (records and the bytes they are counted as, against their shares of
   * cacheBytes: values ¼, tree nodes ½, key pages ¼; with the entry log, its index records ⅜ in
   * place of the tree nodes and key pages ⅜) and the records read from storage (misses)
   * since the state was opened.
   */
  get cacheStats(): Record<'values' | 'nodes' | 'log' | 'pages', { records: number; bytes: number; reads: number; prefetched: number }> {
    const none = { records: 0, bytes: 0, reads: 0, prefetched: 0 };
    return {
      values: { records: this.values.size, bytes: this.values.calculatedSize, reads: this.valueReads, prefetched: this.valuesPrefetched },
      nodes: this.log ? none : { ...this.nodes.cached, reads: this.nodes.reads, prefetched: this.nodes.prefetched },
      log: this.log ? { ...this.log.cached, reads: this.log.reads, prefetched: this.log.prefetched } : none,
      pages: { ...this.index.cached, reads: this.index.reads, prefetched: 0 },
    };
  }

  /** The caches' shares: with the entry log, `log` (its index records and key pages, half each) takes what tree nodes and key pages take with the tree. */
  private static split(opts: StoredStateOptions): { nodes: number; pages: number; log: number } {
    checkHistory(opts.history);
    return { nodes: Math.floor(opts.cacheBytes / 2), pages: Math.floor(opts.cacheBytes / 4), log: Math.floor((opts.cacheBytes * 3) / 4) };
  }

  /** A state with nothing stored: its first commit is genesis (height 0). */
  static empty(storage: StateStorage, opts: StoredStateOptions = defaultStoredStateOptions): StoredState {
    const c = StoredState.split(opts);
    if (opts.commitment === 'entries') {
      const log = EntryStore.empty(storage, c.log, opts.history);
      const meta: Meta = { format: ENTRY_LOG_STATE_FORMAT, height: -1, size: 0, nextPageId: 1, nextPrune: 1 };
      return new StoredState(storage, new EntryTree(log), log.keyIndex, meta, new NodeStore(storage, 0), opts);
    }
    const nodes = new NodeStore(storage, c.nodes);
    const meta: Meta = { format: STATE_FORMAT, height: -1, size: 0, nextPageId: 1, nextPrune: 1 };
    return new StoredState(storage, nodes.empty(), KeyIndex.empty(storage, c.pages), meta, nodes, opts);
  }

  /** The commitment this state keeps (and its headers carry). */
  get commitment(): StateCommitment {
    return this.log ? 'entries' : 'tree';
  }

  /** The commitment a stored state keeps (from its meta record), or undefined when `storage` holds none. */
  static storedCommitment(storage: StateStorage): StateCommitment | undefined {
    const bytes = storage.get(metaKey());
    if (bytes === undefined) return undefined;
    return decodeMeta(bytes).format === ENTRY_LOG_STATE_FORMAT ? 'entries' : 'tree';
  }

  /** Whether `storage` holds a state (a meta record). */
  static exists(storage: StateStorage): boolean {
    return storage.get(metaKey()) !== undefined;
  }

  /**
   * The stored state: reads the meta record, the head's root, the undo sets of the kept heights and
   * the key directory (`directory`: the StateTable.Directory records, read by the caller).
   */
  static open(storage: StateStorage, directory: Iterable<readonly [Uint8Array, Uint8Array]>, opts: StoredStateOptions = defaultStoredStateOptions): StoredState {
    const c = StoredState.split(opts);
    const metaBytes = storage.get(metaKey());
    if (metaBytes === undefined) throw new StateStorageError('the data folder holds no state (no meta record)');
    const meta = decodeMeta(metaBytes);
    let s: StoredState;
    if (meta.format === ENTRY_LOG_STATE_FORMAT) {
      const log = EntryStore.open(storage, directory, c.log, opts.history);
      if (log.height !== meta.height) throw new StateStorageError(`the stored state is of height ${meta.height}, its entry log of ${log.height}: the data folder is damaged`);
      if (log.state.active !== meta.size + 1) throw new StateStorageError(`the stored state holds ${meta.size} keys, its entry log ${log.state.active - 1}: the data folder is damaged`);
      s = new StoredState(storage, new EntryTree(log), log.keyIndex, meta, new NodeStore(storage, 0), opts);
    } else {
      const rootBytes = storage.get(rootKey(meta.height));
      if (rootBytes === undefined) throw new StateStorageError(`the stored state has no root for its head ${meta.height}: the data folder is damaged`);
      const nodes = new NodeStore(storage, c.nodes);
      const index = KeyIndex.fromDirectory(storage, directory, meta.nextPageId, c.pages);
      s = new StoredState(storage, nodes.treeOf(rootBytes), index, meta, nodes, opts);
    }
    // The undo sets of the window that are stored (a node that ran with no history has none).
    const oldest = Math.max(meta.nextPrune, meta.height - opts.history + 1, 1);
    for (let h = meta.height; h >= oldest; h--) {
      const bytes = storage.get(undoKey(h));
      if (bytes === undefined) break;
      s.undo.unshift(decodeUndo(bytes, h));
      s.undoFrom = h;
    }
    return s;
  }

  /** The head's commitment, from which a block's writes make the next (StateTree.updateRaw). */
  get tree(): StateTree {
    return this._tree;
  }

  get root(): Uint8Array {
    return this._tree.root;
  }

  get height(): number {
    return this.meta.height;
  }

  /** Changes with every apply: readers that cache what they read compare it. */
  get version(): number {
    return this._version;
  }

  /** How many keys the state holds. */
  get size(): number {
    return this.meta.size;
  }

  get keyIndex(): KeyIndex {
    return this.index;
  }

  getRaw(key: string): Uint8Array | undefined {
    const hit = this.values.get(key);
    if (hit !== undefined) return hit === ABSENT ? undefined : hit;
    const stored = this.storage.value(key);
    this.valueReads++;
    const v = stored === undefined ? undefined : plain(stored);
    this.values.set(key, v ?? ABSENT);
    return v;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.getRaw(toKey(key));
  }

  /**
   * Warms the caches for a block about to execute (its transactions' likely keys, from the
   * modules' hints: Executor.prefetchKeys): the head values the cache lacks, read off the main
   * thread, and at the same time the tree's nodes on the way to those keys (NodeStore.prefetch),
   * so that the block's synchronous reads and its tree update find them in memory. Advisory: it
   * changes no value anyone reads. Values that land after a commit applied are dropped (they may
   * be of the state before it), and nothing the cache holds is replaced. At most `maxKeys` keys.
   */
  async prefetch(keys: Iterable<string>, maxKeys = 65_536): Promise<{ values: number; nodes: number }> {
    const done = { values: 0, nodes: 0 };
    const { valuesAsync, getManyAsync } = this.storage;
    if (valuesAsync === undefined || getManyAsync === undefined) return done;
    const version = this._version;
    const all: string[] = [];
    const seen = new Set<string>();
    for (const k of keys) {
      if (all.length >= maxKeys) break;
      if (seen.has(k)) continue;
      seen.add(k);
      all.push(k);
    }
    const want = all.filter((k) => !this.values.has(k));
    const values = async (): Promise<void> => {
      if (want.length === 0) return;
      const got = await inParts(want, (part) => valuesAsync.call(this.storage, part));
      if (this._version !== version) return;
      got.forEach((v, i) => {
        const k = want[i]!;
        if (!this.values.has(k)) this.values.set(k, v === undefined ? ABSENT : plain(v));
      });
      done.values = want.length;
      this.valuesPrefetched += want.length;
    };
    // The values and the tree's nodes (or the entry log's index records) are read at once: neither needs the other.
    const getMany = (ks: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> => getManyAsync.call(this.storage, ks);
    const nodes = this._tree instanceof EntryTree ? this._tree.log.prefetch(all, (ks) => inParts(ks, getMany)) : this._tree.prefetch(all.map(pathOf), (ks) => getMany(ks), 4 * maxKeys);
    [, done.nodes] = await Promise.all([values(), nodes]);
    return done;
  }

  scan(prefix: string, opts: ScanOptions): [string, Uint8Array][] {
    checkScanLimit(opts.limit);
    return this.index.range(prefix, opts.after, opts.limit).map((k) => {
      const v = this.getRaw(k);
      if (v === undefined) throw new StateStorageError(`the stored state is corrupt: key ${toHex(fromKey(k))} is in the key index but has no value`);
      return [k, v];
    });
  }

  /** Keeps the state of the last `blocks` heights below the head (from the next commit on; fewer are dropped now). */
  set history(blocks: number) {
    checkHistory(blocks);
    if (this.log && blocks !== this.log.history) throw new Error(`the entry log keeps the ${this.log.history} heights it was opened with: open the state again to change its window`);
    this._history = blocks;
    this.trimHistory();
  }

  get history(): number {
    return this._history;
  }

  /** The lowest height `at` and `proof` answer for. */
  get oldestReadable(): number {
    const values = this.undo.length ? this.undoFrom - 1 : this.meta.height;
    return this.log ? Math.max(values, this.log.oldestReadable) : values;
  }

  /** A reader of the state at `height` (the head or a kept height), or undefined; valid until the next apply. */
  at(height: number): ReadOnlyState | undefined {
    if (height === this.meta.height) return this;
    if (height > this.meta.height || height < this.oldestReadable) return undefined;
    const undo = this.undo;
    const first = height + 1 - this.undoFrom;
    const getRaw = (key: string): Uint8Array | undefined => {
      for (let i = first; i < undo.length; i++) {
        const prev = undo[i]!.get(key);
        if (prev !== undefined) return prev === null ? undefined : prev;
      }
      return this.getRaw(key);
    };
    // A scan at h: the head's keys and the keys written since h (deleted since, perhaps), each read as of h.
    const scan = (prefix: string, opts: ScanOptions): [string, Uint8Array][] => {
      const since = new Set<string>();
      const end = prefixEnd(prefix);
      for (let i = first; i < undo.length; i++) for (const k of undo[i]!.keys()) if (k >= prefix && k < end && (opts.after === undefined || k > opts.after)) since.add(k);
      return mergeScan(opts, (after, limit) => this.index.range(prefix, after, limit), [...since].sort(), getRaw);
    };
    return { getRaw, get: (key: Uint8Array) => getRaw(toKey(key)), scan };
  }

  /** The state root of a kept height (the head or within the window), or undefined. */
  rootAt(height: number): Uint8Array | undefined {
    if (!this.log) return this.treeAt(height)?.root;
    if (height > this.meta.height || height < this.oldestReadable) return undefined;
    return this.log.treeAt(height).root;
  }

  /** The tree of a kept height (the head or within the window), or undefined; only of the tree commitment. */
  treeAt(height: number): DiskTree | undefined {
    if (!(this._tree instanceof DiskTree)) throw new Error('the state keeps the entry log, not the tree: use rootAt and proof');
    if (height === this.meta.height) return this._tree;
    if (height > this.meta.height || height < this.oldestReadable) return undefined;
    const bytes = this.storage.get(rootKey(height));
    if (bytes === undefined) throw new StateStorageError(`the stored state has no root for height ${height}, which it keeps: the data folder is damaged`);
    return this.nodes.treeOf(bytes);
  }

  /** A key's proof at a kept height, with its value there; undefined when the height is not kept. */
  proof(height: number, key: Uint8Array): { value: Uint8Array | undefined; root: Uint8Array; proof: VersionedStateProof } | undefined {
    const state = this.at(height);
    if (!state) return undefined;
    if (this.log) {
      if (key.length === 0) throw new RangeError('a state key is never empty');
      const p = this.log.proofAt(height, key);
      if (!p) return undefined;
      const value = state.get(key);
      if ((p.value === 'present') !== (value !== undefined)) throw new StateStorageError(`the stored state is corrupt: at height ${height} key ${toHex(key)} is ${value === undefined ? 'absent' : 'present'} but the entry log says ${p.value}`);
      return { value, root: p.root, proof: { format: ENTRY_PROOF_FORMAT, proof: p.proof } };
    }
    const tree = this.treeAt(height);
    if (!tree) return undefined;
    return { value: state.get(key), root: tree.root, proof: { format: STATE_PROOF_FORMAT, proof: tree.prove(key) } };
  }

  /**
   * Every record a commit of `writes` (with `tree`, made from this state's tree by them) at
   * `height` writes or deletes. Changes nothing: a failed write can be retried with the same ops,
   * and `apply` takes the result once they landed.
   */
  stage(writes: WriteSet, tree: StateTree, height: number): StagedState {
    if (height !== this.meta.height + 1) throw new StateStorageError(`the stored state is at height ${this.meta.height}; it cannot take height ${height}`);
    const ops: StateOps = [];
    const undo: Undo = new Map();
    const adds: string[] = [];
    const dels: string[] = [];
    let size = this.meta.size;
    for (const [k, v] of writes) {
      const prev = this.getRaw(k) ?? null;
      undo.set(k, prev);
      if (prev === null && v !== null) {
        adds.push(k);
        size++;
      } else if (prev !== null && v === null) {
        dels.push(k);
        size--;
      }
    }
    if (this.log) {
      const staged = tree instanceof EntryTree && tree.log === this.log ? tree.staged : undefined;
      if (staged === undefined) throw new Error('a stored state commits only trees made from its own');
      if (staged.height !== height) throw new Error(`the entry-log tree was made for height ${staged.height}, not ${height}`);
      for (const op of staged.ops) ops.push(op);
      // The log prunes its own records; the state prunes its value undo sets.
      let nextPrune = this.meta.nextPrune;
      const last = Math.min(height - this._history, nextPrune + PRUNE_PER_BLOCK - 1);
      for (; nextPrune <= last; nextPrune++) if (nextPrune !== height) ops.push([undoKey(nextPrune), null]);
      if (nextPrune <= height && this._history > 0) ops.push([undoKey(height), encodeUndo(undo)]);
      ops.push([metaKey(), encodeMeta({ format: ENTRY_LOG_STATE_FORMAT, height, size, nextPageId: staged.keys.nextId, nextPrune })]);
      return { ops, height, writes, log: staged, index: staged.keys, undo, size, nextPrune };
    }
    if (!(tree instanceof DiskTree) || tree.store !== this.nodes) throw new Error('a stored state commits only trees made from its own');
    const index = this.index.stage(adds, dels);
    const persisted = tree.persist(height);
    for (const op of persisted.ops) ops.push(op);
    ops.push([rootKey(height), persisted.root]);
    // Pruning: the blocks that fell out of the window (height − history and below).
    let nextPrune = this.meta.nextPrune;
    const last = Math.min(height - this._history, nextPrune + PRUNE_PER_BLOCK - 1);
    for (; nextPrune <= last; nextPrune++) {
      const v = nextPrune;
      const stale = v === height ? tree.stale : this.staleOf(v);
      for (const id of stale) ops.push([nodeKey(id), null]);
      if (v !== height) ops.push([staleKey(v), null], [undoKey(v), null]);
      ops.push([rootKey(v - 1), null]);
    }
    if (nextPrune <= height) {
      ops.push([staleKey(height), encodeStale(tree.stale)]);
      if (this._history > 0) ops.push([undoKey(height), encodeUndo(undo)]);
    }
    for (const op of index.ops) ops.push(op);
    ops.push([metaKey(), encodeMeta({ format: STATE_FORMAT, height, size, nextPageId: index.nextId, nextPrune })]);
    return { ops, height, writes, tree, persisted, index, undo, size, nextPrune };
  }

  /**
   * Fills an empty state with `entries` (ascending keys, each once) as the state at `height`,
   * kept by no earlier height: a migration of an older home, a snapshot import, a large genesis.
   * Memory stays bounded whatever the count (measured in docs/performance.md), in two passes:
   * - in key order, the values and the key pages (written a step of `stepKeys` at a time), and
   *   each key's path and value hash into `target.index`, a scratch store that sorts them by path;
   * - in path order (reading that index back), the tree, bottom up (disktree.ts TreeBuilder),
   *   each node written as soon as it is complete.
   * `target.write` must make what it writes readable through this state's storage before it
   * returns. The root and the meta record come last, alone: a load cut short leaves no state
   * (and what it wrote is cleared by the next load, first).
   * Returns the root; the state itself is not changed (open it again).
   */
  async load(
    entries: AsyncIterable<readonly [key: string, value: Uint8Array]>,
    height: number,
    target: BulkTarget,
    opts: {
      stepKeys?: number;
      /** The root the entries must give (else StateStorageError, and no root or meta record is written). */
      expectRoot?: Uint8Array;
    } = {},
  ): Promise<{ root: Uint8Array; keys: number; nodes: number }> {
    if (this.meta.height !== -1) throw new Error('a bulk load is for an empty state');
    const stepKeys = opts.stepKeys ?? 100_000;
    // A load cut short left records that this one would not all overwrite (key pages split elsewhere, nodes).
    await target.clearRecords();
    this.storage.refresh();
    if (this.log) return this.loadEntries(entries, height, target, stepKeys, opts.expectRoot);
    // Pass 1, key order: values, key pages, the path index.
    let keys = 0;
    let last: string | undefined;
    let values = new Map<string, Uint8Array | null>();
    let ops: StateOps = [];
    let added: string[] = [];
    let paths: [Uint8Array, Uint8Array][] = [];
    const flushKeys = async (): Promise<void> => {
      const index = this.index.stage(added, []);
      for (const op of index.ops) ops.push(op);
      await target.index.put(paths);
      await target.write(values, ops);
      this.storage.refresh();
      this.index.applyStaged(index);
      values = new Map();
      ops = [];
      added = [];
      paths = [];
    };
    for await (const [k, v] of entries) {
      if (last !== undefined && k <= last) throw new StateStorageError(`the entries to load are not in ascending key order (at key ${toHex(fromKey(k))})`);
      last = k;
      values.set(k, v);
      added.push(k);
      paths.push([statePath(fromKey(k)), stateValueHash(v)]);
      keys++;
      if (added.length >= stepKeys) await flushKeys();
    }
    if (added.length || keys === 0) await flushKeys(); // (an empty state still writes its first key page)
    // Pass 2, path order: the tree, bottom up.
    let nodeOps: StateOps = [];
    const builder = new TreeBuilder(height, (key, record) => nodeOps.push([key, record]));
    for await (const [path, valueHash] of target.index.entries()) {
      if (path.length !== HASH_LENGTH || valueHash.length !== HASH_LENGTH) throw new StateStorageError("a bulk load's path index holds a record of the wrong size");
      builder.add(Buffer.from(path.buffer, path.byteOffset, HASH_LENGTH).toString('latin1'), valueHash.slice());
      if (nodeOps.length >= stepKeys) {
        await target.write(new Map(), nodeOps);
        nodeOps = [];
      }
    }
    const built = builder.finish();
    if (nodeOps.length) await target.write(new Map(), nodeOps);
    if (builder.leaves !== keys) throw new StateStorageError(`a bulk load indexed ${builder.leaves} paths for ${keys} keys (two keys with one path, or an index that was not empty)`);
    if (opts.expectRoot && !equalBytes(built.root, opts.expectRoot)) throw new StateStorageError(`the loaded entries hash to ${toHex(built.root)}, not the expected state root ${toHex(opts.expectRoot)}`);
    await target.write(new Map(), [[rootKey(height), built.record]]);
    await target.write(new Map(), [[metaKey(), encodeMeta({ format: STATE_FORMAT, height, size: keys, nextPageId: this.index.nextPageId, nextPrune: height + 1 })]]);
    this.storage.refresh();
    return { root: built.root, keys, nodes: builder.nodes };
  }

  /**
   * Fills an empty state on the entry log from a snapshot's log (EntryStore.importSnapshot: the
   * log as it was written, since its root depends on that), as the state at `height`, checked
   * against `expectRoot` before the meta records are written.
   */
  async importLog(height: number, head: LogSnapshotHead, items: AsyncIterable<LogSnapshotItem>, target: BulkTarget, opts: { expectRoot?: Uint8Array; stepKeys?: number } = {}): Promise<{ root: Uint8Array; keys: number }> {
    if (!this.log || this.meta.height !== -1) throw new Error('a snapshot of the entry log is imported into an empty state on the entry log');
    await target.clearRecords();
    this.storage.refresh();
    const r = await EntryStore.importSnapshot(this.storage, height, head, items, (values, ops) => target.write(values, ops), opts);
    await target.write(new Map(), [[metaKey(), encodeMeta({ format: ENTRY_LOG_STATE_FORMAT, height, size: r.keys, nextPageId: r.nextPageId, nextPrune: height + 1 })]]);
    this.storage.refresh();
    return { root: r.root, keys: r.keys };
  }

  /** `load` of the entry log (EntryStore.load: one pass in key order, by appends), with the values written beside it. */
  private async loadEntries(entries: AsyncIterable<readonly [key: string, value: Uint8Array]>, height: number, target: BulkTarget, stepKeys: number, expectRoot: Uint8Array | undefined): Promise<{ root: Uint8Array; keys: number; nodes: number }> {
    let values = new Map<string, Uint8Array | null>();
    let keys = 0;
    async function* withValues(): AsyncIterable<readonly [string, Uint8Array]> {
      for await (const e of entries) {
        values.set(e[0], e[1]);
        keys++;
        yield e;
      }
    }
    const write = async (ops: StateOps): Promise<void> => {
      const v = values;
      values = new Map();
      await target.write(v, ops);
    };
    const log = await EntryStore.load(this.storage, withValues(), height, write, { stepKeys, history: 0 });
    if (expectRoot && !equalBytes(log.root, expectRoot)) throw new StateStorageError(`the loaded entries hash to ${toHex(log.root)}, not the expected state root ${toHex(expectRoot)}`);
    await target.write(new Map(), [[metaKey(), encodeMeta({ format: ENTRY_LOG_STATE_FORMAT, height, size: keys, nextPageId: log.nextPageId, nextPrune: height + 1 })]]);
    this.storage.refresh();
    return { root: log.root, keys, nodes: 0 };
  }

  /** The stale list of `height` (empty when none is stored: a height pruned already). */
  private staleOf(height: number): string[] {
    const bytes = this.storage.get(staleKey(height));
    if (bytes === undefined) return [];
    if (bytes.length % ID_LENGTH !== 0) throw new StateStorageError(`the stored state is corrupt: the stale list of height ${height} is ${bytes.length} bytes`);
    const ids: string[] = [];
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < b.length; at += ID_LENGTH) ids.push(b.toString('latin1', at, at + ID_LENGTH));
    return ids;
  }

  /** Makes a staged commit the state, once its records are in storage. */
  apply(s: StagedState): void {
    if (s.height !== this.meta.height + 1) throw new Error(`a staged commit of height ${s.height} cannot apply to a state at ${this.meta.height}`);
    this.storage.refresh();
    if (s.log) {
      // The log applies its key pages with its commit.
      this.log!.apply(s.log);
      this._tree = new EntryTree(this.log!);
    } else {
      this._tree = s.tree!.stored(s.persisted!);
      this.index.applyStaged(s.index);
    }
    for (const [k, v] of s.writes) this.values.set(k, v === null ? ABSENT : v);
    if (this._history > 0) {
      if (!this.undo.length) this.undoFrom = s.height;
      this.undo.push(s.undo);
    }
    this.meta.height = s.height;
    this.meta.size = s.size;
    this.meta.nextPageId = s.index.nextId;
    this.meta.nextPrune = s.nextPrune;
    this.trimHistory();
    this._version++;
  }

  private trimHistory(): void {
    // Heights below nextPrune − 1 have lost their trees; the window keeps `history` of them.
    const oldest = Math.max(this.meta.height - this._history, this.meta.nextPrune - 1);
    const excess = Math.min(this.undo.length, oldest + 1 - this.undoFrom);
    if (excess > 0) {
      this.undo.splice(0, excess);
      this.undoFrom += excess;
    }
  }
}

/** Where a bulk load writes, and the scratch store it sorts paths in (storage/scratch.ts; empty at the start). */
export interface BulkTarget {
  write(values: WriteSet, ops: StateOps): Promise<void>;
  /** Deletes every record of the state's own layout (not the values): what a load cut short left. */
  clearRecords(): Promise<void>;
  index: {
    put(records: readonly (readonly [key: Uint8Array, value: Uint8Array])[]): Promise<void>;
    /** Every record, ascending by key. */
    entries(): AsyncIterable<readonly [key: Uint8Array, value: Uint8Array]>;
  };
}

function checkHistory(blocks: number): void {
  if (!Number.isSafeInteger(blocks) || blocks < 0) throw new RangeError(`state history must be a non-negative integer of blocks, not ${blocks}`);
}

function encodeStale(ids: readonly string[]): Uint8Array {
  const out = Buffer.allocUnsafe(ids.length * ID_LENGTH);
  ids.forEach((id, i) => out.write(id, i * ID_LENGTH, 'latin1'));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

