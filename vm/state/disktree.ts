/**
 * The state commitment on disk: the same compact sparse Merkle tree as smt.ts (layout and hashing
 * in chain/stateproof.ts; the same entries give the same root and proofs), with its inner nodes
 * stored one record each and read on demand through a bounded cache.
 *
 * Nodes are keyed by the version (block height) that created them and a sequence number within
 * it, as in Aptos' Jellyfish Merkle tree, never by their hash: a node is written once and never
 * changed, so the tree of every height stays readable until its nodes are pruned, and a subtree
 * that reappears later (a value set back to what it was) is a new record, not a shared one that a
 * reference count would have to track. Each block lists the stored nodes it replaced (its stale
 * list); they are deleted once no kept height needs them (stored.ts).
 *
 * Leaves are not records of their own: a leaf is kept inside its parent's record (its path, its
 * value's hash and its hash, 97 bytes), so that a tree of N keys has about N inner-node records
 * and reading down to a key costs one record per level below the cached ones.
 *
 * Records:
 * - node (StateTable.Node ‖ version u64 ‖ seq u32): left child ‖ right child;
 * - child: 0x00 (empty) | 0x01 path ‖ valueHash ‖ hash (a leaf) | 0x02 hash ‖ id (an inner node,
 *   id = version u64 ‖ seq u32).
 */
import { LRUCache } from 'lru-cache';
import { HASH_LENGTH, equalBytes, fromKey, stateLeafHash, stateNodeHashInto, statePath, stateValueHash, toKey, type StateProof } from '../../chain/index.js';
import { keyBit, pathOf, type SmtUpdateStats, type StateTree } from './smt.js';
import { StateStorageError, StateTable, type StateOps, type StateStorage } from './storage.js';

const ZERO_HASH = new Uint8Array(HASH_LENGTH);
const ID_LENGTH = 12;
const LEAF_BYTES = 1 + 3 * HASH_LENGTH;
const INNER_BYTES = 1 + HASH_LENGTH + ID_LENGTH;
const pair = new Uint8Array(2 * HASH_LENGTH);

/** A leaf, kept in its parent's record (or as the root of a one-key tree). */
class LeafRef {
  constructor(
    /** latin1, 32 chars: sorts and compares like the bytes. */
    readonly path: string,
    readonly valueHash: Uint8Array,
    readonly hash: Uint8Array,
  ) {}

  static of(path: string, valueHash: Uint8Array): LeafRef {
    return new LeafRef(path, valueHash, stateLeafHash(fromKey(path), valueHash));
  }
}

/** The two children of an inner node. */
interface InnerNode {
  readonly left: Ref;
  readonly right: Ref;
}

/** An inner node: stored (an id) or made by an update that is not committed yet (its children in memory). */
class InnerRef {
  constructor(
    readonly hash: Uint8Array,
    /** version u64 ‖ seq u32, latin1; undefined until the node is stored. */
    public id: string | undefined,
    /** The children, while the node is not stored. */
    public node: InnerNode | undefined,
  ) {}
}

type Ref = LeafRef | InnerRef | undefined;

function innerOf(left: Ref, right: Ref): InnerRef {
  pair.set(left?.hash ?? ZERO_HASH, 0);
  pair.set(right?.hash ?? ZERO_HASH, HASH_LENGTH);
  const hash = new Uint8Array(HASH_LENGTH);
  stateNodeHashInto(hash, pair);
  return new InnerRef(hash, undefined, { left, right });
}

/** The record key of a node id. */
export function nodeKey(id: string): Uint8Array {
  const out = new Uint8Array(1 + ID_LENGTH);
  out[0] = StateTable.Node;
  for (let i = 0; i < ID_LENGTH; i++) out[i + 1] = id.charCodeAt(i);
  return out;
}

function nodeId(version: number, seq: number): string {
  const b = new Uint8Array(ID_LENGTH);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(version));
  v.setUint32(8, seq);
  return toKey(b);
}

/** The version (height) a node id was made at. */
export function idVersion(id: string): number {
  return Number(new DataView(fromKey(id).buffer).getBigUint64(0));
}

