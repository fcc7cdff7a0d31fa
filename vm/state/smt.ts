/**
 * The state commitment: a persistent compact sparse Merkle tree. Layout and hashing are defined
 * once, in chain/stateproof.ts; this file only builds trees and proofs.
 *
 * Trees are immutable. `update` returns a new tree that shares every untouched node with the old
 * one, so any number of versions (one per block, say) stay valid at the cost of the changed paths.
 */
import {
  HASH_LENGTH,
  copyBytes,
  equalBytes,
  fromKey,
  stateLeafHashInto,
  stateNodeHashInto,
  statePath,
  stateValueHash,
  toKey,
  type StateProof,
} from '../../chain/index.js';

const ZERO_HASH = new Uint8Array(HASH_LENGTH);
/** Hashing scratch: two child hashes in, one hash out, as bytes and as the words nodes keep. */
const pair = new Uint8Array(2 * HASH_LENGTH);
const pair32 = new Int32Array(pair.buffer);
const digest = new Uint8Array(HASH_LENGTH);
const digest32 = new Int32Array(digest.buffer);
const pathBytes = new Uint8Array(HASH_LENGTH);

/** Bit `i` of a path kept as a latin1 string, MSB-first (as chain/stateproof.ts pathBit). */
export function keyBit(path: string, i: number): 0 | 1 {
  return ((path.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1) as 0 | 1;
}

/** Paths (as latin1 strings) of recently written state keys; cleared when it grows past the cap. */
const paths = new Map<string, string>();
const PATH_CACHE_MAX = 262_144;

/**
 * A node's 32-byte hash, kept as eight int32 fields (small integers, stored in the object itself)
 * rather than as a Uint8Array: a small typed array costs ~250 bytes of heap (the array, its
 * ArrayBuffer and the bytes), and the state tree has a hash for every key and inner node. The
 * words are the bytes as this machine's Int32Array sees them, written back through the same view.
 */
abstract class Hashed {
  h0 = 0;
  h1 = 0;
  h2 = 0;
  h3 = 0;
  h4 = 0;
  h5 = 0;
  h6 = 0;
  h7 = 0;

  /** Keeps the hash in `digest`. */
  protected keepDigest(): void {
    const w = digest32;
    this.h0 = w[0]!;
    this.h1 = w[1]!;
    this.h2 = w[2]!;
    this.h3 = w[3]!;
    this.h4 = w[4]!;
    this.h5 = w[5]!;
    this.h6 = w[6]!;
    this.h7 = w[7]!;
  }

  /** Writes the hash as bytes at `w`'s word `at` (w a view of a byte buffer). */
  writeHash(w: Int32Array, at: number): void {
    w[at] = this.h0;
    w[at + 1] = this.h1;
    w[at + 2] = this.h2;
    w[at + 3] = this.h3;
    w[at + 4] = this.h4;
    w[at + 5] = this.h5;
    w[at + 6] = this.h6;
    w[at + 7] = this.h7;
  }

  /** The hash as new bytes. */
  hash(): Uint8Array {
    this.writeHash(digest32, 0);
    return digest.slice();
  }
}

/**
 * A leaf: the one key of its subtree. Its hash does not depend on its depth, so it can move. Its
 * path is kept as a latin1 string (one char per byte, ~50 bytes of heap against ~250 for a small
 * Uint8Array), and the value's hash is not kept (a proof recomputes it): every leaf of the state is
 * in memory.
 */
class Leaf extends Hashed {
  constructor(
    /** The path, latin1: sorts like the bytes, compares with ===. */
    readonly path: string,
    readonly value: Uint8Array,
    valueHash: Uint8Array,
  ) {
    super();
    for (let i = 0; i < HASH_LENGTH; i++) pathBytes[i] = path.charCodeAt(i);
    stateLeafHashInto(digest, pathBytes, valueHash);
    this.keepDigest();
  }
  get size(): number {
    return 1;
  }
}

/** An inner node: always at least two leaves below it (one side may still be empty). */
class Inner extends Hashed {
  readonly size: number;
  constructor(
    readonly left: Node | undefined,
    readonly right: Node | undefined,
  ) {
    super();
    if (left) left.writeHash(pair32, 0);
    else pair32.fill(0, 0, 8);
    if (right) right.writeHash(pair32, 8);
    else pair32.fill(0, 8, 16);
    stateNodeHashInto(digest, pair);
    this.keepDigest();
    this.size = (left?.size ?? 0) + (right?.size ?? 0);
  }
}

type Node = Leaf | Inner;

/** One pending change; `value` undefined means delete. */
interface Change {
  /** The path as a latin1 string: sorts like the bytes, compares cheaply. */
  readonly path: string;
  readonly value: Uint8Array | undefined;
  readonly valueHash: Uint8Array | undefined;
}

/** A key's path (chain/stateproof.ts statePath) as a latin1 string, from a cache of recently written keys. */
export function pathOf(key: string): string {
  let path = paths.get(key);
  if (path === undefined) {
    path = toKey(statePath(fromKey(key)));
    if (paths.size >= PATH_CACHE_MAX) paths.clear();
    paths.set(key, path);
  }
  return path;
}

/**
 * The state commitment as the executor uses it: a root, and a new tree for a block's write set
 * (keys as state key strings, null deletes). Implemented by the sparse Merkle tree in memory here
 * (SparseMerkleTree, for tests and tools) and on disk (disktree.ts), which give the same roots and
 * proofs for the same entries, and by the entry log (stored.ts EntryTree). Proofs come from the
 * stored state (StoredState.proof), tagged with their format.
 */
export interface StateTree {
  readonly root: Uint8Array;
  readonly updateStats: SmtUpdateStats;
  updateRaw(writes: ReadonlyMap<string, Uint8Array | null>): StateTree;
}

/** Counts the leaf and inner-node hashes of one update. */
interface Counter {
  nodes: number;
}

/** What the update that produced a tree cost; the benchmark and metrics read it. */
export interface SmtUpdateStats {
  /** Distinct keys in the batch, after later duplicates replaced earlier ones. */
  readonly changes: number;
  /** Hash computations: value hashes, new leaves and new inner nodes (key paths are cached, and not counted). */
  readonly hashes: number;
}

export class SparseMerkleTree implements StateTree {
  private static readonly EMPTY = new SparseMerkleTree(undefined, { changes: 0, hashes: 0 });

  private constructor(
    private readonly top: Node | undefined,
    /** Cost of the update that produced this tree (zero for the empty tree). */
    readonly updateStats: SmtUpdateStats,
  ) {}

  static empty(): SparseMerkleTree {
    return SparseMerkleTree.EMPTY;
  }

  /** 32 bytes; all zero for the empty tree. */
  get root(): Uint8Array {
    return this.top?.hash() ?? ZERO_HASH.slice();
  }

  /** Number of keys. */
  get size(): number {
    return this.top?.size ?? 0;
  }

  /** The value stored under `key`, or undefined. The returned bytes must not be mutated. */
  get(key: Uint8Array): Uint8Array | undefined {
    const path = toKey(statePath(key));
    let node = this.top;
    for (let depth = 0; node instanceof Inner; depth++) node = keyBit(path, depth) ? node.right : node.left;
    return node !== undefined && node.path === path ? node.value : undefined;
  }

  /**
   * Applies a batch of changes (`undefined` deletes; for a repeated key the last entry wins) and
   * returns the new tree. The batch is sorted by path and applied in one descent, so each new
   * node is built and hashed exactly once however many keys pass through it.
   */
  update(entries: Iterable<readonly [key: Uint8Array, value: Uint8Array | undefined]>): SparseMerkleTree {
    const raw = new Map<string, Uint8Array | null>();
    // Values are copied so that later mutation by the caller cannot change what get() returns.
    for (const [key, value] of entries) raw.set(toKey(key), value === undefined ? null : copyBytes(value));
    return this.updateRaw(raw);
  }

  /**
   * update() for a block's write set: keys as state key strings (chain/bytes.ts toKey), null
   * deletes. Values are kept, not copied: the caller must not change them afterwards (the world
   * state keeps the same arrays). Paths of recently written keys are remembered, so a block that
   * touches the same accounts as the last one hashes only values, leaves and inner nodes.
   */
  updateRaw(writes: ReadonlyMap<string, Uint8Array | null>): SparseMerkleTree {
    let hashes = 0;
    const changes: Change[] = [];
    for (const [key, value] of writes) {
      const path = pathOf(key);
      if (value !== null) hashes++;
      changes.push({ path, value: value ?? undefined, valueHash: value === null ? undefined : stateValueHash(value) });
    }
    // latin1 strings compare code unit by code unit, i.e. byte by byte: this is path order.
    changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const counter: Counter = { nodes: 0 };
    const top = apply(this.top, 0, changes, 0, changes.length, counter);
    return new SparseMerkleTree(top, { changes: changes.length, hashes: hashes + counter.nodes });
  }

  /** A proof of `key`'s value, or of its absence; check it with verifyStateProof. */
  prove(key: Uint8Array): StateProof {
    const path = toKey(statePath(key));
    const sideNodes: Uint8Array[] = [];
    let node = this.top;
    for (let depth = 0; node instanceof Inner; depth++) {
      const right = keyBit(path, depth) === 1;
      sideNodes.push((right ? node.left : node.right)?.hash() ?? ZERO_HASH.slice());
      node = right ? node.right : node.left;
    }
    if (node === undefined || node.path === path) return { sideNodes };
    return { sideNodes, leafPath: fromKey(node.path), leafValueHash: stateValueHash(node.value) };
  }
}

/** First index in [lo, hi) whose path has bit `depth` set; changes there share the first `depth` bits. */
function splitIndex(changes: Change[], depth: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyBit(changes[mid]!.path, depth) === 1) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Applies changes[lo, hi) (all under `node`'s position at `depth`) and returns the canonical result. */
function apply(node: Node | undefined, depth: number, changes: Change[], lo: number, hi: number, counter: Counter): Node | undefined {
  if (lo === hi) return node;
  if (node instanceof Inner) {
    const mid = splitIndex(changes, depth, lo, hi);
    const left = apply(node.left, depth + 1, changes, lo, mid, counter);
    const right = apply(node.right, depth + 1, changes, mid, hi, counter);
    if (left === node.left && right === node.right) return node;
    return join(left, right, counter);
  }
  // Empty or a single leaf: build the subtree afresh from the leaves that remain here.
  const leaves = mergeLeaves(node, changes, lo, hi, counter);
  return build(leaves, depth, 0, leaves.length, counter);
}

/** The path-sorted leaves left after applying changes[lo, hi) to a subtree holding `old` (or nothing). */
function mergeLeaves(old: Leaf | undefined, changes: Change[], lo: number, hi: number, counter: Counter): Leaf[] {
  const leaves: Leaf[] = [];
  const oldKey = old === undefined ? '' : old.path;
  for (let i = lo; i < hi; i++) {
    const { path, value, valueHash } = changes[i]!;
    if (old !== undefined && oldKey <= path) {
      const kept = old;
      old = undefined;
      if (oldKey < path) leaves.push(kept);
      // Rewriting the same value keeps the old leaf, so nothing above it is rebuilt.
      else if (value !== undefined && equalBytes(value, kept.value)) {
        leaves.push(kept);
        continue;
      }
    }
    if (value === undefined || valueHash === undefined) continue;
    counter.nodes++;
    leaves.push(new Leaf(path, value, valueHash));
  }
  if (old !== undefined) leaves.push(old);
  return leaves;
}

/** Canonical subtree over distinct, path-sorted leaves[lo, hi) that share their first `depth` bits. */
function build(leaves: Leaf[], depth: number, lo: number, hi: number, counter: Counter): Node | undefined {
  if (lo === hi) return undefined;
  if (hi - lo === 1) return leaves[lo];
  let mid = lo;
  while (mid < hi && keyBit(leaves[mid]!.path, depth) === 0) mid++;
  return join(build(leaves, depth + 1, lo, mid, counter), build(leaves, depth + 1, mid, hi, counter), counter);
}

/** Parent of two subtrees, collapsed so that a lone leaf rises to the highest position it can. */
function join(left: Node | undefined, right: Node | undefined, counter: Counter): Node | undefined {
  if (left === undefined && (right === undefined || right instanceof Leaf)) return right;
  if (right === undefined && left instanceof Leaf) return left;
  counter.nodes++;
  return new Inner(left, right);
}
