import sortedBtree from 'sorted-btree';
import { toKey } from '../../chain/index.js';
import { VmError, VmErrorCode } from '../errors.js';

const BTree = sortedBtree.default;
type KeySet = InstanceType<typeof BTree<string, undefined>>;

/** Reads by latin1 string key (see chain/bytes.ts toKey); `undefined` means absent. */
export interface StateReader {
  getRaw(key: string): Uint8Array | undefined;
}

/** Which keys a scan returns: those after `after` (a whole key; exclusive), at most `limit`. */
export interface ScanOptions {
  after?: string;
  limit: number;
}

/**
 * A reader that can also list the keys under a prefix in key order (latin1 strings compare as
 * their bytes do). A scan always has a limit, so that the work a block hook does stays bounded;
 * page on with `after` set to the last key returned.
 */
export interface OrderedReader extends StateReader {
  scan(prefix: string, opts: ScanOptions): [string, Uint8Array][];
}

/** Above every key that starts with `prefix` (keys are latin1: no code unit above 0xff). */
export const prefixEnd = (prefix: string): string => prefix + '\u0100';

/** Where a scan of `prefix` after `after` starts (inclusive), and whether the first key equal to it is to be skipped. */
export function scanStart(prefix: string, after: string | undefined): { low: string; skip: string | undefined } {
  return after !== undefined && after >= prefix ? { low: after, skip: after } : { low: prefix, skip: undefined };
}

/** A sorted set of keys, scanned by prefix: what WorldState and Overlay keep their key order in. */
export class SortedKeys {
  private readonly tree: KeySet = new BTree<string, undefined>();

  static of(keys: Iterable<string>): SortedKeys {
    const s = new SortedKeys();
    for (const k of [...keys].sort()) s.tree.set(k, undefined);
    return s;
  }

  add(key: string): void {
    this.tree.set(key, undefined);
  }

  delete(key: string): void {
    this.tree.delete(key);
  }

  get size(): number {
    return this.tree.size;
  }

  /** Up to `limit` keys under `prefix`, after `after`, ascending. */
  range(prefix: string, after: string | undefined, limit: number): string[] {
    if (limit <= 0) return [];
    const { low, skip } = scanStart(prefix, after);
    const out: string[] = [];
    for (const [k] of this.tree.getRange(low, prefixEnd(prefix), false, limit + 1)) {
      if (k === skip) continue;
      out.push(k);
      if (out.length === limit) break;
    }
    return out;
  }
}

/** The scan limit's check, shared by every OrderedReader. */
export function checkScanLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`a scan needs a non-negative integer limit, not ${limit}`);
}

/**
 * Merges two sorted key streams: `head` (keys of a base, fetched in pages) and `pending` (keys
 * that something above the base wrote), reading each candidate's value through `read`; a key whose
 * value is undefined (deleted above the base) is skipped. At most `limit` entries.
 */
export function mergeScan(
  opts: ScanOptions,
  base: (after: string | undefined, limit: number) => string[],
  pending: string[],
  read: (key: string) => Uint8Array | undefined,
): [string, Uint8Array][] {
  checkScanLimit(opts.limit);
  const out: [string, Uint8Array][] = [];
  let page: string[] = [];
  let pi = 0;
  let cursor = opts.after;
  let baseDone = false;
  let qi = 0;
  while (out.length < opts.limit) {
    if (pi === page.length && !baseDone) {
      page = base(cursor, Math.max(16, opts.limit - out.length));
      pi = 0;
      if (page.length === 0) baseDone = true;
      else cursor = page[page.length - 1];
    }
    const b = pi < page.length ? page[pi] : undefined;
    const q = qi < pending.length ? pending[qi] : undefined;
    if (b === undefined && q === undefined) break;
    let key: string;
    if (q === undefined || (b !== undefined && b < q)) {
      key = b!;
      pi++;
    } else {
      key = q;
      qi++;
      if (b === q) pi++;
    }
    const v = read(key);
    if (v !== undefined) out.push([key, v]);
  }
  return out;
}

/** What modules see: byte keys and values. */
export interface KVStore {
  get(key: Uint8Array): Uint8Array | undefined;
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
}

/** Pending writes: a value, or `null` for a deletion. */
export type WriteSet = Map<string, Uint8Array | null>;

/** Marks, in the journal, a key that had no write before (reverting deletes it from the write set). */
const absent = Symbol('absent');

/**
 * A write buffer over a parent reader: a block executes into one. Transactions are bracketed by
 * `checkpoint()` and either `revertTo()` (a failed transaction: its writes are undone) or
 * `release()` (kept). The journal records what each write replaced, so reverting costs the
 * writes made since the checkpoint and keeping costs nothing. Checkpoints nest.
 */