function refBytes(ref: Ref): number {
  return ref === undefined ? 1 : ref instanceof LeafRef ? LEAF_BYTES : INNER_BYTES;
}

function writeRef(out: Uint8Array, at: number, ref: Ref, id: string | undefined): number {
  if (ref === undefined) {
    out[at] = 0;
    return at + 1;
  }
  if (ref instanceof LeafRef) {
    out[at] = 1;
    for (let i = 0; i < HASH_LENGTH; i++) out[at + 1 + i] = ref.path.charCodeAt(i);
    out.set(ref.valueHash, at + 1 + HASH_LENGTH);
    out.set(ref.hash, at + 1 + 2 * HASH_LENGTH);
    return at + LEAF_BYTES;
  }
  if (id === undefined) throw new Error('an inner node is encoded before its children are stored');
  out[at] = 2;
  out.set(ref.hash, at + 1);
  for (let i = 0; i < ID_LENGTH; i++) out[at + 1 + HASH_LENGTH + i] = id.charCodeAt(i);
  return at + INNER_BYTES;
}

function readRef(bytes: Uint8Array, at: number, what: string): [Ref, number] {
  const fail = (): never => {
    throw new StateStorageError(`the stored state is corrupt: ${what} is not a node reference`);
  };
  const tag = bytes[at];
  if (tag === 0) return [undefined, at + 1];
  if (tag === 1) {
    if (at + LEAF_BYTES > bytes.length) fail();
    const path = Buffer.from(bytes.buffer, bytes.byteOffset + at + 1, HASH_LENGTH).toString('latin1');
    return [new LeafRef(path, bytes.subarray(at + 1 + HASH_LENGTH, at + 1 + 2 * HASH_LENGTH), bytes.subarray(at + 1 + 2 * HASH_LENGTH, at + LEAF_BYTES)), at + LEAF_BYTES];
  }
  if (tag === 2) {
    if (at + INNER_BYTES > bytes.length) fail();
    const id = Buffer.from(bytes.buffer, bytes.byteOffset + at + 1 + HASH_LENGTH, ID_LENGTH).toString('latin1');
    return [new InnerRef(bytes.subarray(at + 1, at + 1 + HASH_LENGTH), id, undefined), at + INNER_BYTES];
  }
  return fail();
}

/** A tree's root as a record (StateTable.Root); the root must be stored (or a leaf, or empty). */
export function encodeRoot(tree: DiskTree, ids?: ReadonlyMap<InnerRef, string>): Uint8Array {
  const top = tree.top;
  const out = new Uint8Array(refBytes(top));
  writeRef(out, 0, top, top instanceof InnerRef ? (top.id ?? ids?.get(top)) : undefined);
  return out;
}

/** Reads, caches and counts the stored nodes of one state's trees. */
export class NodeStore {
  /** Node records read from storage (cache misses) since the store was made. */
  reads = 0;
  private readonly cache: LRUCache<string, Uint8Array>;

  constructor(
    readonly storage: StateStorage,
    /** Bytes of node records the cache keeps (each counted with ~100 bytes of overhead). */
    cacheBytes: number,
  ) {
    this.cache = new LRUCache<string, Uint8Array>({ maxSize: Math.max(cacheBytes, 4096), sizeCalculation: (v) => v.length + 100 });
  }

  /** The children of an inner node. */
  load(ref: InnerRef): InnerNode {
    if (ref.node) return ref.node;
    const id = ref.id!;
    let bytes = this.cache.get(id);
    if (bytes === undefined) {
      bytes = this.storage.get(nodeKey(id));
      this.reads++;
      if (bytes === undefined) throw new StateStorageError(`the stored state has no node ${Buffer.from(fromKey(id)).toString('hex')} (of height ${idVersion(id)}): the data folder is damaged, or that height was pruned`);
      this.cache.set(id, bytes);
    }
    const [left, at] = readRef(bytes, 0, 'a left child');
    const [right, end] = readRef(bytes, at, 'a right child');
    if (end !== bytes.length) throw new StateStorageError('the stored state is corrupt: a node record has trailing bytes');
    return { left, right };
  }

