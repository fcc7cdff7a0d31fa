import { toKey } from '../../chain/index.js';
import { SparseMerkleTree, type StateTree } from './smt.js';
import { SortedKeys, checkScanLimit, mergeScan, prefixEnd, type KVStore, type OrderedReader, type ScanOptions, type WriteSet } from './overlay.js';

/** A read-only state: what queries read. */
export type ReadOnlyState = OrderedReader & Pick<KVStore, 'get'>;

/**
 * The committed state at the head: every key and value in memory, and the Merkle tree over them.
 * Execution never mutates it; `apply` does, once a block is committed to storage.
 *
 * It can also keep the state of the last few heights for reads (`at`): for each block applied, what
 * its writes replaced (an undo set: the previous value, or null where the key was absent). A
 * read at height h looks for the key in the undo sets of h+1, h+2, … (the first hit is its value
 * at h) and otherwise reads the head. Memory: one map entry and the kept old value per key a
 * block wrote, for `history` blocks. Only heights applied since the node started are kept.
 */
export class WorldState implements OrderedReader {
  private _version = 0;
  /** How many heights below the head `at` answers for; 0: none. */
  private _history = 0;
  /** The undo sets of the last `_history` blocks applied, oldest first; `undo[i]` is of height `undoFrom + i`. */
  private readonly undo: Map<string, Uint8Array | null>[] = [];
  private undoFrom = 0;

  /** Every key, in order (for scans by prefix). */
  private readonly keys: SortedKeys;

  private constructor(
    private readonly data: Map<string, Uint8Array>,
    private _tree: SparseMerkleTree,
    private _height: number,
  ) {
    this.keys = SortedKeys.of(data.keys());
  }

  /** Builds the state from stored entries; the tree is rebuilt (and so re-verified) from them. */
  static fromEntries(entries: Iterable<readonly [Uint8Array, Uint8Array]>, height: number, emptyTree: SparseMerkleTree): WorldState {
    const data = new Map<string, Uint8Array>();
    for (const [k, v] of entries) data.set(toKey(k), v);
    const tree = emptyTree.updateRaw(data);
    return new WorldState(data, tree, height);
  }

  get tree(): SparseMerkleTree {
    return this._tree;
  }

  get root(): Uint8Array {
    return this._tree.root;
  }

  get height(): number {
    return this._height;
  }

  /** Changes with every apply: readers that cache what they read compare it. */
  get version(): number {
    return this._version;
  }

  get size(): number {
    return this.data.size;
  }

  getRaw(key: string): Uint8Array | undefined {
    return this.data.get(key);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.data.get(toKey(key));
  }

  scan(prefix: string, opts: ScanOptions): [string, Uint8Array][] {
    checkScanLimit(opts.limit);
    return this.keys.range(prefix, opts.after, opts.limit).map((k) => [k, this.data.get(k)!]);
  }

  /** Keeps the state of the last `blocks` heights below the head for `at` (from the next apply on). */
  set history(blocks: number) {
    if (!Number.isSafeInteger(blocks) || blocks < 0) throw new RangeError(`state history must be a non-negative integer of blocks, not ${blocks}`);
    this._history = blocks;
    this.trimHistory();
  }

  get history(): number {
    return this._history;
  }

  /** The lowest height `at` can read: the head, or as far back as the kept undo sets reach. */
  get oldestReadable(): number {
    return this.undo.length ? this.undoFrom - 1 : this._height;
  }

  /**
   * A reader of the state at `height` (the head or a kept recent height), or undefined when it is
   * not kept. It reads through to the head's data, so it is valid until the next apply.
   */
  at(height: number): ReadOnlyState | undefined {
    if (height === this._height) return this;
    if (height > this._height || height < this.oldestReadable) return undefined;
    const undo = this.undo;
    const first = height + 1 - this.undoFrom;
    const data = this.data;
    const getRaw = (key: string): Uint8Array | undefined => {
      for (let i = first; i < undo.length; i++) {
        const prev = undo[i]!.get(key);
        if (prev !== undefined) return prev === null ? undefined : prev;
      }
      return data.get(key);
    };
    // A scan at h: the head's keys and the keys written since h (which may have been deleted since), each read as of h.
    const scan = (prefix: string, opts: ScanOptions): [string, Uint8Array][] => {
      const since = new Set<string>();
      const end = prefixEnd(prefix);
      for (let i = first; i < undo.length; i++) for (const k of undo[i]!.keys()) if (k >= prefix && k < end && (opts.after === undefined || k > opts.after)) since.add(k);
      return mergeScan(opts, (after, limit) => this.keys.range(prefix, after, limit), [...since].sort(), getRaw);
    };
    return { getRaw, get: (key: Uint8Array) => getRaw(toKey(key)), scan };
  }

  /** Makes a block's writes and tree the committed state. */
  apply(writes: WriteSet, tree: StateTree, height: number): void {
    if (!(tree instanceof SparseMerkleTree)) throw new Error('a WorldState takes the in-memory trees it makes (SparseMerkleTree)');
    if (this._history > 0) {
      if (height !== this._height + 1) this.undo.length = 0;
      if (!this.undo.length) this.undoFrom = height;
      const prev = new Map<string, Uint8Array | null>();
      for (const k of writes.keys()) prev.set(k, this.data.get(k) ?? null);
      this.undo.push(prev);
      this.trimHistory();
    }
    for (const [k, v] of writes) {
      if (v === null) {
        if (this.data.delete(k)) this.keys.delete(k);
      } else {
        if (!this.data.has(k)) this.keys.add(k);
        this.data.set(k, v);
      }
    }
    this._tree = tree;
    this._height = height;
    this._version++;
  }

  private trimHistory(): void {
    const excess = this.undo.length - this._history;
    if (excess > 0) {
      this.undo.splice(0, excess);
      this.undoFrom += excess;
    }
  }
}
