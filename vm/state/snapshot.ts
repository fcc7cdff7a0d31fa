/**
 * A snapshot of the state at one height: every key and value, in key order, in one file — the
 * seed of a state sync. Importing one rebuilds the stored state from the entries
 * (StoredState.load) and accepts it only if the rebuilt root is the one expected (the
 * snapshot's own, which must in turn be the root of a header the importer trusts).
 * Memory stays bounded whatever the snapshot's size: StoredState.load builds the tree in path
 * order, bottom up.
 *
 * Layout (every length u32 big-endian):
 * - magic "MNSNAP\0\1" (8 bytes);
 * - length ‖ rlp [format, chainId, height, stateRoot, commitment] (commitment: 0 the sparse Merkle
 *   tree, 1 the entry log; format 1, of the tree alone, has no commitment field and is still read);
 * - the tree's (commitment 0): per entry, ascending by key, length ‖ rlp [key, value];
 * - the entry log's (commitment 1), whose root depends on where each entry was written, so the
 *   log itself is carried (entrystore.ts LogSnapshotHead): length ‖ rlp [next, compactFrom, from],
 *   then items: rlp [0, [entry root of each twig below `from`, up to 1,024 a frame]], and for each
 *   position from `from` on, rlp [1, entry record, value] (active), [2, entry record] (inactive)
 *   or [3, entry hash] (pruned); the import rebuilds the twigs from them and checks the root;
 * - length 0, then the count of records after the header (u64), then sha256 of every byte before
 *   it (32 bytes).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { asBytes, asSafeUint, decodeList, equalBytes, fromKey, rlpDecode, rlpEncode, toHex, toKey, u64be, utf8, type RlpItem } from '../../chain/index.js';
import { StateStorageError, type StateStorage } from './storage.js';
import type { LogSnapshotHead, LogSnapshotItem } from './entrystore.js';
import { StoredState, type BulkTarget, type StateCommitment } from './stored.js';

export const SNAPSHOT_FORMAT = 2;
const COMMITMENTS: readonly StateCommitment[] = ['tree', 'entries'];
const MAGIC = Uint8Array.of(0x4d, 0x4e, 0x53, 0x4e, 0x41, 0x50, 0x00, 0x01);
/** An entry's record is a key and a value: far below this. */
const MAX_RECORD = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;

export interface SnapshotHeader {
  format: number;
  chainId: string;
  height: number;
  stateRoot: Uint8Array;
  /** What the root commits to: the state is rebuilt that way on import. */
  commitment: StateCommitment;
}

/** A snapshot that cannot be read, or does not verify. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/**
 * The snapshot of `state` at `height` (the head or a kept height), as chunks of the file in
 * order. Reads `state` as it is: take it while nothing commits (a stopped node's home).
 */
export function* exportSnapshot(state: StoredState, chainId: string, height: number): Generator<Uint8Array> {
  const reader = state.at(height);
  const root = state.rootAt(height);
  if (!reader || !root) throw new SnapshotError(`the state at height ${height} is not kept (this home keeps heights ${state.oldestReadable} to ${state.height})`);
  const digest = sha256.create();
  const emit = (bytes: Uint8Array): Uint8Array => {
    digest.update(bytes);
    return bytes;
  };
  yield emit(MAGIC);
  const log = state.log?.snapshotAt(height, (key) => reader.getRaw(key));
  if (state.log && !log) throw new SnapshotError(`the entry log at height ${height} cannot be exported: its compaction cursor is kept only with that height's own block's undo record, which the oldest kept height has lost (export a height from ${state.oldestReadable + 1} to ${state.height})`);
  yield emit(frame(rlpEncode([SNAPSHOT_FORMAT, utf8(chainId), height, root, COMMITMENTS.indexOf(state.commitment)])));
  let count = 0;
  let parts: Uint8Array[] = [];
  let bytes = 0;
  if (log) {
    yield emit(frame(rlpEncode([log.head.next, log.head.compactFrom, log.head.from])));
    for (const item of log.items) {
      const record = frame(rlpEncode(encodeLogItem(item)));
      parts.push(record);
      bytes += record.length;
      count++;
      if (bytes >= CHUNK) {
        yield emit(Buffer.concat(parts));
        parts = [];
        bytes = 0;
      }
    }
    if (parts.length) yield emit(Buffer.concat(parts));
    yield emit(Uint8Array.of(0, 0, 0, 0, ...u64be(count)));
    yield digest.digest();
    return;
  }
  for (let after: string | undefined; ; ) {
    const page = reader.scan('', { after, limit: 1000 });
    for (const [k, v] of page) {
      const record = frame(rlpEncode([fromKey(k), v]));
      parts.push(record);
      bytes += record.length;
      count++;
    }
    if (bytes >= CHUNK || page.length < 1000) {
      if (parts.length) yield emit(Buffer.concat(parts));
      parts = [];
      bytes = 0;
    }
    if (page.length < 1000) break;
    after = page[page.length - 1]![0];
  }
  yield emit(Uint8Array.of(0, 0, 0, 0, ...u64be(count)));
  yield digest.digest();
}