  /** Keeps a just-stored record in the cache (it is the newest, and the likeliest to be read next). */
  keep(id: string, bytes: Uint8Array): void {
    this.cache.set(id, bytes);
  }

  /** The tree whose root record is `bytes` (StateTable.Root). */
  treeOf(bytes: Uint8Array): DiskTree {
    const [top, end] = readRef(bytes, 0, 'a root');
    if (end !== bytes.length) throw new StateStorageError('the stored state is corrupt: a root record has trailing bytes');
    return new DiskTree(this, top, []);
  }

  empty(): DiskTree {
    return new DiskTree(this, undefined, []);
  }

  get cachedBytes(): number {
    return this.cache.calculatedSize;
  }
}

/** One pending change: the path, and the new value's hash (undefined: delete). */
interface Change {
  readonly path: string;
  readonly valueHash: Uint8Array | undefined;
}

interface UpdateContext {
  readonly store: NodeStore;
  /** Ids of the stored nodes the update replaced. */
  readonly stale: string[];
  hashes: number;
}

/** What makes a tree durable: its new nodes' records, and the ids they get once those land. */
export interface PersistedTree {
  readonly ops: StateOps;
  readonly root: Uint8Array;
  readonly ids: ReadonlyMap<InnerRef, [id: string, bytes: Uint8Array]>;
  /** The next sequence number free at this version. */
  readonly nextSeq: number;
}

export class DiskTree implements StateTree {
  constructor(
    readonly store: NodeStore,
    readonly top: Ref,
    /** Ids of the stored nodes replaced since the last stored tree this one was made from. */
    readonly stale: readonly string[],
    readonly updateStats: SmtUpdateStats = { changes: 0, hashes: 0 },
  ) {}

  get root(): Uint8Array {
    return (this.top?.hash ?? ZERO_HASH).slice();
  }

  updateRaw(writes: ReadonlyMap<string, Uint8Array | null>): DiskTree {
    const changes: Change[] = [];
    let hashes = 0;
    for (const [key, value] of writes) {
      if (value !== null) hashes++;
      changes.push({ path: pathOf(key), valueHash: value === null ? undefined : stateValueHash(value) });
    }
    changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const ctx: UpdateContext = { store: this.store, stale: [...this.stale], hashes };
    const top = apply(ctx, this.top, 0, changes, 0, changes.length);
    return new DiskTree(this.store, top, ctx.stale, { changes: changes.length, hashes: ctx.hashes });
  }

  prove(key: Uint8Array): StateProof {
    const path = toKey(statePath(key));
    const sideNodes: Uint8Array[] = [];
    let ref = this.top;
    for (let depth = 0; ref instanceof InnerRef; depth++) {
      const { left, right } = this.store.load(ref);
      const goRight = keyBit(path, depth) === 1;
      sideNodes.push(((goRight ? left : right)?.hash ?? ZERO_HASH).slice());
      ref = goRight ? right : left;
    }
    if (ref === undefined || ref.path === path) return { sideNodes };
    return { sideNodes, leafPath: fromKey(ref.path), leafValueHash: ref.valueHash.slice() };
  }

  /** The ids of the stored nodes this tree reaches (each read once; for checks and exports). */
  *storedIds(): Generator<string> {
    const stack: Ref[] = [this.top];
    while (stack.length) {
      const ref = stack.pop();
      if (!(ref instanceof InnerRef)) continue;
      if (ref.id !== undefined) yield ref.id;
      const { left, right } = this.store.load(ref);
      stack.push(right, left);
    }
  }

