/**
 * The entry log's Merkle trees in memory (the hashing: chain/stateentry.ts; the design:
 * docs/state-entry-log.md): what a node keeps to update the state root without reading the disk.
 *
 * Per twig (2,048 positions) it keeps its entry tree's root, its 256 bytes of active bits and its
 * root, and the upper tree's nodes above: ~350 bytes per twig, under 0.2 bytes per position. Only
 * the youngest twig, the one being appended to, is kept whole (its 4,095 nodes, 128 KiB); once it
 * is full, its entry tree never changes again and `update` hands it out for storage, where a
 * proof of one of its entries reads it back (`TwigStore`).
 *
 * A tree is never changed: `update` returns a new one, sharing every page of the columns below
 * that the update did not write (copy on write, 64 twigs a page), so a block built and then
 * dropped costs nothing to the tree it was built on.
 */
import { HASH_LENGTH } from '../../chain/index.js';
import {
  BITS_DEPTH,
  BITS_LEAF_BYTES,
  MAX_POSITIONS,
  NodeKind,
  TWIG_BITS_BYTES,
  TWIG_ENTRIES,
  UPPER_DEPTH,
  ZERO_HASH,
  bitIsSet,
  entryNodeInto,
  isZeroHash,
  type EntryPath,
} from '../../chain/stateentry.js';

/**
 * The twig of a position. Positions go up to 2^35, past the 32-bit range of JavaScript's shift
 * operators (`p >> 11` is negative from 2^31 on), so this divides; the position within its twig
 * is `p & (TWIG_ENTRIES − 1)`, which only reads the low bits.
 */
export function twigOf(position: number): number {
  return Math.floor(position / TWIG_ENTRIES);
}

const PAGE_ITEMS = 64;
/** Bytes of a twig's whole entry tree in heap order: node n at n × 32, the root at 1, the leaves at 2,048..4,095. */
export const TWIG_NODES_BYTES = 2 * TWIG_ENTRIES * HASH_LENGTH;

/** A growable array of fixed-width items, in pages shared between trees until one of them writes. */
class Column {
  constructor(
    readonly width: number,
    private readonly pages: (Uint8Array | undefined)[] = [],
    private readonly owned: boolean[] = [],
  ) {}

  fork(): Column {
    return new Column(this.width, this.pages.slice(), []);
  }

  /** The page holding item `i` and the item's offset in it; the zero page for an item never written. */
  read(i: number): [Uint8Array, number] {
    const p = this.pages[Math.floor(i / PAGE_ITEMS)];
    return p === undefined ? [this.zero(), 0] : [p, (i % PAGE_ITEMS) * this.width];
  }

  /** The page holding item `i`, this column's own (copied first when shared), and the item's offset. */
  write(i: number): [Uint8Array, number] {
    const n = Math.floor(i / PAGE_ITEMS);
    let p = this.pages[n];
    if (p === undefined || !this.owned[n]) {
      p = p === undefined ? new Uint8Array(PAGE_ITEMS * this.width) : p.slice();
      this.pages[n] = p;
      this.owned[n] = true;
    }
    return [p, (i % PAGE_ITEMS) * this.width];
  }

  /** Bytes of the pages this column holds (shared ones included). */
  get bytes(): number {
    let n = 0;
    for (const p of this.pages) if (p !== undefined) n += p.length;
    return n;
  }

  /** Item `i` (a copy). */
  get(i: number): Uint8Array {
    const [p, o] = this.read(i);
    return p.slice(o, o + this.width);
  }

  private zeroPage: Uint8Array | undefined;
  private zero(): Uint8Array {
    return (this.zeroPage ??= new Uint8Array(this.width));
  }
}

/** Where the entry trees of full twigs are kept (the stored state; a map in tests). */
export interface TwigStore {
  /** A full twig's entry tree, as `update` handed it out (TWIG_NODES_BYTES); undefined if not stored. */
  twigNodes(twig: number): Uint8Array | undefined;
}

