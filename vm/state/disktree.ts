/**
 * The state commitment on disk: the same compact binary sparse Merkle tree as smt.ts (layout and
 * hashing in chain/stateproof.ts; the same entries give the same root and proofs), stored as
 * 16-ary nodes, as in Aptos' Jellyfish Merkle tree: each stored node covers four levels of the
 * binary tree (one nibble of the key's path) and holds up to 16 children. Its hash is the binary
 * tree's hash of that part, computed over its children: a range of slots that holds nothing is the
 * empty hash, a range that holds one leaf is that leaf's hash (a leaf sits as high as it is alone,
 * as in the binary tree), and otherwise the range is split in two. So reading down to a key costs
 * about log16(N) records instead of log2(N), and a block writes a quarter of the records.
 *
 * Nodes are keyed by the version (block height) that made them and a sequence number within it,
 * never by their hash: a node is written once and never changed, so the tree of every height stays
 * readable until its nodes are pruned, and a subtree that appears again (a value set back to what
 * it was) is a new record, not a shared one that a reference count would have to track. Each block
 * lists the stored nodes it replaced (its stale list); stored.ts deletes them once no kept height
 * needs them.
 *
 * A node always holds two leaves or more below it: one whose children would be a single leaf is
 * that leaf instead (in its parent's slot). Leaves are not records of their own: a leaf is kept in
 * its parent's record.
 *
 * Record (StateTable.Node ‖ version u64 ‖ seq u32): a u16 bitmap of the slots that hold a child,
 * then per such slot, in order: 0x01 path ‖ valueHash ‖ hash (a leaf, 97 bytes) | 0x02 hash ‖ id
 * (a node, id = version u64 ‖ seq u32; 45 bytes). A root record (StateTable.Root): 0x00 (empty),
 * or one child as above.
 *
 * In memory, a node read from storage is its record, and its children are read in place
 * (`SlotRef`: the record and an offset); only the children an update or a proof goes down into
 * become objects, and a node an update makes is encoded at once (InnerRef). So a block's update
 * holds one record per node it rewrites instead of a decoded copy of every child (a hash, an id,
 * a path each), and its hashing writes into fixed scratch buffers: this was most of the memory
 * and of the collector's work that an update over a large state cost.
 */
import { LRUCache } from 'lru-cache';
import { HASH_LENGTH, equalBytes, fromKey, keySlice, stateLeafHash, stateNodeHashInto, statePath, stateValueHash, toKey, type StateProof } from '../../chain/index.js';
import { pathOf, type SmtUpdateStats, type StateTree } from './smt.js';
import { StateStorageError, StateTable, type StateOps, type StateStorage } from './storage.js';

const ZERO_HASH = new Uint8Array(HASH_LENGTH);
const FANOUT = 16;
const ID_LENGTH = 12;
const LEAF_BYTES = 1 + 3 * HASH_LENGTH;
const INNER_BYTES = 1 + HASH_LENGTH + ID_LENGTH;

/** Nibble `depth` of a path kept as a latin1 string (the high one of each byte first). */
function nibble(path: string, depth: number): number {
  const byte = path.charCodeAt(depth >> 1);
  return depth & 1 ? byte & 15 : byte >> 4;
}

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

/** A child as its parent's stored record holds it: read in place, at `at` (its tag byte). */
class SlotRef {
  constructor(
    readonly rec: Uint8Array,
    readonly at: number,
  ) {}
}

/** A node's 16 slots (undefined: empty). */
type Children = Ref[];

/**
 * A node: stored (an id), or made by an update and not stored yet. A node not stored is its
 * record already, encoded when it is made, with a placeholder id in each slot of a child that is
 * not stored either (`kids`, in slot order; `kidAt`: where each one's id goes); `persist` writes
 * their ids in. So what an update keeps until the commit is one record per node it made, not its
 * children as objects (which die young).
 */
