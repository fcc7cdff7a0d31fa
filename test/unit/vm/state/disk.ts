import { fromKey, toKey } from '../../../../chain/index.js';
import { MemoryScratch } from '../../../../storage/scratch.js';
import type { WriteSet } from '../../../../vm/state/overlay.js';
import { StateTable, type StateOps, type StateStorage } from '../../../../vm/state/storage.js';
import { StoredState, type StagedState, type StoredStateOptions } from '../../../../vm/state/stored.js';

/**
 * The node's storage as the state sees it, in memory: head values by key and the state's own
 * records, changed only by `write` (what the block's batch does), and counting reads.
 */
export class Disk implements StateStorage {
  readonly values = new Map<string, Uint8Array>();
  readonly records = new Map<string, Uint8Array>();
  valueGets = 0;
  recordGets = 0;

  value(key: string): Uint8Array | undefined {
    this.valueGets++;
    return this.values.get(key);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.recordGets++;
    return this.records.get(toKey(key));
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

  refresh(): void {}

  write(writes: WriteSet, ops: StateOps): void {
    for (const [k, v] of writes) {
      if (v === null) this.values.delete(k);
      else this.values.set(k, v);
    }
    for (const [k, v] of ops) {
      if (v === null) this.records.delete(toKey(k));
      else this.records.set(toKey(k), v);
    }
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

