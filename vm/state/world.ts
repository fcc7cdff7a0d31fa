import { toKey } from '../../chain/index.js';
import type { SparseMerkleTree } from './smt.js';
import type { StateReader, WriteSet } from './overlay.js';

/**
 * The committed state at the head: every key and value in memory, and the Merkle tree over them.
 * Execution never mutates it; `apply` does, once a block is committed to storage.
 */
export class WorldState implements StateReader {
  private _version = 0;

  private constructor(
    private readonly data: Map<string, Uint8Array>,
    private _tree: SparseMerkleTree,
    private _height: number,
  ) {}

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

  /** Makes a block's writes and tree the committed state. */
  apply(writes: WriteSet, tree: SparseMerkleTree, height: number): void {
    for (const [k, v] of writes) {
      if (v === null) this.data.delete(k);
      else this.data.set(k, v);
    }
    this._tree = tree;
    this._height = height;
    this._version++;
  }
}