class InnerRef {
  constructor(
    readonly hash: Uint8Array,
    /** version u64 ‖ seq u32, latin1; undefined until the node is stored. */
    public id: string | undefined,
    /** The record, while the node is not stored. */
    public rec: Uint8Array | undefined,
    /** The children not stored yet, in slot order, and the offsets of their ids in `rec`. */
    public kids: InnerRef[] | undefined,
    public kidAt: number[] | undefined,
    /** The id the last `persist` gave it (its record then holds its children's ids). */
    public persistedAs: string | undefined = undefined,
  ) {}
}

/** The id a record holds for a child not stored yet, until `persist` writes the child's own (no height is 2^64 − 1). */
const PENDING_ID = '\xff'.repeat(ID_LENGTH);

type Ref = LeafRef | InnerRef | SlotRef | undefined;
/** What a tree's top is: never a SlotRef (a stored tree's top is read from its root record). */
type Top = LeafRef | InnerRef | undefined;

/** Whether a child is a leaf. */
function isLeaf(ref: LeafRef | InnerRef | SlotRef): boolean {
  return ref instanceof LeafRef || (ref instanceof SlotRef && ref.rec[ref.at] === 1);
}

/** Writes a child's hash to out[off, off + 32). */
function copyHash(ref: LeafRef | InnerRef | SlotRef, out: Uint8Array, off: number): void {
  if (!(ref instanceof SlotRef)) {
    out.set(ref.hash, off);
    return;
  }
  const rec = ref.rec;
  const from = ref.at + 1 + (rec[ref.at] === 1 ? 2 * HASH_LENGTH : 0);
  for (let i = 0; i < HASH_LENGTH; i++) out[off + i] = rec[from + i]!;
}

/** A child as an object of its own (a slot read out of its record), to go down into or to keep. */
function expand(ref: Ref): Top {
  return ref instanceof SlotRef ? readRef(ref.rec, ref.at, 'a node slot')[0] : ref;
}

/** Counts hashes for an update's statistics. */
interface Hashing {
  hashes: number;
}

/** The one child in slots [lo, lo + width), null when there are none, undefined when there are several. */
function soleChild(children: Children, lo: number, width: number): Ref | null {
  let only: Ref | null = null;
  for (let i = lo; i < lo + width; i++) {
    const c = children[i];
    if (c === undefined) continue;
    if (only !== null) return undefined;
    only = c;
  }
  return only;
}

/** Scratch pairs (left ‖ right) for the four levels of binary tree a node's hash goes through. */
const pairs = [0, 1, 2, 3].map(() => new Uint8Array(2 * HASH_LENGTH));

/**
 * The binary tree's hash of slots [lo, lo + width) of a node (see the top of the file), written to
 * out[off, off + 32); `level` picks the scratch pair (0 for a node's whole range).
 */
function rangeHashInto(h: Hashing, children: Children, lo: number, width: number, out: Uint8Array, off: number, level = 0): void {
  const only = soleChild(children, lo, width);
  if (only === null) out.fill(0, off, off + HASH_LENGTH);
  else if (only !== undefined && (width === 1 || isLeaf(only))) copyHash(only, out, off);
  else {
    const half = width >> 1;
    const pair = pairs[level]!;
    rangeHashInto(h, children, lo, half, pair, 0, level + 1);
    rangeHashInto(h, children, lo + half, half, pair, HASH_LENGTH, level + 1);
    stateNodeHashInto(out, pair, off);
    h.hashes++;
  }
}

/** The hash of slots [lo, lo + width), as a new array. */
function rangeHash(h: Hashing, children: Children, lo: number, width: number): Uint8Array {
  const out = new Uint8Array(HASH_LENGTH);
  rangeHashInto(h, children, lo, width, out, 0);
  return out;
}

/** What a node with these children is: nothing, the one leaf it would hold, or a new node. */
function nodeOf(h: Hashing, children: Children): Ref {
  const only = soleChild(children, 0, FANOUT);
  if (only === null) return undefined;
  if (only !== undefined && isLeaf(only)) return expand(only);
  return pendingNode(rangeHash(h, children, 0, FANOUT), children);
}

/** What pendingNode's encoding lists (reused: encoding is synchronous). */
const pendingScratch = { kids: [] as InnerRef[], kidAt: [] as number[] };

