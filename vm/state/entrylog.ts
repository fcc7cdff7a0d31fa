/**
 * What a block's writes do to the entry log (chain/stateentry.ts; the design:
 * docs/state-entry-log.md): which entries it appends, which positions it deactivates, and what the
 * key index (key → its active entry) becomes. A pure function of the writes and what the state
 * already holds, read through `EntryReader`, so every validator plans the same log.
 *
 * - The writes are taken in ascending key order. Setting a key that is absent links it in after
 *   the active key just below it (that key's entry is appended again with the new next key);
 *   deleting a key links its predecessor to its next key; a write that leaves a key's value as
 *   it was changes nothing.
 * - Every key whose record changed gets one new entry, appended in ascending key order, and its
 *   old entry (if any) is deactivated.
 * - Then compaction: the oldest positions are walked from `compactFrom`; an active entry there is
 *   appended again unchanged (and the old copy deactivated), an inactive one is passed. It walks
 *   while the log's live span (`next − compactFrom`) is more than twice the active entries plus
 *   one twig, at most `2 × appends + 64` positions a block: the log stays under about twice the
 *   state's size, at a bounded cost per block, and twigs behind `compactFrom` hold nothing active
 *   (their entries can go once no kept height needs them).
 *
 * Keys are latin1 strings of their bytes (as everywhere in vm/state), which sort as the bytes do.
 * The empty key is the sentinel's, always present at the head of the list; no write may name it.
 */
import { HASH_LENGTH, equalBytes } from '../../chain/index.js';
import { TWIG_ENTRIES } from '../../chain/stateentry.js';

export const SENTINEL_KEY = '';

/** An active key's record in the key index. */
export interface IndexRecord {
  readonly position: number;
  readonly valueHash: Uint8Array;
  /** The next active key; SENTINEL_KEY ('') for the last. */
  readonly next: string;
}

/** An entry as the log holds it. */
export interface LogEntry {
  readonly key: string;
  readonly valueHash: Uint8Array;
  readonly next: string;
}

/** What the state holds before the block. */
export interface EntryReader {
  /** The record of an active key; undefined when the key is absent. */
  record(key: string): IndexRecord | undefined;
  /** The greatest active key below `key` (at least the sentinel) and its record. */
  below(key: string): readonly [string, IndexRecord];
  /** The entry at a position (one that is active, for compaction). */
  entryAt(position: number): LogEntry;
  /** Whether a position is active. */
  isActive(position: number): boolean;
}

export interface LogState {
  /** The next position the log appends at. */
  readonly next: number;
  /** Positions below this are all inactive (compaction's cursor). */
  readonly compactFrom: number;
  /** Active entries, the sentinel's included. */
  readonly active: number;
}

export interface EntryPlan {
  /** Entries to append, in order, from `state.next`. */
  readonly appends: readonly LogEntry[];
  /** Positions to deactivate. */
  readonly deactivate: readonly number[];
  /** The key index's changes: a key's new record, or null for a key removed. */
  readonly index: ReadonlyMap<string, IndexRecord | null>;
  /** The log after the block. */
  readonly state: LogState;
  /** Entries appended by compaction (the last ones of `appends`). */
  readonly moved: number;
}

/** Positions compaction may walk per block beyond twice the block's own appends. */
export const COMPACT_SLACK = 64;

/**
 * Plans a block's writes (`null` deletes; values as their hashes) over `reader`'s state.
 * Throws RangeError on a write to the sentinel's key or on a reader that breaks the list.
 */
export function planEntries(reader: EntryReader, state: LogState, writes: ReadonlyMap<string, Uint8Array | null>): EntryPlan {
  const keys = [...writes.keys()].sort();
  /** Records changed so far (null: removed), and those keys' old positions. */
  const overlay = new Map<string, { valueHash: Uint8Array; next: string } | null>();
  const current = (k: string): { valueHash: Uint8Array; next: string } | undefined => {
    const o = overlay.get(k);
    if (o !== undefined) return o ?? undefined;
    return reader.record(k);
  };
  /** The greatest key changed so far that is active now (keys come in ascending order). */
  let lastActive: string | undefined;
  const predecessor = (k: string): string => {
    let [p] = reader.below(k);
    while (p !== SENTINEL_KEY && overlay.get(p) === null) [p] = reader.below(p);
    if (lastActive !== undefined && lastActive > p && lastActive < k) p = lastActive;
    return p;
  };
  let active = state.active;
  for (const k of keys) {
    if (k === SENTINEL_KEY) throw new RangeError('no write may name the empty key (the entry log\'s sentinel)');
    const v = writes.get(k)!;
    const was = current(k);
    if (v !== null) {
      if (v.length !== HASH_LENGTH) throw new RangeError('a planned write is a value hash (32 bytes)');
      if (was === undefined) {
        const p = predecessor(k);
        const pr = current(p);
        if (pr === undefined) throw new RangeError(`the key index is broken: the key below ${JSON.stringify(k)} has no record`);
        overlay.set(k, { valueHash: v, next: pr.next });
        overlay.set(p, { valueHash: pr.valueHash, next: k });
        active++;
      } else if (!equalBytes(was.valueHash, v)) {
        overlay.set(k, { valueHash: v, next: was.next });
      }
    } else if (was !== undefined) {
      const p = predecessor(k);
      const pr = current(p);
      if (pr === undefined) throw new RangeError(`the key index is broken: the key below ${JSON.stringify(k)} has no record`);
      overlay.set(p, { valueHash: pr.valueHash, next: was.next });
      overlay.set(k, null);
      active--;
    }
    if (overlay.has(k) && overlay.get(k) !== null) lastActive = k;
  }
  const appends: LogEntry[] = [];
  const deactivate: number[] = [];
  const gone = new Set<number>();
  const index = new Map<string, IndexRecord | null>();
  let next = state.next;
  for (const k of [...overlay.keys()].sort()) {
    const r = overlay.get(k)!;
    const old = reader.record(k);
    if (old !== undefined) {
      deactivate.push(old.position);
      gone.add(old.position);
    }
    if (r === null) index.set(k, null);
    else {
      appends.push({ key: k, valueHash: r.valueHash, next: r.next });
      index.set(k, { position: next++, valueHash: r.valueHash, next: r.next });
    }
  }
  // Compaction.
  let compactFrom = state.compactFrom;
  let budget = 2 * appends.length + COMPACT_SLACK;
  let moved = 0;
  while (budget > 0 && compactFrom < state.next && next - compactFrom > 2 * active + TWIG_ENTRIES) {
    const pos = compactFrom++;
    budget--;
    if (gone.has(pos) || !reader.isActive(pos)) continue;
    const e = reader.entryAt(pos);
    appends.push(e);
    deactivate.push(pos);
    index.set(e.key, { position: next++, valueHash: e.valueHash, next: e.next });
    moved++;
  }
  return { appends, deactivate, index, state: { next, compactFrom, active }, moved };
}
