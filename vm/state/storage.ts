/**
 * What the committed state needs from the node's storage: synchronous reads of one consistent
 * view (the head as committed; see storage/chainstore.ts stateView), and a place in the block's
 * one atomic batch for what a commit changes. The state's own layout (tree nodes, roots, key
 * pages, undo sets) lives under keys it chooses (StateTable below); storage only prefixes them.
 */

/** Synchronous reads of the stored state, as of the last commit that landed. */
export interface StateStorage {
  /** The head value of a state key (latin1; chain/bytes.ts toKey), or undefined when absent. */
  value(key: string): Uint8Array | undefined;
  /** A record of the state's own layout (a key made by tableKey), or undefined. */
  get(key: Uint8Array): Uint8Array | undefined;
  /**
   * `value` for many keys, and `get` for many records, read off the main thread: for a prefetch
   * that warms the caches ahead of a block (StoredState.prefetch). Optional: a storage without
   * them gets no prefetch. An answer that a refresh overtook may be of either view.
   */
  valuesAsync?(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  getManyAsync?(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /** Moves the view to what storage holds now: called once a commit's batch has landed. */
  refresh(): void;
}

/** Records of the state's own layout that a commit writes (a value) or deletes (null), in the block's batch. */
export type StateOps = [key: Uint8Array, value: Uint8Array | null][];

/** The first byte of every record of the state's own layout. */
export const StateTable = {
  /** Format version and head: `m` → rlp [format, height, keys, next page id, last pruned version + 1]. */
  Meta: 0x6d,
  /** Tree nodes: `n` ‖ version u64 ‖ seq u32 → an inner node (disktree.ts). */
  Node: 0x6e,
  /** The tree's root at a height: `r` ‖ height u64 → a child reference (disktree.ts). */
  Root: 0x72,
  /** Nodes that a block replaced: `x` ‖ height u64 → their ids, 12 bytes each (pruned W blocks later). */
  Stale: 0x78,
  /** What a block's writes replaced: `u` ‖ height u64 → the undo set (stored.ts). */
  Undo: 0x75,
  /** Key pages: `k` ‖ page u32 → the page's keys, sorted (keyindex.ts). */
  Page: 0x6b,
  /** Page directory: `d` ‖ page u32 → the page's lower bound (keyindex.ts). */
  Directory: 0x64,
  /** The entry log (entrystore.ts; the commitment of a state of layout 2): `e` ‖ position u64 → an entry. */
  LogEntry: 0x65,
  /** The entry log's key index: `i` ‖ key → position u64 ‖ value hash ‖ next key. */
  LogIndex: 0x69,
  /** A twig's entry root and active bits: `t` ‖ twig u32 → 32 + 256 bytes. */
  LogTwig: 0x74,
  /** A full twig's entry tree: `w` ‖ twig u32 → 4,096 × 32 bytes. */
  LogTwigTree: 0x77,
  /** What a block changed in the entry log, for its recent heights: `o` ‖ height u64 → entrystore.ts' undo record. */
  LogUndo: 0x6f,
  /** The entry log's head: `l` → height, next, compactFrom, active, prunedTo, next page id (u64 each) ‖ root. */
  LogMeta: 0x6c,
} as const;

/** A record key: the table byte, then `parts`. */
export function tableKey(table: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 1;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  out[0] = table;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `n` as 8 bytes, big-endian (so that records sort by height). */
export function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/** `n` as 4 bytes, big-endian. */
export function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** The stored state is missing a record it needs, or holds one it cannot read: the data folder is damaged (or the height was pruned). */
export class StateStorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateStorageError';
  }
}