/** A node made by an update: encoded now, with placeholders for the children not stored yet. */
function pendingNode(hash: Uint8Array, children: Children): InnerRef {
  pendingScratch.kids.length = 0;
  pendingScratch.kidAt.length = 0;
  const rec = encodeNode(children, pendingScratch);
  const { kids, kidAt } = pendingScratch;
  if (kids.length === 0) return new InnerRef(hash, undefined, rec, undefined, undefined);
  const node = new InnerRef(hash, undefined, rec, kids.slice(), kidAt.slice());
  kids.length = 0;
  kidAt.length = 0;
  return node;
}

/** The children of a node not stored yet: its record's, with the pending children in their slots. */
function pendingChildren(ref: InnerRef): Children {
  const children = decodeNode(ref.rec!);
  const kids = ref.kids;
  if (kids === undefined) return children;
  let j = 0;
  for (let s = 0; s < FANOUT && j < kids.length; s++) {
    const c = children[s];
    if (c instanceof SlotRef && c.at + 1 + HASH_LENGTH === ref.kidAt![j]) children[s] = kids[j++];
  }
  if (j !== kids.length) throw new Error('a pending node lost track of its children');
  return children;
}

/** A stored node to read, and the paths (of a prefetch) that go through it. */
interface Frontier {
  readonly id: string;
  readonly paths: readonly string[];
}

/** A prefetch's reads: at most this many parts of a set of nodes at once (libuv's pool, which LevelDB's reads run on, has 4 threads), each of at least PREFETCH_PART_MIN records. */
export const PREFETCH_PARTS = 4;
export const PREFETCH_PART_MIN = 256;

/** Adds to `out` the children of the node `bytes` (at nibble `depth`) that `paths` go down into and that are nodes, with the paths through each. */
function childrenOnPaths(bytes: Uint8Array, paths: readonly string[], depth: number, out: Frontier[]): void {
  const bitmap = (bytes[0]! << 8) | bytes[1]!;
  slotAt.fill(-1);
  for (let s = 0, at = 2; s < FANOUT && at < bytes.length; s++) {
    if (!(bitmap & (0x8000 >> s))) continue;
    slotAt[s] = at;
    at += bytes[at] === 1 ? LEAF_BYTES : INNER_BYTES;
  }
  bySlot.fill(undefined);
  for (const p of paths) {
    const slot = nibble(p, depth);
    const at = slotAt[slot]!;
    if (at < 0 || bytes[at] !== 2 || at + INNER_BYTES > bytes.length) continue; // empty, a leaf, or a damaged record (the update reports it)
    let list = bySlot[slot];
    if (list === undefined) {
      bySlot[slot] = list = [];
      out.push({ id: keySlice(bytes, at + 1 + HASH_LENGTH, at + INNER_BYTES), paths: list });
    }
    list.push(p);
  }
}
/** childrenOnPaths' scratch (it is synchronous and not reentrant): where each slot's child starts, and the paths through it. */
const slotAt = new Int32Array(FANOUT);
const bySlot: (string[] | undefined)[] = new Array<string[] | undefined>(FANOUT).fill(undefined);

/** The record key of a node id. */
export function nodeKey(id: string): Uint8Array {
  const out = new Uint8Array(1 + ID_LENGTH);
  out[0] = StateTable.Node;
  for (let i = 0; i < ID_LENGTH; i++) out[i + 1] = id.charCodeAt(i);
  return out;
}

/** The first 8 chars of the ids of a version. */
function versionPrefix(version: number): string {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(version));
  return toKey(b);
}

const seqChars = (seq: number): string => String.fromCharCode(seq >>> 24, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255);

/** The version (height) a node id was made at. */
export function idVersion(id: string): number {
  return Number(new DataView(fromKey(id).buffer).getBigUint64(0));
}

function refBytes(ref: Ref): number {
  return ref === undefined ? 1 : isLeaf(ref) ? LEAF_BYTES : INNER_BYTES;
}