export class Overlay implements OrderedReader, KVStore {
  readonly writes: WriteSet = new Map();
  /** The written keys in order, made at the first scan and kept up to date from then on. */
  private sorted?: SortedKeys;
  /**
   * The key prefix reads and writes must stay within while a module runs (`<module>/`; see
   * `asModule`), or '' outside modules (the core: nonces, and the fee path's own entry).
   */
  private scope = '';
  /** What each write since the outermost checkpoint replaced: keys and previous values side by side. */
  private readonly journalKeys: string[] = [];
  private readonly journalPrev: (Uint8Array | null | typeof absent)[] = [];
  private depth = 0;

  constructor(private readonly parent: StateReader) {}

  getRaw(key: string): Uint8Array | undefined {
    if (this.scope !== '' && !key.startsWith(this.scope)) this.outOfScope(key);
    const w = this.writes.get(key);
    if (w !== undefined) return w === null ? undefined : w;
    return this.parent.getRaw(key);
  }

  /** Keys under `prefix` in order, the block's writes over the parent's (which must be an OrderedReader). */
  scan(prefix: string, opts: ScanOptions): [string, Uint8Array][] {
    if (this.scope !== '' && !prefix.startsWith(this.scope)) this.outOfScope(prefix);
    const parent = this.parent as Partial<OrderedReader>;
    if (!parent.scan) throw new VmError(VmErrorCode.StateMismatch, 'this state cannot be scanned: its base keeps no key order');
    this.sorted ??= SortedKeys.of(this.writes.keys());
    const pending = this.sorted.range(prefix, opts.after, Number.MAX_SAFE_INTEGER);
    return mergeScan(opts, (after, limit) => parent.scan!(prefix, { limit, ...(after !== undefined ? { after } : {}) }).map(([k]) => k), pending, (k) => {
      const w = this.writes.get(k);
      return w !== undefined ? (w === null ? undefined : w) : this.parent.getRaw(k);
    });
  }

  /**
   * Runs `fn` with reads and writes limited to keys under `<module>/` (nested calls switch and
   * restore: a keeper that another module calls runs under its own module's prefix).
   */
  within<T>(module: string, fn: () => T): T {
    const prev = this.scope;
    this.scope = `${module}/`;
    try {
      return fn();
    } finally {
      this.scope = prev;
    }
  }

  private outOfScope(key: string): never {
    const shown = key.length > 48 ? `${key.slice(0, 48)}…` : key;
    throw new VmError(VmErrorCode.OutOfScope, `module ${this.scope.slice(0, -1)} touched key "${shown.replace(/[^\x20-\x7e]/g, '.')}" outside its prefix "${this.scope}": another module's state is reached through its keeper`);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.getRaw(toKey(key));
  }

  /** Writes `value` (or deletes, with null) under a latin1 string key (see chain/bytes.ts toKey). */
  setRaw(key: string, value: Uint8Array | null): void {
    if (this.scope !== '' && !key.startsWith(this.scope)) this.outOfScope(key);
    if (this.sorted && !this.writes.has(key)) this.sorted.add(key);
    if (this.depth > 0) {
      const prev = this.writes.get(key);
      this.journalKeys.push(key);
      this.journalPrev.push(prev === undefined ? absent : prev);
    }
    this.writes.set(key, value);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.setRaw(toKey(key), value);
  }

  delete(key: Uint8Array): void {
    this.setRaw(toKey(key), null);
  }

  /** Marks the current state; returns the mark for revertTo/release. */
  checkpoint(): number {
    this.depth++;
    return this.journalKeys.length;
  }

  /** Undoes every write since `mark`, and closes its checkpoint. */
  revertTo(mark: number): void {
    while (this.journalKeys.length > mark) {
      const key = this.journalKeys.pop()!;
      const prev = this.journalPrev.pop()!;
      if (prev === absent) {
        this.writes.delete(key);
        this.sorted?.delete(key);
      } else this.writes.set(key, prev);
    }
    this.depth--;
  }

  /** Keeps the writes since `mark`, and closes its checkpoint. */
  release(mark: number): void {
    // An outer checkpoint may still revert what this one keeps, so only the outermost clears.
    void mark;
    if (--this.depth === 0) {
      this.journalKeys.length = 0;
      this.journalPrev.length = 0;
    }
  }
}

/** A KVStore whose keys are all under one prefix: each module's slice of the state. */
export class PrefixedStore implements KVStore {
  constructor(
    private readonly inner: KVStore,
    private readonly prefix: Uint8Array,
  ) {}

  private k(key: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.prefix.length + key.length);
    out.set(this.prefix);
    out.set(key, this.prefix.length);
    return out;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.inner.get(this.k(key));
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.inner.set(this.k(key), value);
  }

  delete(key: Uint8Array): void {
    this.inner.delete(this.k(key));
  }
}

/**
 * Runs `fn` as module `module`: on an Overlay (execution), with reads and writes limited to its
 * prefix (Overlay.within); on any other reader (queries, the mempool), as is. Every method one
 * module offers others (a keeper) runs its body through this, under its own name.
 */
export function asModule<T>(state: StateReader, module: string, fn: () => T): T {
  return state instanceof Overlay ? state.within(module, fn) : fn();
}