function encodeLogItem(item: LogSnapshotItem): Parameters<typeof rlpEncode>[0] {
  switch (item.kind) {
    case 'roots':
      return [0, [...item.roots]];
    case 'active':
      return [1, item.record, item.value];
    case 'inactive':
      return [2, item.record];
    case 'hash':
      return [3, item.hash];
  }
}

function decodeLogItem(item: RlpItem): LogSnapshotItem {
  if (!Array.isArray(item) || item.length === 0) throw new SnapshotError('a record of the entry log is not a list');
  const kind = asSafeUint(item[0], 'kind');
  const n = [2, 3, 2, 2][kind];
  if (n === undefined || item.length !== n) throw new SnapshotError(`a record of the entry log has kind ${kind} and ${item.length} fields`);
  switch (kind) {
    case 0: {
      const roots = item[1];
      if (!Array.isArray(roots) || roots.length > 1024) throw new SnapshotError('a frame of twig roots is not a list of at most 1,024');
      return { kind: 'roots', roots: roots.map((r) => asBytes(r, 'twig root', 32).slice()) };
    }
    case 1:
      return { kind: 'active', record: asBytes(item[1], 'entry').slice(), value: asBytes(item[2], 'value').slice() };
    case 2:
      return { kind: 'inactive', record: asBytes(item[1], 'entry').slice() };
    default:
      return { kind: 'hash', hash: asBytes(item[1], 'entry hash', 32).slice() };
  }
}

/** Reads exact byte counts from a stream of chunks, hashing what it hands out. */
class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private at = 0;
  readonly digest = sha256.create();
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  async read(n: number, what: string, hash = true): Promise<Uint8Array> {
    while (this.buf.length - this.at < n) {
      const next = await this.it.next();
      if (next.done) throw new SnapshotError(`the snapshot ends early (in ${what}): it is cut short`);
      const rest = this.buf.subarray(this.at);
      const merged = new Uint8Array(rest.length + next.value.length);
      merged.set(rest);
      merged.set(next.value, rest.length);
      this.buf = merged;
      this.at = 0;
    }
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    if (hash) this.digest.update(out);
    return out;
  }

  async u32(what: string): Promise<number> {
    const b = await this.read(4, what);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  async atEnd(): Promise<boolean> {
    if (this.at < this.buf.length) return false;
    const next = await this.it.next();
    if (next.done) return true;
    this.buf = next.value;
    this.at = 0;
    return this.buf.length === 0 ? this.atEnd() : false;
  }
}

function decode<T>(bytes: Uint8Array, what: string, f: (item: RlpItem) => T): T {
  try {
    return f(rlpDecode(bytes, what));
  } catch (e) {
    throw new SnapshotError(`the snapshot's ${what} cannot be read: ${(e as Error).message}`);
  }
}