function writeRef(out: Uint8Array, at: number, ref: LeafRef | InnerRef | SlotRef, id: string | undefined): number {
  if (ref instanceof SlotRef) {
    const len = refBytes(ref);
    const rec = ref.rec;
    for (let i = 0, from = ref.at; i < len; i++) out[at + i] = rec[from + i]!; // no view of the record per slot
    return at + len;
  }
  if (ref instanceof LeafRef) {
    out[at] = 1;
    for (let i = 0; i < HASH_LENGTH; i++) out[at + 1 + i] = ref.path.charCodeAt(i);
    out.set(ref.valueHash, at + 1 + HASH_LENGTH);
    out.set(ref.hash, at + 1 + 2 * HASH_LENGTH);
    return at + LEAF_BYTES;
  }
  if (id === undefined) throw new Error('a node is encoded before its children are stored');
  out[at] = 2;
  out.set(ref.hash, at + 1);
  for (let i = 0; i < ID_LENGTH; i++) out[at + 1 + HASH_LENGTH + i] = id.charCodeAt(i);
  return at + INNER_BYTES;
}

function corrupt(what: string): never {
  throw new StateStorageError(`the stored state is corrupt: ${what}`);
}

/** The length of the child reference at `at`, checked to be one and to fit. */
function slotBytes(bytes: Uint8Array, at: number, what: string): number {
  const tag = bytes[at];
  const len = tag === 1 ? LEAF_BYTES : tag === 2 ? INNER_BYTES : corrupt(`${what} is not a node reference`);
  if (at + len > bytes.length) corrupt(`${what} is cut short`);
  return len;
}

function readRef(bytes: Uint8Array, at: number, what: string): [LeafRef | InnerRef, number] {
  const len = slotBytes(bytes, at, what);
  if (bytes[at] === 1) {
    const path = keySlice(bytes, at + 1, at + 1 + HASH_LENGTH);
    return [new LeafRef(path, bytes.subarray(at + 1 + HASH_LENGTH, at + 1 + 2 * HASH_LENGTH), bytes.subarray(at + 1 + 2 * HASH_LENGTH, at + LEAF_BYTES)), at + len];
  }
  const id = keySlice(bytes, at + 1 + HASH_LENGTH, at + INNER_BYTES);
  return [new InnerRef(bytes.subarray(at + 1, at + 1 + HASH_LENGTH), id, undefined, undefined, undefined), at + len];
}

/** A node's children, read in place (SlotRefs into `bytes`); the record is checked whole. */
function decodeNode(bytes: Uint8Array): Children {
  if (bytes.length < 2) corrupt('a node record is cut short');
  const bitmap = (bytes[0]! << 8) | bytes[1]!;
  const children: Children = new Array<Ref>(FANOUT).fill(undefined);
  let at = 2;
  for (let s = 0; s < FANOUT; s++) {
    if (!(bitmap & (0x8000 >> s))) continue;
    children[s] = new SlotRef(bytes, at);
    at += slotBytes(bytes, at, `slot ${s} of a node`);
  }
  if (at !== bytes.length) corrupt('a node record has trailing bytes');
  return children;
}

/**
 * A node's record. A child node with no id yet gets PENDING_ID, and is listed with the offset of
 * that id in `pending` (which must be given then).
 */
function encodeNode(children: Children, pending?: { kids: InnerRef[]; kidAt: number[] }): Uint8Array {
  let len = 2;
  for (let s = 0; s < FANOUT; s++) {
    const c = children[s];
    if (c !== undefined) len += refBytes(c);
  }
  const out = new Uint8Array(len);
  let bitmap = 0;
  let at = 2;
  for (let s = 0; s < FANOUT; s++) {
    const c = children[s];
    if (c === undefined) continue;
    bitmap |= 0x8000 >> s;
    let id: string | undefined;
    if (c instanceof InnerRef) {
      id = c.id;
      if (id === undefined && pending !== undefined) {
        pending.kids.push(c);
        pending.kidAt.push(at + 1 + HASH_LENGTH);
        id = PENDING_ID;
      }
    }
    at = writeRef(out, at, c, id);
  }
  out[0] = bitmap >> 8;
  out[1] = bitmap & 255;
  return out;
}

