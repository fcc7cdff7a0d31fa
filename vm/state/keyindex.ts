/**
 * The state's keys in order, on disk, for scans by prefix (the modules' iteration: staking's
 * roster, ENC's queues, court's votes): a B-tree of one level, i.e. sorted pages of keys with a
 * directory of their lower bounds.
 *
 * Page i holds the keys k with lb(i) <= k < lb(i+1); page 0's bound is '' and it is never removed.
 * A page that grows past PAGE_MAX keys is split into pages of PAGE_SPLIT keys (the new ones
 * bounded by their first key); a page other than the first that becomes empty is removed (its
 * range falls to the page before). Bounds never change otherwise, so a key's page is found by a
 * binary search of the directory, which is the only part in memory: a bound per page, ~1/300 of
 * the keys. Pages are read through a bounded cache.
 *
 * Records: StateTable.Page ‖ id u32 → the page (u32 count, then per key u16 length ‖ latin1 bytes);
 * StateTable.Directory ‖ id u32 → the bound (latin1 bytes).
 */
import { LRUCache } from 'lru-cache';
import { fromKey } from '../../chain/index.js';
import { prefixEnd, scanStart } from './overlay.js';
import { StateStorageError, StateTable, tableKey, u32, type StateOps, type StateStorage } from './storage.js';

export const PAGE_MAX = 512;
const PAGE_SPLIT = 256;

interface DirEntry {
  readonly lb: string;
  readonly id: number;
}

