import { Level } from 'level';
import { rm } from 'node:fs/promises';
import { compareBytes, fromKey, toKey } from '../chain/index.js';
import { StorageError, StorageErrorCode } from './errors.js';

/**
 * A scratch store for what a bulk job sorts on its way (a bulk load's path index: vm/state
 * stored.ts load): written without sync, read back in key order, then destroyed. It is kept out of
 * the node's database so that it leaves nothing there: millions of records put and deleted again
 * would stay in LevelDB's tables as tombstones until compactions got to them, slowing the node's
 * reads and start-up, and growing its folder, long after the job.
 */
export interface Scratch {
  put(records: readonly (readonly [key: Uint8Array, value: Uint8Array])[]): Promise<void>;
  /** Every record, ascending by key. */
  entries(): AsyncIterable<[Uint8Array, Uint8Array]>;
  /** Closes the store and removes what it holds. */
  destroy(): Promise<void>;
}

/** A scratch LevelDB in its own folder (removed first if a job cut short left it). */
export class LevelScratch implements Scratch {
  private constructor(
    private readonly db: Level<Uint8Array, Uint8Array>,
    readonly location: string,
  ) {}

  /** `openFiles`: LevelDB's max_open_files, as the node's own database has it (its mapped tables count as the node's memory). */
  static async open(location: string, openFiles?: number): Promise<LevelScratch> {
    await rm(location, { recursive: true, force: true });
    const db = new Level<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view', ...(openFiles === undefined ? {} : { maxOpenFiles: openFiles }) });
    try {
      await db.open();
    } catch (e) {
      throw new StorageError(StorageErrorCode.Open, `cannot open the scratch database ${location}: ${((e as { cause?: Error }).cause ?? (e as Error)).message}`, { location });
    }
    return new LevelScratch(db, location);
  }

  async put(records: readonly (readonly [Uint8Array, Uint8Array])[]): Promise<void> {
    try {
      await this.db.batch(records.map(([key, value]) => ({ type: 'put' as const, key, value })));
    } catch (e) {
      throw new StorageError(StorageErrorCode.Write, `writing the scratch database ${this.location} failed: ${(e as Error).message}`, { location: this.location });
    }
  }

  async *entries(): AsyncIterable<[Uint8Array, Uint8Array]> {
    for await (const [k, v] of this.db.iterator()) yield [k, v];
  }

  async destroy(): Promise<void> {
    await this.db.close();
    await rm(this.location, { recursive: true, force: true });
  }
}

/** A scratch store in memory (tests, and stores that are in memory themselves). */
export class MemoryScratch implements Scratch {
  private readonly records = new Map<string, Uint8Array>();

  async put(records: readonly (readonly [Uint8Array, Uint8Array])[]): Promise<void> {
    for (const [k, v] of records) this.records.set(toKey(k), v.slice());
  }

  async *entries(): AsyncIterable<[Uint8Array, Uint8Array]> {
    const keys = [...this.records.keys()].map(fromKey).sort(compareBytes);
    for (const k of keys) yield [k, this.records.get(toKey(k))!];
  }

  async destroy(): Promise<void> {
    this.records.clear();
  }
}