/** Reads, caches and counts the stored nodes of one state's trees. */
export class NodeStore {
  /** Node records read from storage (cache misses) since the store was made. */
  reads = 0;
  /** Records read by `prefetch` since the store was made (not counted in `reads`). */
  prefetched = 0;
  private readonly cache: LRUCache<string, Uint8Array>;

  constructor(
    readonly storage: StateStorage,
    /** Bytes of node records the cache keeps (each counted with ~100 bytes of overhead). */
    cacheBytes: number,
  ) {
    this.cache = new LRUCache<string, Uint8Array>({ maxSize: Math.max(cacheBytes, 4096), sizeCalculation: (v) => v.length + 100 });
  }

  /** The children of a node. */
  load(ref: InnerRef): Children {
    if (ref.id === undefined) return pendingChildren(ref);
    const id = ref.id!;
    let bytes = this.cache.get(id);
    if (bytes === undefined) {
      bytes = this.storage.get(nodeKey(id));
      this.reads++;
      if (bytes === undefined) throw new StateStorageError(`the stored state has no node ${Buffer.from(fromKey(id)).toString('hex')} (of height ${idVersion(id)}): the data folder is damaged, or that height was pruned`);
      this.cache.set(id, bytes);
    }
    return decodeNode(bytes);
  }

  /**
   * Reads into the cache the stored nodes on the way from `top` to `paths` (latin1, any order)
   * that it lacks, off the main thread (`getMany`, a part of at least PREFETCH_PART_MIN records
   * at a time, at most PREFETCH_PARTS parts of a set of nodes at once): so that an update or proofs
   * for those paths that follow find them in the cache instead of reading them one by one. There is
   * no wait for a whole level: as each part lands, the nodes below it are read. A record is written
   * once under its id and never changed, so what this reads is right whenever it lands, and it
   * changes no tree. At most `maxRecords` records are read. Returns the number read.
   */
  async prefetch(top: Top, paths: readonly string[], getMany: (keys: Uint8Array[]) => Promise<(Uint8Array | undefined)[]>, maxRecords: number): Promise<number> {
    if (!(top instanceof InnerRef) || top.id === undefined || paths.length === 0) return 0;
    let read = 0;
    let failure: unknown;
    const landed: Promise<void>[] = [];
    const visit = (frontier: readonly Frontier[], depth: number): void => {
      if (depth >= 2 * HASH_LENGTH) return;
      const missing: Frontier[] = [];
      const below: Frontier[] = [];
      for (const f of frontier) {
        const bytes = this.cache.peek(f.id);
        if (bytes === undefined) missing.push(f);
        else childrenOnPaths(bytes, f.paths, depth, below);
      }
      if (below.length > 0) visit(below, depth + 1);
      missing.length = Math.min(missing.length, Math.max(0, maxRecords - read));
      read += missing.length;
      const size = Math.max(PREFETCH_PART_MIN, Math.ceil(missing.length / PREFETCH_PARTS));
      for (let at = 0; at < missing.length; at += size) {
        const part = missing.slice(at, at + size);
        const done = getMany(part.map((f) => nodeKey(f.id))).then((got) => {
          this.prefetched += part.length;
          const next: Frontier[] = [];
          got.forEach((bytes, i) => {
            if (bytes === undefined) return; // absent: the read that needs it reports it
            const f = part[i]!;
            if (!this.cache.has(f.id)) this.cache.set(f.id, bytes);
            childrenOnPaths(bytes, f.paths, depth, next);
          });
          if (next.length > 0) visit(next, depth + 1);
        });
        // Every part is awaited below; one that fails is remembered, not left unhandled.
        landed.push(done.catch((e: unknown) => void (failure ??= e)));
      }
    };
    visit([{ id: top.id, paths }], 0);
    for (let i = 0; i < landed.length; i++) await landed[i]; // parts that land add the parts below them
    if (failure !== undefined) throw failure;
    return read;
  }

  /** Keeps a just-stored record in the cache (it is the newest, and the likeliest to be read next). */
  keep(id: string, bytes: Uint8Array): void {
    this.cache.set(id, bytes);
  }