/** First index in sorted `keys` whose key is >= `k`. */
function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodePage(keys: readonly string[]): Uint8Array {
  let len = 4;
  for (const k of keys) len += 2 + k.length;
  const out = Buffer.allocUnsafe(len);
  out.writeUInt32BE(keys.length, 0);
  let at = 4;
  for (const k of keys) {
    out.writeUInt16BE(k.length, at);
    out.write(k, at + 2, 'latin1');
    at += 2 + k.length;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function decodePage(bytes: Uint8Array, id: number): string[] {
  const fail = (): never => {
    throw new StateStorageError(`the stored state is corrupt: key page ${id} cannot be read`);
  };
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 4) fail();
  const n = b.readUInt32BE(0);
  const keys: string[] = new Array<string>(n);
  let at = 4;
  for (let i = 0; i < n; i++) {
    if (at + 2 > b.length) fail();
    const len = b.readUInt16BE(at);
    if (at + 2 + len > b.length) fail();
    keys[i] = b.toString('latin1', at + 2, at + 2 + len);
    at += 2 + len;
  }
  if (at !== b.length) fail();
  return keys;
}

const pageKey = (id: number): Uint8Array => tableKey(StateTable.Page, u32(id));
const dirKey = (id: number): Uint8Array => tableKey(StateTable.Directory, u32(id));

/** What a block does to the index: the records to write, and the new directory and pages once they land. */
export interface StagedIndex {
  readonly ops: StateOps;
  readonly dir: readonly DirEntry[];
  readonly pages: ReadonlyMap<number, string[] | null>;
  readonly nextId: number;
}

export class KeyIndex {
  /** Page records read from storage (cache misses). */
  reads = 0;
  private readonly cache: LRUCache<number, string[]>;
  /** No record of this index is stored yet. */
  private fresh = false;

  private constructor(
    private readonly storage: StateStorage,
    private dir: readonly DirEntry[],
    private nextId: number,
    cacheBytes: number,
  ) {
    this.cache = new LRUCache<number, string[]>({ maxSize: Math.max(cacheBytes, 4096), sizeCalculation: (keys) => 64 + keys.length * 48 });
  }

  /** Pages in the cache, and the bytes they are counted as. */
  get cached(): { records: number; bytes: number } {
    return { records: this.cache.size, bytes: this.cache.calculatedSize };
  }

  /** An index with no pages stored yet: page 0 is made by the first stage. */
  static empty(storage: StateStorage, cacheBytes: number): KeyIndex {
    const index = new KeyIndex(storage, [{ lb: '', id: 0 }], 1, cacheBytes);
    index.fresh = true;
    return index;
  }

  /** The index whose directory records are `entries` (any order). */
  static fromDirectory(storage: StateStorage, entries: Iterable<readonly [Uint8Array, Uint8Array]>, nextId: number, cacheBytes: number): KeyIndex {
    const dir: DirEntry[] = [];
    for (const [k, v] of entries) {
      if (k.length !== 5 || k[0] !== StateTable.Directory) throw new StateStorageError('the stored state is corrupt: a key directory record has a bad key');
      dir.push({ id: new DataView(k.buffer, k.byteOffset + 1, 4).getUint32(0), lb: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1') });
    }
    dir.sort((a, b) => (a.lb < b.lb ? -1 : a.lb > b.lb ? 1 : 0));
    if (dir.length === 0 || dir[0]!.lb !== '' || dir[0]!.id !== 0) throw new StateStorageError('the stored state is corrupt: the key directory has no first page');
    return new KeyIndex(storage, dir, nextId, cacheBytes);
  }

  get pageCount(): number {
    return this.dir.length;
  }

  get nextPageId(): number {
    return this.nextId;
  }

  /** Index in `dir` of the page that holds (or would hold) `key`. */
  private pageOf(dir: readonly DirEntry[], key: string): number {
    let lo = 0;
    let hi = dir.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (dir[mid]!.lb <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private page(id: number): string[] {
    let keys = this.cache.get(id);
    if (keys === undefined) {
      const bytes = this.storage.get(pageKey(id));
      this.reads++;
      keys = bytes === undefined ? [] : decodePage(bytes, id);
      this.cache.set(id, keys);
    }
    return keys;
  }

  /** Up to `limit` keys under `prefix`, after `after`, ascending. */
  range(prefix: string, after: string | undefined, limit: number): string[] {
    const out: string[] = [];
    if (limit <= 0) return out;
    const { low, skip } = scanStart(prefix, after);
    const end = prefixEnd(prefix);
    for (let i = this.pageOf(this.dir, low); i < this.dir.length && this.dir[i]!.lb < end; i++) {
      const keys = this.page(this.dir[i]!.id);
      for (let j = lowerBound(keys, low); j < keys.length; j++) {
        const k = keys[j]!;
        if (k >= end) return out;
        if (k === skip) continue;
        out.push(k);
        if (out.length === limit) return out;
      }
    }
    return out;
  }

  /** The greatest key below `key`, or undefined when there is none: one page read, or more past emptied ones at a page's edge. */
  below(key: string): string | undefined {
    for (let i = this.pageOf(this.dir, key); i >= 0; i--) {
      const keys = this.page(this.dir[i]!.id);
      const j = lowerBound(keys, key);
      if (j > 0) return keys[j - 1];
    }
    return undefined;
  }

  /** Every key, in order (for an export): pages read one at a time. */
  *all(): Generator<string> {
    for (const { id } of this.dir) yield* this.page(id);
  }

  /** The records that add `adds` (keys not in the index) and remove `dels` (keys in it); nothing changes until `applyStaged`. */
  stage(adds: readonly string[], dels: readonly string[]): StagedIndex {
    const ops: StateOps = [];
    const touched = new Map<number, { adds: string[]; dels: Set<string> }>();
    const slot = (k: string): { adds: string[]; dels: Set<string> } => {
      const i = this.pageOf(this.dir, k);
      let t = touched.get(i);
      if (!t) touched.set(i, (t = { adds: [], dels: new Set() }));
      return t;
    };
    for (const k of adds) slot(k).adds.push(k);
    for (const k of dels) slot(k).dels.add(k);
    let dir: DirEntry[] | undefined;
    const pages = new Map<number, string[] | null>();
    let nextId = this.nextId;
    const removed = new Set<number>();
    const added: DirEntry[] = [];
    for (const [i, t] of touched) {
      const { id, lb } = this.dir[i]!;
      const old = this.page(id);
      const kept = t.dels.size ? old.filter((k) => !t.dels.has(k)) : old;
      t.adds.sort();
      // Merge two sorted lists.
      const keys: string[] = [];
      let a = 0;
      let b = 0;
      while (a < kept.length || b < t.adds.length) {
        if (b === t.adds.length || (a < kept.length && kept[a]! < t.adds[b]!)) keys.push(kept[a++]!);
        else keys.push(t.adds[b++]!);
      }
      if (keys.length === 0 && lb !== '') {
        removed.add(id);
        pages.set(id, null);
        ops.push([pageKey(id), null], [dirKey(id), null]);
        continue;
      }
      if (keys.length <= PAGE_MAX) {
        pages.set(id, keys);
        ops.push([pageKey(id), encodePage(keys)]);
        continue;
      }
      for (let at = 0; at < keys.length; at += PAGE_SPLIT) {
        const chunk = keys.slice(at, at + PAGE_SPLIT);
        const pid = at === 0 ? id : nextId++;
        pages.set(pid, chunk);
        ops.push([pageKey(pid), encodePage(chunk)]);
        if (at > 0) {
          added.push({ lb: chunk[0]!, id: pid });
          ops.push([dirKey(pid), fromKey(chunk[0]!)]);
        }
      }
    }
    if (removed.size || added.length) {
      dir = this.dir.filter((e) => !removed.has(e.id)).concat(added);
      dir.sort((x, y) => (x.lb < y.lb ? -1 : x.lb > y.lb ? 1 : 0));
    }
    // The first page's bound, written with the first stage of a new index.
    if (this.fresh) ops.push([dirKey(0), new Uint8Array(0)]);
    return { ops, dir: dir ?? this.dir, pages, nextId };
  }

  /** After a stage's records landed. */
  applyStaged(s: StagedIndex): void {
    this.fresh = false;
    this.dir = s.dir;
    this.nextId = s.nextId;
    for (const [id, keys] of s.pages) {
      if (keys === null) this.cache.delete(id);
      else this.cache.set(id, keys);
    }
  }
}
