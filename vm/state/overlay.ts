import { toKey } from '../../chain/index.js';

/** Reads by latin1 string key (see chain/bytes.ts toKey); `undefined` means absent. */
export interface StateReader {
  getRaw(key: string): Uint8Array | undefined;
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
export class Overlay implements StateReader, KVStore {
  readonly writes: WriteSet = new Map();
  /** What each write since the outermost checkpoint replaced: keys and previous values side by side. */
  private readonly journalKeys: string[] = [];
  private readonly journalPrev: (Uint8Array | null | typeof absent)[] = [];
  private depth = 0;

  constructor(private readonly parent: StateReader) {}

  getRaw(key: string): Uint8Array | undefined {
    const w = this.writes.get(key);
    if (w !== undefined) return w === null ? undefined : w;
    return this.parent.getRaw(key);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.getRaw(toKey(key));
  }

  /** Writes `value` (or deletes, with null) under a latin1 string key (see chain/bytes.ts toKey). */
  setRaw(key: string, value: Uint8Array | null): void {
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
      if (prev === absent) this.writes.delete(key);
      else this.writes.set(key, prev);
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