/** What an update changes. Positions deactivated must be active; appends take the next positions in order. */
export interface TwigChanges {
  /** Entry hashes, appended in this order (never 32 zero bytes). */
  readonly appends: readonly Uint8Array[];
  readonly deactivate: Iterable<number>;
}

export interface TwigUpdate {
  readonly tree: TwigTree;
  /** Twigs this update filled: their entry trees, to be stored (they never change again). */
  readonly filled: readonly { twig: number; nodes: Uint8Array }[];
  /** Twigs whose bits or entry tree changed, ascending: their records to be written. */
  readonly changed: readonly number[];
}

export class TwigTree {
  private constructor(
    /** The next position an append takes; positions below it have been written. */
    readonly next: number,
    private readonly entryRoots: Column,
    private readonly bits: Column,
    /** levels[0]: the twigs' roots; levels[l]: the upper tree's nodes l levels above them. */
    private readonly levels: Column[],
    /** The youngest twig's whole entry tree (its twig: `twigOf(next)`). */
    private readonly tail: Uint8Array,
  ) {}

  static empty(): TwigTree {
    const levels: Column[] = [];
    for (let l = 0; l <= UPPER_DEPTH; l++) levels.push(new Column(HASH_LENGTH));
    return new TwigTree(0, new Column(HASH_LENGTH), new Column(TWIG_BITS_BYTES), levels, new Uint8Array(TWIG_NODES_BYTES));
  }

  /**
   * A tree from what is stored (start-up): `next`, each twig's entry root and bits (twig 0
   * upwards, every twig below `ceil(next / 2,048)`), and the youngest twig's entry hashes
   * (positions from `next − next % 2,048` to `next`). Hashes every twig's root and the upper tree:
   * work in proportion to the twigs, not the entries.
   */
  static restore(next: number, twigs: Iterable<{ entryRoot: Uint8Array; bits: Uint8Array }>, tailLeaves: readonly Uint8Array[]): TwigTree {
    const t = TwigTree.empty();
    const entryRoots = t.entryRoots;
    const bits = t.bits;
    let count = 0;
    for (const { entryRoot, bits: b } of twigs) {
      if (entryRoot.length !== HASH_LENGTH || b.length !== TWIG_BITS_BYTES) throw new RangeError(`twig ${count}'s record has the wrong size`);
      const [rp, ro] = entryRoots.write(count);
      rp.set(entryRoot, ro);
      const [bp, bo] = bits.write(count);
      bp.set(b, bo);
      count++;
    }
    const twigCount = Math.ceil(next / TWIG_ENTRIES);
    if (count !== twigCount) throw new RangeError(`${count} twig records for ${next} positions (${twigCount} twigs)`);
    if (tailLeaves.length !== next % TWIG_ENTRIES) throw new RangeError(`${tailLeaves.length} entries in the youngest twig, not ${next % TWIG_ENTRIES}`);
    const tail = new Uint8Array(TWIG_NODES_BYTES);
    tailLeaves.forEach((h, i) => tail.set(h, (TWIG_ENTRIES + i) * HASH_LENGTH));
    if (tailLeaves.length) {
      rehash(tail, 0, tailLeaves.length);
      const [rp, ro] = entryRoots.read(twigCount - 1);
      if (!equalRange(rp, ro, tail, HASH_LENGTH)) throw new RangeError("the youngest twig's entries do not hash to its stored entry root");
    }
    const all = Array.from({ length: twigCount }, (_, i) => i);
    const tree = new TwigTree(next, entryRoots, bits, t.levels, tail);
    tree.rehashTwigs(all);
    return tree;
  }

  /** The state root. */
  get root(): Uint8Array {
    return this.levels[UPPER_DEPTH]!.get(0);
  }

  /** Twigs with at least one position written. */
  get twigCount(): number {
    return Math.ceil(this.next / TWIG_ENTRIES);
  }