  /**
   * Drops records the head's tree no longer uses from the cache. They stay stored while a kept
   * height needs them, but only a proof at that height reads them: kept, every block's replaced
   * nodes would fill the cache with versions nothing reads (a small state's node at its limit).
   */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.cache.delete(id);
  }

  /** Records in the cache, and the bytes they are counted as. */
  get cached(): { records: number; bytes: number } {
    return { records: this.cache.size, bytes: this.cache.calculatedSize };
  }

  /** The tree whose root record is `bytes` (StateTable.Root). */
  treeOf(bytes: Uint8Array): DiskTree {
    if (bytes.length === 1 && bytes[0] === 0) return this.empty();
    const [top, end] = readRef(bytes, 0, 'a root');
    if (end !== bytes.length) corrupt('a root record has trailing bytes');
    return new DiskTree(this, top, []);
  }

  empty(): DiskTree {
    return new DiskTree(this, undefined, []);
  }
}

/** One pending change: the path, and the new value's hash (undefined: delete). */
interface Change {
  readonly path: string;
  readonly valueHash: Uint8Array | undefined;
}

interface UpdateContext extends Hashing {
  readonly store: NodeStore;
  /** Ids of the stored nodes the update replaced. */
  readonly stale: string[];
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
    readonly top: Top,
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
    const top = expand(apply(ctx, this.top, 0, changes, 0, changes.length));
    return new DiskTree(this.store, top, ctx.stale, { changes: changes.length, hashes: ctx.hashes });
  }

  /** Reads the stored nodes on the way to `paths` that the cache lacks into it (NodeStore.prefetch). */
  prefetch(paths: readonly string[], getMany: (keys: Uint8Array[]) => Promise<(Uint8Array | undefined)[]>, maxRecords: number): Promise<number> {
    return this.store.prefetch(this.top, paths, getMany, maxRecords);
  }

  prove(key: Uint8Array): StateProof {
    const path = toKey(statePath(key));
    const sideNodes: Uint8Array[] = [];
    const h: Hashing = { hashes: 0 };
    let ref: Top = this.top;
    for (let depth = 0; ref instanceof InnerRef; depth++) {
      const children = this.store.load(ref);
      const slot = nibble(path, depth);
      let lo = 0;
      let width = FANOUT;
      let next: Ref = undefined;
      for (; width > 1; width >>= 1) {
        const only = soleChild(children, lo, width);
        if (only === null) return { sideNodes }; // an empty part of the tree: absent
        if (only !== undefined && isLeaf(only)) break; // the one leaf of this part
        const half = width >> 1;
        const right = slot >= lo + half;
        sideNodes.push(rangeHash(h, children, right ? lo : lo + half, half));
        if (right) lo += half;
      }
      next = width === 1 ? children[slot] : (soleChild(children, lo, width) as SlotRef | LeafRef);
      ref = expand(next);
    }
    if (ref === undefined || ref.path === path) return { sideNodes };
    return { sideNodes, leafPath: fromKey(ref.path), leafValueHash: ref.valueHash.slice() };
  }

  /** The ids of the stored nodes this tree reaches (each read once; for checks and exports). */
  *storedIds(): Generator<string> {
    const stack: Top[] = [this.top];
    while (stack.length) {
      const ref = stack.pop();
      if (!(ref instanceof InnerRef)) continue;
      if (ref.id !== undefined) yield ref.id;
      for (const c of this.store.load(ref)) if (c !== undefined && !isLeaf(c)) stack.push(expand(c));
    }
  }

  /**
   * The records of the nodes this tree made that are not stored yet, numbered from `firstSeq`
   * at `version` (0 for a block; a bulk load persists several steps at one version), children
   * before their parents. Their records take their children's ids now, in place; the tree is
   * unchanged until `stored` is called with the result (after the batch lands), so a failed write
   * can be retried with the same records (the same ids). A node not stored that two trees share
   * is persisted by one of them only (another position for it is refused).
   */
  persist(version: number, firstSeq = 0): PersistedTree {
    const ops: StateOps = [];
    const ids = new Map<InnerRef, [string, Uint8Array]>();
    const prefix = versionPrefix(version);
    let seq = firstSeq;
    const idOf = (r: InnerRef): string | undefined => r.id ?? ids.get(r)?.[0];
    const visit = (ref: InnerRef): void => {
      const bytes = ref.rec!;
      const kids = ref.kids;
      if (kids !== undefined) {
        for (const k of kids) if (k.id === undefined && !ids.has(k)) visit(k);
        kids.forEach((k, i) => {
          const kid = idOf(k)!;
          const at = ref.kidAt![i]!;
          for (let j = 0; j < ID_LENGTH; j++) bytes[at + j] = kid.charCodeAt(j);
        });
      }
      const id = prefix + seqChars(seq++);
      if (ref.persistedAs !== undefined && ref.persistedAs !== id) throw new Error('a node not stored yet is persisted at a second position (two trees that share it)');
      ref.persistedAs = id;
      ids.set(ref, [id, bytes]);
      ops.push([nodeKey(id), bytes]);
    };
    const top = this.top;
    if (top instanceof InnerRef && top.id === undefined) visit(top);
    let root: Uint8Array;
    if (top === undefined) root = Uint8Array.of(0);
    else {
      root = new Uint8Array(refBytes(top));
      writeRef(root, 0, top, top instanceof InnerRef ? idOf(top) : undefined);
    }
    return { ops, root, ids, nextSeq: seq };
  }

  /**
   * After `p`'s records landed: the nodes take their ids, leave memory and enter the cache, and
   * the stored nodes they replaced leave it. Returns the stored tree.
   */
  stored(p: PersistedTree): DiskTree {
    this.store.forget(this.stale);
    for (const [ref, [id, bytes]] of p.ids) {
      ref.id = id;
      this.store.keep(id, bytes);
    }
    for (const ref of p.ids.keys()) {
      ref.rec = undefined;
      ref.kids = undefined;
      ref.kidAt = undefined;
    }
    return new DiskTree(this.store, this.top, []);
  }
}

