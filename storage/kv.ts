import { Level } from 'level';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { compareBytes, fromKey, toKey } from '../chain/index.js';
import { StorageError, StorageErrorCode } from './errors.js';
import { RecordLog, type RecordRef } from './recordlog.js';
import { LevelScratch, type Scratch } from './scratch.js';

/**
 * `append`: a value written once under a key that is never overwritten or deleted (a block's
 * body, its receipts). A store may keep it outside its index, in an append-only log, and read it
 * back with `getAppended`.
 */
export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array } | { type: 'append'; key: Uint8Array; value: Uint8Array };

/** Keys with gte <= key < lt; `reverse` walks them from the highest down, `limit` stops early. */
export interface KVRange {
  gte: Uint8Array;
  lt: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

/**
 * Synchronous reads of one consistent view of the store (a LevelDB snapshot): what the state
 * reads while a block executes. `refresh` moves it to what the store holds now.
 */
export interface KVReadView {
  get(key: Uint8Array): Uint8Array | undefined;
  /**
   * The same reads, of the same view, done off the main thread (LevelDB's on libuv's pool): for
   * a prefetch that warms caches ahead of synchronous reads. A view refreshed meanwhile may answer
   * from either side of the refresh; the caller checks (StoredState.prefetch).
   */
  getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  refresh(): void;
}

/** The one key-value interface the repositories are written against. */
export interface KVController {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** A value written with an `append` operation (or, in a database written before those, a `put`). */
  getAppended(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Applies all operations atomically; with `sync`, returns once they are on disk. */
  batch(ops: BatchOp[], opts?: { sync?: boolean }): Promise<void>;
  /** Entries with gte <= key < lt, in key order (descending with `reverse`), at most `limit` of them. */
  entries(range: KVRange): AsyncIterable<[Uint8Array, Uint8Array]>;
  /** A synchronous view of the store as it is now (see KVReadView). */
  readView(): KVReadView;
  /** A scratch store beside this one, for what a bulk job sorts (storage/scratch.ts); absent: one in memory. */
  scratch?(): Promise<Scratch>;
  close(): Promise<void>;
}

/**
 * Values longer than this are handed to LevelDB as they are: V8 keeps a typed array's bytes on its
 * own heap only up to 64 bytes (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP), so longer ones are off the heap
 * already and a copy would only add a block's worth of memory (its tree records) to the write.
 */
const ON_HEAP_MAX_VALUE = 64;

/**
 * Keys from 0xff on are LevelKV's own (storage/buckets.ts never uses them): where the value log
 * ends, and per appended key where its value is (0xff 0x01 ‖ key → segment u32 ‖ offset u64 ‖
 * length u32, big-endian).
 */
const VALUE_LOG_END = Uint8Array.of(0xff, 0x00);
const VALUE_REF_PREFIX = 0x01;
/** A value-log file takes no more appends once the next would take it past this size. */
const VALUE_SEGMENT_BYTES = 256 * 1024 * 1024;
/**
 * The table files LevelDB keeps open (max_open_files; LevelDB's own default is 1,000). LevelDB
 * maps each open table file into memory (mmap) and reads it there, so the pages it has read count
 * as the process's resident memory until the file is closed: with 1,000 files of ~2 MB open, a
 * node over a large state held ~2.9 GB of them. Fewer open files bounds that (a file is closed,
 * and unmapped, when it leaves LevelDB's table cache) at the price of reopening a file (its
 * footer, index and filter blocks) when a read needs one that is not open. 74 is the least LevelDB
 * takes (64 tables, 10 files of its own): at ten million accounts it held the node's peak under
 * load to 762–800 MiB resident against 1,094–3,572 with 1,000, at no measurable cost in
 * throughput (docs/performance.md).
 */
export const MIN_OPEN_FILES = 74;
export const DEFAULT_OPEN_FILES = MIN_OPEN_FILES;

/**
 * LevelDB, through `level` (classic-level), with a value log beside it for appended values
 * (`<location>/values`, storage/recordlog.ts): large values written once, such as blocks and
 * receipts, then never pass through LevelDB's memtables, write-ahead log and compactions, which
 * copy every byte again at each level (and map the files they read, so a compaction's inputs
 * count as the process's memory while it runs). LevelDB keeps where each value is.
 *
 * A batch with appends writes them to the log and syncs it first, then writes the batch with
 * their locations and the log's new end; at open, the log is cut back to the end LevelDB
 * recorded, dropping appends whose batch never landed.
 *
 * A write that fails (a full disk, an I/O error) leaves the database usable only after it is
 * opened again: LevelDB may have part of the batch in its log, and writes after it on the same
 * handle can be dropped at the next open, acknowledged or not; the value log refuses appends
 * after a failed one. So the next batch first closes and reopens both (the same recovery as a
 * restart: the torn write is cut off), and fails again while that is not possible.
 */
export class LevelKV implements KVController {
  /** Batches with appends run one at a time, so that the recorded end only moves forward. */
  private appendTail: Promise<unknown> = Promise.resolve();
  /** Set by a failed write, until the database is reopened. */
  private failed: Error | undefined;
  private reopening: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private db: Level<Uint8Array, Uint8Array>,
    private readonly location: string,
    private values: RecordLog,
    /** The value-log file that takes appends (its size is the log's). */
    private valuesSegment: number,
    private readonly valueSegmentBytes: number,
    private readonly openFiles: number,
  ) {}

