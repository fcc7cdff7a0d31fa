import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { StorageError, StorageErrorCode } from './errors.js';

/** length (u32 BE) ‖ CRC-32 of the payload (u32 BE), then the payload. */
const HEADER = 8;
const SEGMENT_NAME = /^(\d{12})\.rec$/;

/** Where a record is: its segment, and its payload's offset and length in that file. */
export interface RecordRef {
  segment: number;
  offset: number;
  length: number;
}

/**
 * Append-only files of checksummed records, in numbered segments that are only ever deleted
 * whole. For large data written once and never changed: the consensus sign log (read back at
 * start, dropped by age) and LevelKV's value log (blocks and receipts, kv.ts). Written here,
 * it never enters LevelDB's memtables and compactions.
 *
 * An append returns once the record is on disk (fdatasync; a new segment also syncs the folder).
 * A record cut short by a crash can only be the last of a segment, and was never acknowledged:
 * opening the log truncates it away. A damaged record followed by more data is corruption.
 */
export class RecordLog {
  private readonly files = new Map<number, { fh: FileHandle; size: number }>();
  /** Appends run one at a time, so that only the last record of a segment can be torn. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Set by a failed append: later appends could leave a hole, so they fail too. */
  private broken?: Error;
  private closed = false;

  private constructor(private readonly dir: string) {}