/** Applies changes[lo, hi) (all under `orig`'s position at nibble `depth`); returns `orig` itself when nothing changed. */
function apply(ctx: UpdateContext, orig: Ref, depth: number, changes: Change[], lo: number, hi: number): Ref {
  if (lo === hi) return orig;
  const ref = expand(orig);
  if (ref instanceof InnerRef) {
    const old = ctx.store.load(ref);
    let children: Children | undefined;
    for (let i = lo; i < hi; ) {
      const slot = nibble(changes[i]!.path, depth);
      let j = i + 1;
      while (j < hi && nibble(changes[j]!.path, depth) === slot) j++;
      const c = apply(ctx, old[slot], depth + 1, changes, i, j);
      if (c !== old[slot]) (children ??= old.slice())[slot] = c;
      i = j;
    }
    if (!children) return orig;
    if (ref.id !== undefined) ctx.stale.push(ref.id);
    return nodeOf(ctx, children);
  }
  const leaves = mergeLeaves(ctx, ref, changes, lo, hi);
  if (leaves.length === 1 && leaves[0] === ref) return orig;
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

/** The subtree at nibble `depth` that holds leaves[lo, hi) (sorted by path). */
function build(ctx: UpdateContext, leaves: LeafRef[], depth: number, lo: number, hi: number): Ref {
  if (lo === hi) return undefined;
  if (hi - lo === 1) return leaves[lo];
  const children: Children = new Array<Ref>(FANOUT).fill(undefined);
  for (let i = lo; i < hi; ) {
    const slot = nibble(leaves[i]!.path, depth);
    let j = i + 1;
    while (j < hi && nibble(leaves[j]!.path, depth) === slot) j++;
    children[slot] = build(ctx, leaves, depth + 1, i, j);
    i = j;
  }
  return nodeOf(ctx, children);
}

/** How many nibbles two distinct paths share from the start. */
function commonNibbles(a: string, b: string): number {
  for (let i = 0; i < HASH_LENGTH; i++) {
    const x = a.charCodeAt(i) ^ b.charCodeAt(i);
    if (x !== 0) return 2 * i + (x & 0xf0 ? 0 : 1);
  }
  throw new StateStorageError('two leaves of a bulk build have the same path');
}

/**
 * Builds the stored tree of leaves handed over in ascending path order, bottom up, as a bulk
 * load does: each node is encoded and handed to `emit` as soon as the last leaf below it is
 * known, so memory is bounded by the tree's depth (one open node per nibble of the current
 * path), whatever the number of leaves. The nodes are those `updateRaw` would make from an empty
 * tree (a node for every path prefix that two leaves or more share; a leaf as high as it is
 * alone): the same root and the same proofs. Ids are `version` ‖ seq, seq counting from
 * `firstSeq`, children before their parents.
 */
export class TreeBuilder {
  /** open[d]: the children of the node at nibble depth d on the path of the leaf being placed. */
  private readonly open: (Children | undefined)[] = [];
  /** The last leaf handed over, placed once the next one (or the end) says how deep it sits. */
  private pending: LeafRef | undefined;
  /** The nibbles `pending` shares with the leaf before it (−1: it is the first). */
  private pendingShared = -1;
  private top: Top = undefined;
  private seq: number;
  private readonly prefix: string;
  private readonly hashing: Hashing = { hashes: 0 };
  /** Leaves handed over. */
  leaves = 0;
  /** Node records emitted. */
  nodes = 0;

  constructor(
    version: number,
    private readonly emit: (key: Uint8Array, record: Uint8Array) => void,
    firstSeq = 0,
  ) {
    this.prefix = versionPrefix(version);
    this.seq = firstSeq;
  }

  /** The next leaf: its path (latin1, 32 chars), above the last one's, and its value's hash. */
  add(path: string, valueHash: Uint8Array): void {
    if (path.length !== HASH_LENGTH) throw new StateStorageError(`a bulk build's leaf path is ${path.length} bytes, not ${HASH_LENGTH}`);
    const prev = this.pending;
    if (prev !== undefined) {
      if (path <= prev.path) throw new StateStorageError('the leaves of a bulk build are not in ascending path order');
      const shared = commonNibbles(prev.path, path);
      this.place(prev, this.pendingShared, shared);
      this.pendingShared = shared;
    }
    this.pending = LeafRef.of(path, valueHash);
    this.leaves++;
  }

  /** The tree's root hash and root record (StateTable.Root), once every leaf is in; emits the last nodes. */
  finish(): { root: Uint8Array; record: Uint8Array; nextSeq: number } {
    if (this.pending !== undefined) this.place(this.pending, this.pendingShared, -1);
    this.pending = undefined;
    const top = this.top;
    let record: Uint8Array;
    if (top === undefined) record = Uint8Array.of(0);
    else {
      record = new Uint8Array(refBytes(top));
      writeRef(record, 0, top, top instanceof InnerRef ? top.id : undefined);
    }
    return { root: (top?.hash ?? ZERO_HASH).slice(), record, nextSeq: this.seq };
  }

  /**
   * Places `leaf`, which shares `before` nibbles with the leaf before it and `after` with the
   * one after (−1: none): it sits in the node at depth max(before, after), the deepest prefix it
   * shares; the nodes deeper than `after` are complete then, and are closed bottom up.
   */
  private place(leaf: LeafRef, before: number, after: number): void {
    const depth = Math.max(before, after);
    if (depth < 0) {
      this.top = leaf; // the only leaf
      return;
    }
    for (let d = before + 1; d <= depth; d++) this.open[d] = new Array<Ref>(FANOUT).fill(undefined);
    this.open[depth]![nibble(leaf.path, depth)] = leaf;
    for (let d = depth; d > after; d--) {
      const node = this.close(this.open[d]!);
      this.open[d] = undefined;
      if (d === 0) this.top = node;
      else this.open[d - 1]![nibble(leaf.path, d - 1)] = node;
    }
  }

  private close(children: Children): InnerRef {
    const id = this.prefix + seqChars(this.seq++);
    const node = new InnerRef(rangeHash(this.hashing, children, 0, FANOUT), id, undefined, undefined, undefined);
    this.emit(nodeKey(id), encodeNode(children));
    this.nodes++;
    return node;
  }
}
