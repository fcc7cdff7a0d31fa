/**
 * The state's storage held in memory (head values and the state's own records), changed only by
 * `write`: for computing a state root without a data folder (a genesis file checked again, tools).
 * It holds everything it is given, so it is for small states.
 */
import { toKey } from '../../chain/index.js';
import type { WriteSet } from './overlay.js';
import type { StateOps, StateStorage } from './storage.js';

export class MemoryStateStorage implements StateStorage {
  /** Head values by state key. */
  readonly values = new Map<string, Uint8Array>();
  /** The state's own records, by their keys as latin1 strings (chain/bytes.ts toKey). */
  readonly records = new Map<string, Uint8Array>();

  value(key: string): Uint8Array | undefined {
    return this.values.get(key);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.records.get(toKey(key));
  }

  refresh(): void {}

  /** What a block's batch does: the values written (null deletes) and the state's records. */
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
}
