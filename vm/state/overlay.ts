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

/**
 * A write buffer over a parent reader. Transactions run in a child overlay that is merged into
 * the block's overlay on success and dropped on failure: that is how failed transactions revert.
 */
export class Overlay implements StateReader, KVStore {
  readonly writes: WriteSet = new Map();
  constructor(private readonly parent: StateReader) {}

  getRaw(key: string): Uint8Array | undefined {
    const w = this.writes.get(key);
    if (w !== undefined) return w === null ? undefined : w;
    return this.parent.getRaw(key);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.getRaw(toKey(key));
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.writes.set(toKey(key), value);
  }

  delete(key: Uint8Array): void {
    this.writes.set(toKey(key), null);
  }

  child(): Overlay {
    return new Overlay(this);
  }

  /** Moves this overlay's writes into `target` (normally its parent). */
  mergeInto(target: Overlay): void {
    for (const [k, v] of this.writes) target.writes.set(k, v);
    this.writes.clear();
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