  /**
   * The records of the nodes this tree made that are not stored yet, numbered from `firstSeq` at
   * `version`. Nothing changes until `stored` is called with the result (after the batch lands),
   * so a failed write can be retried with the same records.
   */
  persist(version: number, firstSeq = 0): PersistedTree {
    const ops: StateOps = [];
    const ids = new Map<InnerRef, [string, Uint8Array]>();
    let seq = firstSeq;
    const idOf = (r: Ref): string | undefined => (r instanceof InnerRef ? (r.id ?? ids.get(r)?.[0]) : undefined);
    const visit = (ref: InnerRef): void => {
      const { left, right } = ref.node!;
      if (left instanceof InnerRef && left.id === undefined && !ids.has(left)) visit(left);
      if (right instanceof InnerRef && right.id === undefined && !ids.has(right)) visit(right);
      const id = nodeId(version, seq++);
      const bytes = new Uint8Array(refBytes(left) + refBytes(right));
      writeRef(bytes, writeRef(bytes, 0, left, idOf(left)), right, idOf(right));
      ids.set(ref, [id, bytes]);
      ops.push([nodeKey(id), bytes]);
    };
    if (this.top instanceof InnerRef && this.top.id === undefined) visit(this.top);
    const root = new Uint8Array(refBytes(this.top));
    writeRef(root, 0, this.top, idOf(this.top));
    return { ops, root, ids, nextSeq: seq };
  }

  /** After `p`'s records landed: the nodes take their ids, leave memory and enter the cache. Returns the stored tree. */
  stored(p: PersistedTree): DiskTree {
    for (const [ref, [id, bytes]] of p.ids) {
      ref.id = id;
      this.store.keep(id, bytes);
    }
    for (const ref of p.ids.keys()) ref.node = undefined;
    return new DiskTree(this.store, this.top, []);
  }
}

function splitIndex(changes: Change[], depth: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyBit(changes[mid]!.path, depth) === 1) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Applies changes[lo, hi) (all under `ref`'s position at `depth`); returns `ref` itself when nothing changed. */
function apply(ctx: UpdateContext, ref: Ref, depth: number, changes: Change[], lo: number, hi: number): Ref {
  if (lo === hi) return ref;
  if (ref instanceof InnerRef) {
    const node = ctx.store.load(ref);
    const mid = splitIndex(changes, depth, lo, hi);
    const left = apply(ctx, node.left, depth + 1, changes, lo, mid);
    const right = apply(ctx, node.right, depth + 1, changes, mid, hi);
    if (left === node.left && right === node.right) return ref;
    if (ref.id !== undefined) ctx.stale.push(ref.id);
    return join(ctx, left, right);
  }
  const leaves = mergeLeaves(ctx, ref, changes, lo, hi);
  if (leaves.length === 1 && leaves[0] === ref) return ref;
  return build(ctx, leaves, depth, 0, leaves.length);
}

/** The path-sorted leaves left after applying changes[lo, hi) to a subtree holding `old` (or nothing). */
function mergeLeaves(ctx: UpdateContext, old: LeafRef | undefined, changes: Change[], lo: number, hi: number): LeafRef[] {
  const leaves: LeafRef[] = [];
  for (let i = lo; i < hi; i++) {
    const { path, valueHash } = changes[i]!;
    if (old !== undefined && old.path <= path) {
      const kept = old;
      old = undefined;
      if (kept.path < path) leaves.push(kept);
      else if (valueHash !== undefined && equalBytes(valueHash, kept.valueHash)) {
        leaves.push(kept);
        continue;
      }
    }
    if (valueHash === undefined) continue;
    ctx.hashes++;
    leaves.push(LeafRef.of(path, valueHash));
  }
  if (old !== undefined) leaves.push(old);
  return leaves;
}

function build(ctx: UpdateContext, leaves: LeafRef[], depth: number, lo: number, hi: number): Ref {
  if (lo === hi) return undefined;
  if (hi - lo === 1) return leaves[lo];
  let mid = lo;
  while (mid < hi && keyBit(leaves[mid]!.path, depth) === 0) mid++;
  return join(ctx, build(ctx, leaves, depth + 1, lo, mid), build(ctx, leaves, depth + 1, mid, hi));
}

function join(ctx: UpdateContext, left: Ref, right: Ref): Ref {
  if (left === undefined && (right === undefined || right instanceof LeafRef)) return right;
  if (right === undefined && left instanceof LeafRef) return left;
  ctx.hashes++;
  return innerOf(left, right);
}