  /**
   * `valueSegmentBytes`: the size of the value log's files (tests make it small). `openFiles`:
   * LevelDB's max_open_files, the table files it keeps open (default DEFAULT_OPEN_FILES).
   */
  static async open(location: string, o: { valueSegmentBytes?: number; openFiles?: number } = {}): Promise<LevelKV> {
    const openFiles = o.openFiles ?? DEFAULT_OPEN_FILES;
    const { db, values, segment } = await openParts(location, openFiles);
    // A scratch store a bulk job cut short left (scratch()) holds nothing anyone needs: removed.
    await rm(join(location, 'scratch'), { recursive: true, force: true });
    return new LevelKV(db, location, values, segment, o.valueSegmentBytes ?? VALUE_SEGMENT_BYTES, openFiles);
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

  async getAppended(key: Uint8Array): Promise<Uint8Array | undefined> {
    const ref = await this.get(valueRefKey(key));
    if (ref === undefined) return this.get(key); // written by a version without the value log
    if (ref.length !== 16) throw new StorageError(StorageErrorCode.Corrupt, `database ${this.location} is corrupt: a value's location is ${ref.length} bytes, not 16`, { location: this.location });
    return this.values.read(decodeRef(ref));
  }

  async batch(ops: BatchOp[], opts: { sync?: boolean } = {}): Promise<void> {
    const appends = ops.some((op) => op.type === 'append');
    const run = async (): Promise<void> => {
      if (this.failed) await this.reopen();
      try {
        await (appends ? this.batchWithAppends(ops, opts) : this.write(ops, opts));
      } catch (e) {
        this.failed ??= e as Error;
        throw e;
      }
    };
    if (!appends) return run();
    const done = this.appendTail.then(run);
    this.appendTail = done.catch(() => undefined);
    return done;
  }

  /** After a failed write: closes LevelDB and the value log and opens them again (recovery). */
  private reopen(): Promise<void> {
    this.reopening ??= (async () => {
      if (this.closed) throw new StorageError(StorageErrorCode.Closed, `database ${this.location} is closed`, { location: this.location });
      await this.values.close().catch(() => undefined);
      await this.db.close().catch(() => undefined);
      const { db, values, segment } = await openParts(this.location, this.openFiles, true);
      this.db = db;
      this.values = values;
      this.valuesSegment = segment;
      this.failed = undefined;
    })().finally(() => (this.reopening = undefined));
    return this.reopening;
  }

  /** The appended values go to the value log (synced first), their locations into the batch. */
  private async batchWithAppends(ops: BatchOp[], opts: { sync?: boolean }): Promise<void> {
    const appends = ops.filter((op) => op.type === 'append');
    let bytes = 0;
    for (const op of appends) bytes += op.value.length;
    let segment = this.valuesSegment;
    const size = await this.values.size(segment);
    if (size > 0 && size + bytes > this.valueSegmentBytes) segment++;
    const refs = await this.values.appendAll(segment, appends.map((op) => [op.value]), { sync: opts.sync ?? false });
    const last = refs[refs.length - 1]!;
    const rest: BatchOp[] = ops.filter((op) => op.type !== 'append');
    appends.forEach((op, i) => rest.push({ type: 'put', key: valueRefKey(op.key), value: encodeRef(refs[i]!) }));
    rest.push({ type: 'put', key: VALUE_LOG_END, value: encodeEnd(segment, last.offset + last.length) });
    await this.write(rest, opts);
    this.valuesSegment = segment;
  }

  private async write(ops: BatchOp[], opts: { sync?: boolean }): Promise<void> {
    // classic-level copies each key and value out of its Uint8Array through N-API, which first
    // moves a small array's bytes off the V8 heap (a new backing store, counted as external
    // memory); views into one large buffer are already off the heap. Copying them there first
    // costs a fraction of that (docs/performance.md).
    let size = 0;
    for (const op of ops) size += op.key.length + (op.type !== 'del' && op.value.length <= ON_HEAP_MAX_VALUE ? op.value.length : 0);
    const arena = new Uint8Array(Math.max(size, 128));
    let at = 0;
    const view = (bytes: Uint8Array): Uint8Array => {
      if (bytes.length > ON_HEAP_MAX_VALUE) return bytes; // already off the heap
      arena.set(bytes, at);
      at += bytes.length;
      return arena.subarray(at - bytes.length, at);
    };
    const b = this.db.batch();
    try {
      for (const op of ops) {
        if (op.type === 'del') b.del(view(op.key));
        else b.put(view(op.key), view(op.value));
      }
    } catch (e) {
      await b.close();
      throw e;
    }
    await b.write({ sync: opts.sync ?? false } as never);
  }

  /** A scratch LevelDB in `<location>/scratch` (removed when the job destroys it, or by the next one), with this database's open-files limit. */
  scratch(): Promise<Scratch> {
    return LevelScratch.open(join(this.location, 'scratch'), this.openFiles);
  }

  readView(): KVReadView {
    // The snapshot is of one database handle: after a reopen (a failed write) it is taken again.
    let db = this.db;
    let snapshot = db.snapshot();
    const retake = (): void => {
      const old = snapshot;
      db = this.db;
      snapshot = db.snapshot();
      void old.close().catch(() => undefined);
    };
    return {
      get: (key) => {
        if (db !== this.db) retake();
        let v: Uint8Array | undefined;
        try {
          v = db.getSync(key, { snapshot });
        } catch (e) {
          throw this.readError(e);
        }
        return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      },
      getMany: async (keys) => {
        if (db !== this.db) retake();
        let vs: (Uint8Array | undefined)[];
        try {
          vs = await db.getMany(keys, { snapshot });
        } catch (e) {
          throw this.readError(e);
        }
        return vs.map((v) => (v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
      },
      refresh: retake,
    };
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
    this.closed = true;
    await this.appendTail;
    await this.reopening?.catch(() => undefined);
    await this.values.close();
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

/** Opens LevelDB at `location` and its value log, cut back to the end LevelDB recorded. */
async function openParts(location: string, openFiles: number, reopen = false): Promise<{ db: Level<Uint8Array, Uint8Array>; values: RecordLog; segment: number }> {
  const db = new Level<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view', maxOpenFiles: openFiles });
  try {
    await db.open();
  } catch (e) {
    const cause = (e as { cause?: Error }).cause ?? (e as Error);
    const msg = String(cause.message ?? cause);
    if (/lock/i.test(msg)) {
      throw new StorageError(StorageErrorCode.Locked, `database ${location} is in use by another process (is another metanode running with this home?)`, { location });
    }
    if (reopen) throw new StorageError(StorageErrorCode.Write, `cannot reopen database ${location} after a failed write: ${msg}`, { location });
    throw new StorageError(StorageErrorCode.Open, `cannot open database ${location}: ${msg}. If it is corrupt, restore it from a backup or re-sync into an empty home.`, { location });
  }
  let log: RecordLog | undefined;
  try {
    ({ log } = await RecordLog.open(join(location, 'values'), { scan: false }));
    const stored = await db.get(VALUE_LOG_END);
    if (stored !== undefined && stored.length !== 12) throw new StorageError(StorageErrorCode.Corrupt, `database ${location} is corrupt: the value log's end is ${stored.length} bytes, not 12`, { location });
    const end = stored ? decodeEnd(stored) : { segment: 0, size: 0 };
    await log.recover(end.segment, end.size);
    return { db, values: log, segment: end.segment };
  } catch (e) {
    await log?.close();
    await db.close();
    throw e;
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

  async getAppended(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.get(key);
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.check();
    for (const op of ops) {
      if (op.type === 'del') this.data.delete(toKey(op.key));
      else this.data.set(toKey(op.key), op.value);
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

  readView(): KVReadView {
    // Batches apply synchronously here: the map is always one consistent view.
    const get = (key: Uint8Array): Uint8Array | undefined => (this.check(), this.data.get(toKey(key)));
    return { get, getMany: (keys) => Promise.resolve().then(() => keys.map(get)), refresh: () => undefined };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.Closed, 'database is closed');
  }
}

function valueRefKey(key: Uint8Array): Uint8Array {
  const k = new Uint8Array(2 + key.length);
  k[0] = 0xff;
  k[1] = VALUE_REF_PREFIX;
  k.set(key, 2);
  return k;
}

/** A value's location: segment u32 ‖ offset u64 ‖ length u32. */
function encodeRef(ref: RecordRef): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint32(0, ref.segment);
  v.setBigUint64(4, BigInt(ref.offset));
  v.setUint32(12, ref.length);
  return out;
}

function decodeRef(bytes: Uint8Array): RecordRef {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { segment: v.getUint32(0), offset: Number(v.getBigUint64(4)), length: v.getUint32(12) };
}

/** The value log's end: segment u32 ‖ size u64. */
function encodeEnd(segment: number, size: number): Uint8Array {
  const out = new Uint8Array(12);
  const v = new DataView(out.buffer);
  v.setUint32(0, segment);
  v.setBigUint64(4, BigInt(size));
  return out;
}

function decodeEnd(bytes: Uint8Array): { segment: number; size: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { segment: v.getUint32(0), size: Number(v.getBigUint64(4)) };
}
