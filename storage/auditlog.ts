import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HashTag, equalBytes, fromHex, taggedHash, toHex, utf8 } from '../chain/index.js';
import { StorageError, StorageErrorCode } from './errors.js';
import { GroupCommit } from './groupcommit.js';
import { RecordLog, parseSegment, segmentFileName } from './recordlog.js';

/** What happened: one accepted write request or admin action. */
export interface AuditEntry {
  /** The client's address. */
  client: string;
  /** The bearer token's subject, or '' without one. */
  subject: string;
  /** The method (a batch of tx_send is one entry). */
  method: string;
  /** What it was asked (e.g. the peer added), JSON-safe. */
  detail?: unknown;
  /** What came of it (e.g. the admitted transactions' hashes), JSON-safe. */
  result?: unknown;
}

/** A record as stored: the entry, its place in the chain, and when it was written (ISO 8601, the machine's clock). */
export interface AuditRecord extends AuditEntry {
  seq: number;
  /** 0x-hex hash of the previous record (32 zero bytes before the first). */
  prev: string;
  time: string;
}

const ZERO = new Uint8Array(32);
const SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_NAME = /^(\d{12})\.rec$/;

/** The hash a record's successor names: BLAKE3 of the AuditRecord tag and the record's stored bytes. */
export function auditRecordHash(payload: Uint8Array): Uint8Array {
  return taggedHash(HashTag.AuditRecord, payload);
}

/**
 * The node's audit log (`<home>/audit/`): every accepted write request and admin action, as a
 * hash chain of JSON records over the record log's checksummed, fsynced segments. A record
 * names the hash of the one before it, so a record changed, removed or inserted later breaks
 * the chain at that point (`metanode audit verify`). Appends made while one is being written
 * are written and synced together in the next (group commit): a write request waits for one
 * fsync, however many arrive at once.
 */
export class AuditLog {
  private readonly commits = new GroupCommit<AuditEntry>((entries) => this.write(entries));
  private closed = false;

  private constructor(
    private readonly log: RecordLog,
    private segment: number,
    private segmentBytes: number,
    private seq: number,
    private head: Uint8Array,
    private readonly now: () => Date,
  ) {}

  /** Opens (creating) the log in `dir`, reading only its last segment to find the head. */
  static async open(dir: string, o: { now?: () => Date } = {}): Promise<AuditLog> {
    const { log } = await RecordLog.open(dir, { scan: false });
    const segments = await log.listSegments();
    let segment = 0;
    let bytes = 0;
    let seq = 0;
    let head: Uint8Array = ZERO;
    const last = segments.at(-1);
    if (last !== undefined) {
      const records = await log.scan(last); // cuts a record torn by a crash (never acknowledged)
      segment = last;
      bytes = records.length ? records.at(-1)!.offset + records.at(-1)!.length : 0;
      const top = records.at(-1);
      if (top) {
        seq = decodeRecord(top.payload, join(dir, segmentFileName(last))).seq + 1;
        head = auditRecordHash(top.payload);
      } else if (segments.length > 1) {
        throw new StorageError(StorageErrorCode.Corrupt, `the audit log ${dir} ends in an empty segment after others; restore it from a backup`, { location: dir });
      }
    }
    return new AuditLog(log, segment, bytes, seq, head, o.now ?? (() => new Date()));
  }

  /** Number of records written. */
  get length(): number {
    return this.seq;
  }