  /**
   * Opens (creating) the log in `dir` and reads every record, truncating a torn last record of
   * any segment; with `scan: false`, reads nothing (recovery is then `recover`'s).
   */
  static async open(dir: string, o: { scan?: boolean } = {}): Promise<{ log: RecordLog; records: (RecordRef & { payload: Uint8Array })[] }> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new StorageError(StorageErrorCode.Open, `cannot create ${dir}: ${(e as Error).message}`, { location: dir });
    }
    const log = new RecordLog(dir);
    const records: (RecordRef & { payload: Uint8Array })[] = [];
    if (o.scan ?? true) for (const segment of await log.listSegments()) records.push(...(await log.scan(segment)));
    return { log, records };
  }

  /** Segment numbers present, ascending. */
  async listSegments(): Promise<number[]> {
    const names = await readdir(this.dir);
    return names.flatMap((n) => (SEGMENT_NAME.test(n) ? [Number(SEGMENT_NAME.exec(n)![1])] : [])).sort((a, b) => a - b);
  }

  /**
   * Appends one record, the concatenation of `parts`, to `segment` and syncs it. Appends complete
   * in the order they are made.
   */
  async append(segment: number, parts: readonly Uint8Array[]): Promise<RecordRef> {
    return (await this.appendAll(segment, [parts]))[0]!;
  }

  /**
   * Appends records (each the concatenation of its parts) to `segment` in one write, then syncs
   * it unless `sync` is false. Appends complete in the order they are made.
   */
  appendAll(segment: number, records: readonly (readonly Uint8Array[])[], o: { sync?: boolean } = {}): Promise<RecordRef[]> {
    const done = this.tail.then(() => this.appendNow(segment, records, o.sync ?? true));
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** The size of a segment's file as written through this log (0 for a new one). */
  async size(segment: number): Promise<number> {
    this.check();
    return (await this.file(segment)).size;
  }

  /**
   * After a crash: cuts `segment` back to `size`, what an index written after each append says
   * is in it, and deletes any later segment; both hold only appends the index never recorded.
   * A segment shorter than that lost data that had been synced.
   */
  async recover(segment: number, size: number): Promise<void> {
    for (const s of await this.listSegments()) if (s > segment) await rm(this.path(s), { force: true });
    const f = await this.file(segment);
    if (f.size < size) {
      throw new StorageError(StorageErrorCode.Corrupt, `${this.path(segment)} is ${f.size} bytes, but ${size} were written to it and synced; restore the data folder from a backup`, { location: this.dir });
    }
    if (f.size > size) {
      await f.fh.truncate(size);
      await f.fh.datasync();
      f.size = size;
    }
  }

  private async appendNow(segment: number, records: readonly (readonly Uint8Array[])[], sync: boolean): Promise<RecordRef[]> {
    this.check();
    const buffers: Uint8Array[] = [];
    const lengths: number[] = [];
    let total = 0;
    for (const parts of records) {
      let length = 0;
      let crc = 0;
      for (const p of parts) {
        length += p.length;
        crc = crc32(p, crc);
      }
      const header = new Uint8Array(HEADER);
      const view = new DataView(header.buffer);
      view.setUint32(0, length);
      view.setUint32(4, crc);
      buffers.push(header, ...parts);
      lengths.push(length);
      total += HEADER + length;
    }
    try {
      const f = await this.file(segment);
      const at = f.size;
      const { bytesWritten } = await f.fh.writev(buffers, at);
      if (bytesWritten !== total) throw new Error(`wrote ${bytesWritten} of ${total} bytes`);
      if (sync) await f.fh.datasync();
      f.size += total;
      let offset = at;
      return lengths.map((length) => {
        const ref = { segment, offset: offset + HEADER, length };
        offset += HEADER + length;
        return ref;
      });
    } catch (e) {
      this.broken = e as Error;
      throw new StorageError(StorageErrorCode.Write, `writing to ${this.path(segment)} failed: ${(e as Error).message}`, { location: this.dir });
    }
  }

  async read(ref: RecordRef): Promise<Uint8Array> {
    this.check();
    const f = await this.file(ref.segment, false);
    const record = new Uint8Array(HEADER + ref.length);
    const { bytesRead } = await f.fh.read(record, 0, record.length, ref.offset - HEADER);
    const view = new DataView(record.buffer);
    const out = record.subarray(HEADER);
    if (bytesRead !== record.length || view.getUint32(0) !== ref.length || view.getUint32(4) !== crc32(out)) {
      throw new StorageError(StorageErrorCode.Corrupt, `${this.path(ref.segment)} is corrupt at offset ${ref.offset - HEADER} (the record there is not the one written); restore the folder from a backup`, { location: this.dir });
    }
    return out;
  }

  /** Deletes every segment numbered below `segment`. */
  async dropBelow(segment: number): Promise<void> {
    for (const s of await this.listSegments()) {
      if (s >= segment) break;
      const f = this.files.get(s);
      this.files.delete(s);
      await f?.fh.close();
      await rm(this.path(s), { force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    for (const f of this.files.values()) await f.fh.close();
    this.files.clear();
  }

  private check(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.Closed, `${this.dir} is closed`);
    if (this.broken) throw new StorageError(StorageErrorCode.Write, `${this.dir} failed an earlier write (${this.broken.message}); restart the node`, { location: this.dir });
  }

  private path(segment: number): string {
    return join(this.dir, segmentFileName(segment));
  }

  /** The segment's file, opened once; `create`: made if missing (for appends, not reads). */
  private async file(segment: number, create = true): Promise<{ fh: FileHandle; size: number }> {
    let f = this.files.get(segment);
    if (f) return f;
    const path = this.path(segment);
    let fh: FileHandle;
    try {
      fh = await open(path, constants.O_RDWR | (create ? constants.O_CREAT : 0), 0o644); // not O_APPEND: writes are positional
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT' || create) throw e;
      throw new StorageError(StorageErrorCode.Corrupt, `${path} is missing, but a record in it is still referenced; restore the folder from a backup`, { location: this.dir });
    }
    const { size } = await fh.stat();
    // Another caller may have opened it while this one waited.
    const raced = this.files.get(segment);
    if (raced) {
      await fh.close();
      return raced;
    }
    f = { fh, size };
    this.files.set(segment, f);
    if (size === 0) await syncFolder(this.dir);
    return f;
  }

  /** Reads a segment's records; a torn last record is cut off the file. */
  async scan(segment: number): Promise<(RecordRef & { payload: Uint8Array })[]> {
    const path = this.path(segment);
    const bytes = new Uint8Array(await readFile(path));
    const { records, end, corrupt } = parseSegment(bytes, segment, path);
    if (corrupt) throw corrupt;
    if (end < bytes.length) await truncate(path, end);
    return records;
  }
}

/** The file name of a record log's segment. */
export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(12, '0')}.rec`;
}

/**
 * A segment file's records, read without changing anything (so a reader can look at a log that
 * a running process appends to): the intact records, and where they end. A last record cut short
 * or damaged (being written, or torn by a crash) ends the list; damage followed by more data ends
 * it too, and is returned as `corrupt` (STORAGE_CORRUPT), with the intact records before it.
 */
export function parseSegment(bytes: Uint8Array, segment: number, path: string): { records: (RecordRef & { payload: Uint8Array })[]; end: number; corrupt?: StorageError } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: (RecordRef & { payload: Uint8Array })[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = at + HEADER <= bytes.length ? view.getUint32(at) : -1;
    const end = at + HEADER + length;
    if (length < 0 || end > bytes.length) break; // cut short: the end of the file
    const payload = bytes.subarray(at + HEADER, end);
    if (crc32(payload) !== view.getUint32(at + 4)) {
      if (end === bytes.length) break; // the last record, damaged while being written
      const corrupt = new StorageError(StorageErrorCode.Corrupt, `${path} is corrupt at offset ${at} (a record's checksum does not match); restore the folder from a backup`, { location: dirname(path) });
      return { records, end: at, corrupt };
    }
    records.push({ segment, offset: at + HEADER, length, payload });
    at = end;
  }
  return { records, end: at };
}

async function syncFolder(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