  /** Bytes of the arrays this tree holds (pages it shares with other versions counted in full). */
  get bytes(): number {
    return this.entryRoots.bytes + this.bits.bytes + this.levels.reduce((n, c) => n + c.bytes, 0) + this.tail.length;
  }

  isActive(position: number): boolean {
    if (!Number.isSafeInteger(position) || position < 0 || position >= this.next) return false;
    const [p, o] = this.bits.read(twigOf(position));
    return bitIsSet(p, position & (TWIG_ENTRIES - 1), o);
  }

  /** A twig's record for storage: its entry root and bits (copies). */
  twigRecord(twig: number): { entryRoot: Uint8Array; bits: Uint8Array } {
    return { entryRoot: this.entryRoots.get(twig), bits: this.bits.get(twig) };
  }

  /** Entry hashes of the youngest twig (what `restore` needs beside the twig records). */
  tailLeaves(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.next % TWIG_ENTRIES; i++) out.push(this.tail.slice((TWIG_ENTRIES + i) * HASH_LENGTH, (TWIG_ENTRIES + i + 1) * HASH_LENGTH));
    return out;
  }

  update(changes: TwigChanges): TwigUpdate {
    const { appends } = changes;
    if (this.next + appends.length > MAX_POSITIONS) throw new RangeError('the entry log is full');
    const entryRoots = this.entryRoots.fork();
    const bits = this.bits.fork();
    const levels = this.levels.map((c) => c.fork());
    const dirty = new Set<number>();
    const filled: { twig: number; nodes: Uint8Array }[] = [];
    let tail = appends.length ? this.tail.slice() : this.tail;
    let next = this.next;
    let lo = -1;
    const closeRun = (twig: number, hi: number): void => {
      rehash(tail, lo, hi);
      const [p, o] = entryRoots.write(twig);
      p.set(tail.subarray(HASH_LENGTH, 2 * HASH_LENGTH), o);
      dirty.add(twig);
      lo = -1;
    };
    for (const h of appends) {
      if (h.length !== HASH_LENGTH || isZeroHash(h)) throw new RangeError('an appended entry hash must be 32 bytes and not zero');
      const twig = twigOf(next);
      const i = next & (TWIG_ENTRIES - 1);
      if (lo < 0) lo = i;
      tail.set(h, (TWIG_ENTRIES + i) * HASH_LENGTH);
      const [p, o] = bits.write(twig);
      p[o + (i >> 3)]! |= 1 << (i & 7);
      next++;
      if (i === TWIG_ENTRIES - 1) {
        closeRun(twig, TWIG_ENTRIES);
        filled.push({ twig, nodes: tail });
        tail = new Uint8Array(TWIG_NODES_BYTES);
      }
    }
    if (lo >= 0) closeRun(twigOf(next), next & (TWIG_ENTRIES - 1));
    for (const pos of changes.deactivate) {
      if (!Number.isSafeInteger(pos) || pos < 0 || pos >= next) throw new RangeError(`position ${pos} is not in the log`);
      const twig = twigOf(pos);
      const i = pos & (TWIG_ENTRIES - 1);
      const [p, o] = bits.write(twig);
      if (!bitIsSet(p, i, o)) throw new RangeError(`position ${pos} is not active`);
      p[o + (i >> 3)]! &= ~(1 << (i & 7));
      dirty.add(twig);
    }
    const changed = [...dirty].sort((a, b) => a - b);
    const tree = new TwigTree(next, entryRoots, bits, levels, tail);
    tree.rehashTwigs(changed);
    return { tree, filled, changed };
  }

  /**
   * The tree as it was when the log held `next` positions: those appended since are removed and
   * `reactivate` (positions deactivated since; those appended since too are skipped) set active again. For a proof at
   * a recent height, from the head's tree and the blocks' changes since, without keeping every
   * version in memory. A twig filled since is read from `store` (its entry tree is needed again).
   * Work in proportion to the changes undone, not the log.
   */
  rewind(next: number, reactivate: Iterable<number>, store: TwigStore): TwigTree {
    if (!Number.isSafeInteger(next) || next < 0 || next > this.next) throw new RangeError(`cannot rewind a log of ${this.next} positions to ${next}`);
    const entryRoots = this.entryRoots.fork();
    const bits = this.bits.fork();
    const levels = this.levels.map((c) => c.fork());
    const dirty = new Set<number>();
    const tailTwig = twigOf(next);
    const inTail = next & (TWIG_ENTRIES - 1);
    const twigs = this.twigCount;
    // Twigs wholly appended since: gone.
    for (let t = inTail === 0 ? tailTwig : tailTwig + 1; t < twigs; t++) {
      const [rp, ro] = entryRoots.write(t);
      rp.fill(0, ro, ro + HASH_LENGTH);
      const [bp, bo] = bits.write(t);
      bp.fill(0, bo, bo + TWIG_BITS_BYTES);
      dirty.add(t);
    }
    let tail = new Uint8Array(TWIG_NODES_BYTES);
    if (inTail !== 0) {
      const src = tailTwig === twigOf(this.next) ? this.tail : store.twigNodes(tailTwig);
      if (src === undefined || src.length !== TWIG_NODES_BYTES) throw new RangeError(`the entry tree of twig ${tailTwig} is not stored`);
      tail = src.slice();
      if (tailTwig < twigs && next < this.next) {
        tail.fill(0, (TWIG_ENTRIES + inTail) * HASH_LENGTH);
        rehash(tail, inTail, TWIG_ENTRIES);
        const [rp, ro] = entryRoots.write(tailTwig);
        rp.set(tail.subarray(HASH_LENGTH, 2 * HASH_LENGTH), ro);
        const [bp, bo] = bits.write(tailTwig);
        for (let i = inTail; i < TWIG_ENTRIES; i++) bp[bo + (i >> 3)]! &= ~(1 << (i & 7));
        dirty.add(tailTwig);
      }
    }
    for (const pos of reactivate) {
      if (!Number.isSafeInteger(pos) || pos < 0 || pos >= this.next) throw new RangeError(`position ${pos} is not in the log`);
      if (pos >= next) continue; // appended since: removed above
      const twig = twigOf(pos);
      const i = pos & (TWIG_ENTRIES - 1);
      const [p, o] = bits.write(twig);
      p[o + (i >> 3)]! |= 1 << (i & 7);
      dirty.add(twig);
    }
    const tree = new TwigTree(next, entryRoots, bits, levels, tail);
    tree.rehashTwigs([...dirty].sort((a, b) => a - b));
    return tree;
  }

  /**
   * The hashes from position `position` up to the root (chain/stateentry.ts EntryPath); the entry
   * tree of a full twig is read from `store`. Throws if the position was never written or its
   * twig's entry tree is not stored.
   */
  path(position: number, store: TwigStore): EntryPath {
    if (!Number.isSafeInteger(position) || position < 0 || position >= this.next) throw new RangeError(`position ${position} is not in the log`);
    const twig = twigOf(position);
    const i = position & (TWIG_ENTRIES - 1);
    const nodes = twig === twigOf(this.next) ? this.tail : store.twigNodes(twig);
    if (nodes === undefined || nodes.length !== TWIG_NODES_BYTES) throw new RangeError(`the entry tree of twig ${twig} is not stored`);
    const twigPath: Uint8Array[] = [];
    for (let n = TWIG_ENTRIES + i; n > 1; n >>= 1) {
      const s = n ^ 1;
      twigPath.push(nodes.slice(s * HASH_LENGTH, (s + 1) * HASH_LENGTH));
    }
    const [bp, bo] = this.bits.read(twig);
    const level = bp.slice(bo, bo + TWIG_BITS_BYTES);
    let at = i >> 8;
    const bitsLeaf = level.slice(at * BITS_LEAF_BYTES, (at + 1) * BITS_LEAF_BYTES);
    const bitsPath: Uint8Array[] = [];
    for (let n = TWIG_BITS_BYTES / HASH_LENGTH, d = 0; d < BITS_DEPTH; d++, n >>= 1, at >>= 1) {
      const s = at ^ 1;
      bitsPath.push(level.slice(s * HASH_LENGTH, (s + 1) * HASH_LENGTH));
      for (let k = 0; k < n; k += 2) entryNodeInto(NodeKind.Bits, level, k * HASH_LENGTH, level, (k >> 1) * HASH_LENGTH);
    }
    const upperPath: Uint8Array[] = [];
    for (let l = 0; l < UPPER_DEPTH; l++) upperPath.push(this.levels[l]!.get(Math.floor(twig / 2 ** l) ^ 1));
    return { position, twigPath, bitsLeaf, bitsPath, upperPath };
  }

  /** Rehashes the roots of `twigs` (ascending) and the upper tree above them. */
  private rehashTwigs(twigs: readonly number[]): void {
    const pair = new Uint8Array(2 * HASH_LENGTH);
    const bitsLevel = new Uint8Array(TWIG_BITS_BYTES);
    const roots = this.levels[0]!;
    for (const t of twigs) {
      const [bp, bo] = this.bits.read(t);
      bitsLevel.set(bp.subarray(bo, bo + TWIG_BITS_BYTES));
      for (let n = TWIG_BITS_BYTES / HASH_LENGTH; n > 1; n >>= 1) {
        for (let k = 0; k < n; k += 2) entryNodeInto(NodeKind.Bits, bitsLevel, k * HASH_LENGTH, bitsLevel, (k >> 1) * HASH_LENGTH);
      }
      const [rp, ro] = this.entryRoots.read(t);
      pair.set(rp.subarray(ro, ro + HASH_LENGTH), 0);
      pair.set(bitsLevel.subarray(0, HASH_LENGTH), HASH_LENGTH);
      const [p, o] = roots.write(t);
      entryNodeInto(NodeKind.TwigRoot, pair, 0, p, o);
    }
    let idx = twigs;
    for (let l = 1; l <= UPPER_DEPTH; l++) {
      const below = this.levels[l - 1]!;
      const here = this.levels[l]!;
      const up: number[] = [];
      for (const c of idx) {
        const n = Math.floor(c / 2);
        if (up.length && up[up.length - 1] === n) continue;
        up.push(n);
        const [lp, lo] = below.read(2 * n);
        pair.set(lp.subarray(lo, lo + HASH_LENGTH), 0);
        const [rp, ro] = below.read(2 * n + 1);
        pair.set(rp.subarray(ro, ro + HASH_LENGTH), HASH_LENGTH);
        const [p, o] = here.write(n);
        entryNodeInto(NodeKind.Upper, pair, 0, p, o);
      }
      idx = up;
    }
  }
}

/** Rehashes an entry tree (heap order) above its leaves lo..hi−1. */
function rehash(nodes: Uint8Array, lo: number, hi: number): void {
  let a = TWIG_ENTRIES + lo;
  let b = TWIG_ENTRIES + hi - 1;
  while (a > 1) {
    a >>= 1;
    b >>= 1;
    for (let n = a; n <= b; n++) entryNodeInto(NodeKind.Twig, nodes, 2 * n * HASH_LENGTH, nodes, n * HASH_LENGTH);
  }
}

/** A twig's entry tree (TWIG_NODES_BYTES, the layout of a full twig's stored one) from its entry hashes (at most 2,048; the positions after them are zero). Its entry root is node 1, bytes 32 to 64. */
export function twigEntryTree(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length > TWIG_ENTRIES) throw new RangeError(`a twig holds ${TWIG_ENTRIES} entries, not ${leaves.length}`);
  const nodes = new Uint8Array(TWIG_NODES_BYTES);
  leaves.forEach((h, i) => nodes.set(h, (TWIG_ENTRIES + i) * HASH_LENGTH));
  if (leaves.length) rehash(nodes, 0, leaves.length);
  return nodes;
}

function equalRange(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < HASH_LENGTH; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

export { ZERO_HASH };