  /** Appends `entry`; resolves once it is on disk. Fails (StorageError) if it could not be written. */
  append(entry: AuditEntry): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError(StorageErrorCode.Closed, 'the audit log is closed'));
    return this.commits.add(entry);
  }

  /** Chains the entries on from the head and writes them in one synced append. */
  private async write(entries: AuditEntry[]): Promise<void> {
    const time = this.now().toISOString();
    let seq = this.seq;
    let head = this.head;
    const payloads = entries.map((entry) => {
      const record: AuditRecord = { seq, prev: toHex(head), time, client: entry.client, subject: entry.subject, method: entry.method, detail: entry.detail, result: entry.result };
      const payload = utf8(JSON.stringify(record));
      head = auditRecordHash(payload);
      seq++;
      return payload;
    });
    if (this.segmentBytes >= SEGMENT_BYTES) {
      this.segment++;
      this.segmentBytes = 0;
    }
    await this.log.appendAll(
      this.segment,
      payloads.map((p) => [p]),
    );
    this.segmentBytes += payloads.reduce((n, p) => n + 8 + p.length, 0);
    this.seq = seq;
    this.head = head;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commits.idle();
    await this.log.close();
  }
}

function decodeRecord(payload: Uint8Array, where: string): AuditRecord {
  let r: AuditRecord;
  try {
    r = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) as AuditRecord;
  } catch {
    throw new StorageError(StorageErrorCode.Corrupt, `${where} holds an audit record that is not JSON`, { location: where });
  }
  if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.seq) || typeof r.prev !== 'string' || typeof r.time !== 'string' || typeof r.method !== 'string') {
    throw new StorageError(StorageErrorCode.Corrupt, `${where} holds an audit record without seq, prev, time and method`, { location: where });
  }
  return r;
}

/** What `verifyAuditLog` found. */
export interface AuditVerification {
  ok: boolean;
  records: number;
  /** Hash of the last intact record in the chain (0x-hex; zeros for an empty log). */
  head: string;
  /** The first problem, where the chain breaks. */
  problem?: { seq: number; file: string; reason: string };
  /** The records, when asked for. */
  list?: AuditRecord[];
}

/**
 * Reads the whole audit log in `dir` without changing it (a running node may be appending) and
 * checks every record's checksum, sequence number and link to the one before.
 */
export async function verifyAuditLog(dir: string, o: { keep?: boolean } = {}): Promise<AuditVerification> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new StorageError(StorageErrorCode.Open, `cannot read the audit log ${dir}: ${(e as Error).message}`, { location: dir });
  }
  const segments = names.flatMap((n) => (SEGMENT_NAME.test(n) ? [Number(SEGMENT_NAME.exec(n)![1])] : [])).sort((a, b) => a - b);
  let prev: Uint8Array = ZERO;
  let seq = 0;
  const list: AuditRecord[] = [];
  const fail = (file: string, reason: string): AuditVerification => ({ ok: false, records: seq, head: toHex(prev), problem: { seq, file, reason }, ...(o.keep ? { list } : {}) });
  for (const [i, segment] of segments.entries()) {
    const file = join(dir, segmentFileName(segment));
    if (i > 0 && segment !== segments[i - 1]! + 1) return fail(file, `segment ${segments[i - 1]! + 1} is missing`);
    let parsed: ReturnType<typeof parseSegment>;
    try {
      parsed = parseSegment(new Uint8Array(await readFile(file)), segment, file);
    } catch (e) {
      return fail(file, (e as Error).message);
    }
    for (const r of parsed.records) {
      let rec: AuditRecord;
      try {
        rec = decodeRecord(r.payload, file);
      } catch (e) {
        return fail(file, (e as Error).message);
      }
      if (rec.seq !== seq) return fail(file, `record ${seq} is numbered ${rec.seq}: records were removed or inserted`);
      let named: Uint8Array;
      try {
        named = fromHex(rec.prev, 32, 'prev');
      } catch {
        return fail(file, `record ${seq} names no valid previous hash`);
      }
      if (!equalBytes(named, prev)) return fail(file, `record ${seq} does not follow record ${seq - 1} (its prev hash differs): a record before it was changed`);
      prev = auditRecordHash(r.payload);
      if (o.keep) list.push(rec);
      seq++;
    }
    if (parsed.corrupt) return fail(file, parsed.corrupt.message);
  }
  return { ok: true, records: seq, head: toHex(prev), ...(o.keep ? { list } : {}) };
}
