import { fromKey, toKey, utf8 } from '../../../../chain/index.js';
import { MemoryScratch } from '../../../../storage/scratch.js';
import { MemoryStateStorage } from '../../../../vm/state/memory.js';
import type { OrderedReader, WriteSet } from '../../../../vm/state/overlay.js';
import { StateTable, type StateOps, type StateStorage } from '../../../../vm/state/storage.js';
import { StoredState, type StagedState, type StoredStateOptions } from '../../../../vm/state/stored.js';

/**
 * The node's storage as the state sees it, in memory (vm/state/memory.ts: head values by key and
 * the state's own records, changed only by `write`, what the block's batch does), counting reads,
 * with the asynchronous reads of a prefetch that tests can hold back or make fail.
 */
export class Disk extends MemoryStateStorage implements StateStorage {
  valueGets = 0;
  recordGets = 0;

  override value(key: string): Uint8Array | undefined {
    this.valueGets++;
    return super.value(key);
  }

  override get(key: Uint8Array): Uint8Array | undefined {
    this.recordGets++;
    return super.get(key);
  }

  /** Reads by valuesAsync and getManyAsync (the prefetch's), counted apart from the synchronous ones. */
  asyncValueGets = 0;
  asyncRecordGets = 0;
  /** When set, an asynchronous read answers (with what was stored when it was asked) only once this resolves. */
  gate: Promise<void> | undefined;

  async valuesAsync(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    this.asyncValueGets += keys.length;
    const got = keys.map((k) => this.values.get(k));
    await this.gate;
    return got;
  }

  /** When set, the asynchronous record read of this number (from 1) and every one after it fail. */
  failRecordReadsFrom: number | undefined;
  private recordReads = 0;

  async getManyAsync(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (this.failRecordReadsFrom !== undefined && ++this.recordReads >= this.failRecordReadsFrom) throw new Error('EIO: i/o error, read');
    this.asyncRecordGets += keys.length;
    const got = keys.map((k) => this.records.get(toKey(k)));
    await this.gate;
    return got;
  }

  table(byte: number): [Uint8Array, Uint8Array][] {
    return [...this.records].filter(([k]) => k.charCodeAt(0) === byte).map(([k, v]) => [fromKey(k), v]);
  }

  /** What a bulk load writes to (StoredState.load), with a fresh scratch index. */
  get bulk(): { write(writes: WriteSet, ops: StateOps): Promise<void>; clearRecords(): Promise<void>; index: MemoryScratch } {
    return { write: async (writes, ops) => this.write(writes, ops), clearRecords: async () => this.records.clear(), index: new MemoryScratch() };
  }

  open(opts: StoredStateOptions): StoredState {
    return StoredState.open(this, this.table(StateTable.Directory), opts);
  }
}

/** Stages, writes and applies one block. */
export function commit(disk: Disk, state: StoredState, writes: WriteSet, height: number): StagedState {
  const staged = state.stage(writes, state.tree.updateRaw(writes), height);
  disk.write(writes, staged.ops);
  state.apply(staged);
  return staged;
}


/** A seeded generator (xorshift32): the same run every time. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** A state key from text. */
export const k = (s: string): string => toKey(utf8(s));

/** A block's writes over `pool`: sets, deletes (of keys that may be absent) and the same value again. */
export function randomWrites(rand: () => number, pool: readonly string[], current: ReadonlyMap<string, Uint8Array>, height: number): Map<string, Uint8Array | null> {
  const writes = new Map<string, Uint8Array | null>();
  const n = 1 + Math.floor(rand() * 12);
  for (let i = 0; i < n; i++) {
    const key = pool[Math.floor(rand() * pool.length)]!;
    const r = rand();
    if (r < 0.25) writes.set(key, null); // a delete (of a key that may be absent)
    else if (r < 0.35 && current.has(key)) writes.set(key, current.get(key)!); // the same value again
    else writes.set(key, utf8(`${key.slice(0, 6)}@${height}.${i}`));
  }
  return writes;
}

/** Every key of a scan by `prefix`, read in pages of `limit` (each page after the last key of the one before). */
export function pagedScan(reader: OrderedReader, prefix: string, limit: number): string[] {
  const got: string[] = [];
  for (let after: string | undefined; ; ) {
    const page = reader.scan(prefix, { after, limit });
    got.push(...page.map(([key]) => key));
    if (page.length < limit) break;
    after = page[page.length - 1]![0];
  }
  return got;
}