/** A snapshot being read: its header, then its entries (checked for order, count and digest as they go). */
export class SnapshotReader {
  private readonly bytes: ByteReader;
  private header: SnapshotHeader | undefined;
  /** Entries read so far. */
  count = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.bytes = new ByteReader(source);
  }

  async readHeader(): Promise<SnapshotHeader> {
    if (this.header) return this.header;
    const magic = await this.bytes.read(MAGIC.length, 'the magic number');
    if (!equalBytes(magic, MAGIC)) throw new SnapshotError('this is not a state snapshot (no MNSNAP magic number)');
    const len = await this.bytes.u32('the header');
    if (len > MAX_RECORD) throw new SnapshotError('the snapshot header is too long');
    this.header = decode(await this.bytes.read(len, 'the header'), 'header', (item) => {
      const format = Array.isArray(item) && item.length > 0 && item[0] instanceof Uint8Array ? asSafeUint(item[0], 'format') : -1;
      if (format !== 1 && format !== SNAPSHOT_FORMAT) throw new SnapshotError(`the snapshot has format ${format}; this node reads formats 1 and ${SNAPSHOT_FORMAT}`);
      const f = decodeList(item, format === 1 ? 4 : 5, 'header');
      const commitment = format === 1 ? 'tree' : COMMITMENTS[asSafeUint(f[4], 'commitment')];
      if (commitment === undefined) throw new SnapshotError(`the snapshot's state commitment ${asSafeUint(f[4], 'commitment')} is not one this node knows`);
      return { format, chainId: new TextDecoder().decode(asBytes(f[1], 'chainId')), height: asSafeUint(f[2], 'height'), stateRoot: asBytes(f[3], 'stateRoot', 32), commitment };
    });
    return this.header;
  }

  /** The entries, ascending by key (of the tree's snapshot); throws SnapshotError at the end if the count or the digest is wrong. */
  async *entries(): AsyncGenerator<[string, Uint8Array]> {
    const header = await this.readHeader();
    if (header.commitment !== 'tree') throw new SnapshotError("the snapshot is of the entry log: read it with logHead and logItems");
    let last: string | undefined;
    for await (const bytes of this.records()) {
      const [key, value] = decode(bytes, `entry ${this.count}`, (item) => {
        const f = decodeList(item, 2, 'entry');
        return [toKey(asBytes(f[0], 'key')), asBytes(f[1], 'value').slice()] as const;
      });
      if (last !== undefined && key <= last) throw new SnapshotError(`entry ${this.count} of the snapshot is not above the one before (keys must ascend, each once)`);
      last = key;
      this.count++;
      yield [key, value];
    }
  }

  private logHeadRead: LogSnapshotHead | undefined;

  /** The entry log's head (of the entry log's snapshot), after the header. */
  async logHead(): Promise<LogSnapshotHead> {
    if (this.logHeadRead) return this.logHeadRead;
    const header = await this.readHeader();
    if (header.commitment !== 'entries') throw new SnapshotError('the snapshot is of the tree: it has no entry log');
    const len = await this.bytes.u32("the entry log's head");
    if (len > MAX_RECORD) throw new SnapshotError("the snapshot's entry log head is too long");
    this.logHeadRead = decode(await this.bytes.read(len, "the entry log's head"), "entry log's head", (item) => {
      const f = decodeList(item, 3, 'log head');
      return { next: asSafeUint(f[0], 'next'), compactFrom: asSafeUint(f[1], 'compactFrom'), from: asSafeUint(f[2], 'from') };
    });
    return this.logHeadRead;
  }

  /** The entry log's records, in order; throws SnapshotError at the end if the count or the digest is wrong. */
  async *logItems(): AsyncGenerator<LogSnapshotItem> {
    await this.logHead();
    for await (const bytes of this.records()) {
      const item = decode(bytes, `record ${this.count}`, decodeLogItem);
      this.count++;
      yield item;
    }
  }

  /** The records after the header, up to the end mark; then the count and the digest, checked. */
  private async *records(): AsyncGenerator<Uint8Array> {
    let seen = 0;
    for (;;) {
      const len = await this.bytes.u32('a record');
      if (len === 0) break;
      if (len > MAX_RECORD) throw new SnapshotError(`record ${seen} of the snapshot is ${len} bytes long: the file is damaged`);
      yield await this.bytes.read(len, 'a record');
      seen++;
    }
    const countBytes = await this.bytes.read(8, 'the entry count');
    const count = Number(new DataView(countBytes.buffer, countBytes.byteOffset, 8).getBigUint64(0));
    const want = this.bytes.digest.digest();
    const got = await this.bytes.read(32, 'the digest', false);
    if (!equalBytes(want, got)) throw new SnapshotError('the snapshot\'s digest does not match its bytes: the file is damaged');
    if (count !== seen) throw new SnapshotError(`the snapshot says it holds ${count} records but holds ${seen}`);
    if (!(await this.bytes.atEnd())) throw new SnapshotError('the snapshot has bytes after its digest');
  }
}

/**
 * Imports a snapshot into an empty state store (`storage`, written through `write`), verified:
 * its header must name `expect.stateRoot` (and `expect.chainId`) when given, and the tree rebuilt
 * from its entries must have the header's root; otherwise SnapshotError, and no meta record is
 * written (the store holds no state).
 */
export async function importSnapshot(
  source: AsyncIterable<Uint8Array>,
  target: BulkTarget & { storage: StateStorage },
  expect: { stateRoot?: Uint8Array; chainId?: string } = {},
  opts: { stepKeys?: number } = {},
): Promise<SnapshotHeader & { keys: number }> {
  const reader = new SnapshotReader(source);
  const header = await reader.readHeader();
  if (expect.chainId !== undefined && header.chainId !== expect.chainId) throw new SnapshotError(`the snapshot is of chain "${header.chainId}", not "${expect.chainId}"`);
  if (expect.stateRoot && !equalBytes(expect.stateRoot, header.stateRoot)) throw new SnapshotError(`the snapshot is of state root ${toHex(header.stateRoot)}, not the expected ${toHex(expect.stateRoot)}`);
  const state = StoredState.empty(target.storage, { history: 0, cacheBytes: 32 * 1024 * 1024, commitment: header.commitment });
  try {
    const { keys } =
      header.commitment === 'entries'
        ? await state.importLog(header.height, await reader.logHead(), reader.logItems(), target, { stepKeys: opts.stepKeys, expectRoot: header.stateRoot })
        : await state.load(reader.entries(), header.height, target, { stepKeys: opts.stepKeys, expectRoot: header.stateRoot });
    return { ...header, keys };
  } catch (e) {
    if (e instanceof StateStorageError) throw new SnapshotError(`the snapshot does not verify: ${e.message}`);
    throw e;
  }
}
