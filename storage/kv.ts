import { Level } from 'level';
import { compareBytes, fromKey, toKey } from '../chain/index.js';
import { StorageError, StorageErrorCode } from './errors.js';

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** Keys with gte <= key < lt; `reverse` walks them from the highest down, `limit` stops early. */
export interface KVRange {
  gte: Uint8Array;
  lt: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

/** The one key-value interface the repositories are written against. */
export interface KVController {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Applies all operations atomically; with `sync`, returns once they are on disk. */
  batch(ops: BatchOp[], opts?: { sync?: boolean }): Promise<void>;
  /** Entries with gte <= key < lt, in key order (descending with `reverse`), at most `limit` of them. */
  entries(range: KVRange): AsyncIterable<[Uint8Array, Uint8Array]>;
  close(): Promise<void>;
}

/** Values at least this long are handed to LevelDB as they are (V8 keeps them off its heap). */
const ARENA_MAX_VALUE = 4096;

/** LevelDB, through `level` (classic-level). */
export class LevelKV implements KVController {
  private constructor(
    private readonly db: Level<Uint8Array, Uint8Array>,
    private readonly location: string,
  ) {}

  static async open(location: string): Promise<LevelKV> {
    const db = new Level<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: Error }).cause ?? (e as Error);
      const msg = String(cause.message ?? cause);
      if (/lock/i.test(msg)) {
        throw new StorageError(StorageErrorCode.Locked, `database ${location} is in use by another process (is another metanode running with this home?)`, { location });
      }
      throw new StorageError(StorageErrorCode.Open, `cannot open database ${location}: ${msg}. If it is corrupt, restore it from a backup or re-sync into an empty home.`, { location });
    }
    return new LevelKV(db, location);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    let v: Uint8Array | undefined;
    try {
      v = await this.db.get(key);
    } catch (e) {
      throw this.readError(e);
    }
    return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  async batch(ops: BatchOp[], opts: { sync?: boolean } = {}): Promise<void> {
    // classic-level copies each key and value out of its Uint8Array through N-API, which first
    // moves a small array's bytes off the V8 heap (a new backing store, counted as external
    // memory); views into one large buffer are already off the heap. Copying them there first
    // costs a fraction of that (docs/performance.md).
    let size = 0;
    for (const op of ops) size += op.key.length + (op.type === 'put' && op.value.length < ARENA_MAX_VALUE ? op.value.length : 0);
    const arena = new Uint8Array(Math.max(size, 128));
    let at = 0;
    const view = (bytes: Uint8Array): Uint8Array => {
      if (bytes.length >= ARENA_MAX_VALUE) return bytes; // already off the heap
      arena.set(bytes, at);
      at += bytes.length;
      return arena.subarray(at - bytes.length, at);
    };
    const b = this.db.batch();
    try {
      for (const op of ops) {
        if (op.type === 'put') b.put(view(op.key), view(op.value));
        else b.del(view(op.key));
      }
    } catch (e) {
      await b.close();
      throw e;
    }
    await b.write({ sync: opts.sync ?? false } as never);
  }

  async *entries(range: KVRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    try {
      const { gte, lt, reverse = false, limit = -1 } = range;
      for await (const [k, v] of this.db.iterator({ gte, lt, reverse, limit })) yield [k, v];
    } catch (e) {
      throw this.readError(e);
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** LevelDB reports a damaged file (e.g. a garbled table) only when it is read. */
  private readError(e: unknown): unknown {
    if ((e as { code?: string }).code !== 'LEVEL_CORRUPTION') return e;
    return new StorageError(
      StorageErrorCode.Corrupt,
      `database ${this.location} is corrupt (${(e as Error).message}); restore it from a backup or re-sync into an empty home`,
      { location: this.location },
    );
  }
}

/** In memory, for tests. */
export class MemoryKV implements KVController {
  private readonly data = new Map<string, Uint8Array>();
  private closed = false;

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.check();
    return this.data.get(toKey(key));
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.check();
    for (const op of ops) {
      if (op.type === 'put') this.data.set(toKey(op.key), op.value);
      else this.data.delete(toKey(op.key));
    }
  }

  async *entries(range: KVRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.check();
    const hits = [...this.data]
      .map(([k, v]) => [fromKey(k), v] as [Uint8Array, Uint8Array])
      .filter(([k]) => compareBytes(k, range.gte) >= 0 && compareBytes(k, range.lt) < 0)
      .sort((a, b) => compareBytes(a[0], b[0]));
    if (range.reverse) hits.reverse();
    yield* range.limit !== undefined && range.limit >= 0 ? hits.slice(0, range.limit) : hits;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.Closed, 'database is closed');
  }
}
