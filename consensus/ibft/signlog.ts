import { readU64be, u64be } from '../../chain/index.js';
import { Bucket, RecordLog, StorageError, StorageErrorCode, bucketKey, bucketRange, type BatchOp, type KVController, type RecordRef } from '../../storage/index.js';
import type { MsgType } from './messages.js';

/**
 * Everything a validator signs, written durably (fsynced) before it is sent. After a restart the
 * validator reads it back and never signs a conflicting message at a height and round where it
 * signed before: it re-sends what it signed instead.
 */
export interface SignLog {
  /** The stored envelope (encoded) for (height, round, type), if this validator signed one. */
  get(height: number, round: number, type: MsgType): Promise<Uint8Array | undefined>;
  /** Every record at `height`: [round, type, envelope]. */
  atHeight(height: number): Promise<{ round: number; type: MsgType; envelope: Uint8Array }[]>;
  /** Writes and fsyncs. Resolves only when the record is durable. */
  record(height: number, round: number, type: MsgType, envelope: Uint8Array): Promise<void>;
  /** Drops records below `height` (their heights are committed). */
  prune(belowHeight: number): Promise<void>;
}

/** In memory, for simulations. */
export class MemorySignLog implements SignLog {
  private readonly records = new Map<string, { height: number; round: number; type: MsgType; envelope: Uint8Array }>();

  async get(height: number, round: number, type: MsgType): Promise<Uint8Array | undefined> {
    return this.records.get(`${height}/${round}/${type}`)?.envelope;
  }

  async atHeight(height: number) {
    return [...this.records.values()].filter((r) => r.height === height);
  }

  async record(height: number, round: number, type: MsgType, envelope: Uint8Array): Promise<void> {
    this.records.set(`${height}/${round}/${type}`, { height, round, type, envelope });
  }

  async prune(belowHeight: number): Promise<void> {
    for (const [k, r] of this.records) if (r.height < belowHeight) this.records.delete(k);
  }
}

/** Heights per file of the file sign log: a multiple of the engine's pruning interval. */
const HEIGHTS_PER_SEGMENT = 16;
/** height (u64 BE) ‖ round (u64 BE) ‖ type (u8), then the envelope. */
const RECORD_HEAD = 17;

/**
 * The sign log in files of its own (storage/recordlog.ts), one per 16 heights, each record
 * appended and fdatasynced. A proposal's or a COMMIT's envelope holds the whole block (up to
 * several MB): in LevelDB each would pass through the memtable, the write-ahead log and a
 * compaction before pruning deleted it. Here it is written once and its file deleted whole.
 * Only where each record is stays in memory; envelopes are read back when asked for (at start).
 */
export class FileSignLog implements SignLog {
  private readonly index = new Map<string, { height: number; round: number; type: MsgType; ref: RecordRef }>();

  private constructor(private readonly log: RecordLog) {}

  /**
   * Opens the sign log in `dir`. Records of the sign log that older versions kept in the
   * database (`importFrom`) are moved here first: copied and synced, then deleted there.
   */
  static async open(dir: string, o: { importFrom?: KVController } = {}): Promise<FileSignLog> {
    const { log, records } = await RecordLog.open(dir);
    const s = new FileSignLog(log);
    for (const r of records) {
      if (r.length < RECORD_HEAD) throw new StorageError(StorageErrorCode.Corrupt, `a sign log record in ${dir} is ${r.length} bytes, shorter than its header`, { location: dir });
      const height = Number(readU64be(r.payload, 0));
      const round = Number(readU64be(r.payload, 8));
      const type = r.payload[16] as MsgType;
      s.index.set(`${height}/${round}/${type}`, { height, round, type, ref: { segment: r.segment, offset: r.offset, length: r.length } }); // not the payload: it is the whole file's buffer
    }
    if (o.importFrom) {
      const ops: BatchOp[] = [];
      for await (const [k, v] of o.importFrom.entries(bucketRange(Bucket.SignLog))) {
        await s.record(Number(readU64be(k, 1)), Number(readU64be(k, 9)), k[17] as MsgType, v);
        ops.push({ type: 'del', key: k });
      }
      if (ops.length) await o.importFrom.batch(ops, { sync: true });
    }
    return s;
  }

  async get(height: number, round: number, type: MsgType): Promise<Uint8Array | undefined> {
    const e = this.index.get(`${height}/${round}/${type}`);
    return e && this.envelope(e.ref);
  }

  async atHeight(height: number) {
    return (await this.read((e) => e.height === height)).map(({ round, type, envelope }) => ({ round, type, envelope }));
  }

  /** Every record held, by height, round and type (for inspection while the node is down). */
  async all(): Promise<{ height: number; round: number; type: MsgType; envelope: Uint8Array }[]> {
    return this.read(() => true);
  }

  /** The records `keep` selects, read back, by height, round and type. */
  private async read(keep: (e: { height: number }) => boolean): Promise<{ height: number; round: number; type: MsgType; envelope: Uint8Array }[]> {
    const out: { height: number; round: number; type: MsgType; envelope: Uint8Array }[] = [];
    for (const e of this.index.values()) if (keep(e)) out.push({ height: e.height, round: e.round, type: e.type, envelope: await this.envelope(e.ref) });
    return out.sort((a, b) => a.height - b.height || a.round - b.round || a.type - b.type);
  }

  async record(height: number, round: number, type: MsgType, envelope: Uint8Array): Promise<void> {
    const head = new Uint8Array(RECORD_HEAD);
    head.set(u64be(height), 0);
    head.set(u64be(round), 8);
    head[16] = type;
    const ref = await this.log.append(Math.floor(height / HEIGHTS_PER_SEGMENT), [head, envelope]);
    this.index.set(`${height}/${round}/${type}`, { height, round, type, ref });
  }

  /** A record's envelope: its payload after the head (the whole record is read, to check it). */
  private async envelope(ref: RecordRef): Promise<Uint8Array> {
    return (await this.log.read(ref)).subarray(RECORD_HEAD);
  }

  async prune(belowHeight: number): Promise<void> {
    for (const [k, e] of this.index) if (e.height < belowHeight) this.index.delete(k);
    await this.log.dropBelow(Math.floor(belowHeight / HEIGHTS_PER_SEGMENT));
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}

/** The sign log in the node's database: every record is a synced LevelDB write. */
export class KVSignLog implements SignLog {
  constructor(private readonly kv: KVController) {}

  private key(height: number, round: number, type: MsgType): Uint8Array {
    return bucketKey(Bucket.SignLog, u64be(height), u64be(round), Uint8Array.of(type));
  }

  async get(height: number, round: number, type: MsgType): Promise<Uint8Array | undefined> {
    return this.kv.get(this.key(height, round, type));
  }

  async atHeight(height: number) {
    const out: { round: number; type: MsgType; envelope: Uint8Array }[] = [];
    for await (const [k, v] of this.kv.entries(bucketRange(Bucket.SignLog, u64be(height)))) {
      out.push({ round: Number(readU64be(k, 9)), type: k[17] as MsgType, envelope: v });
    }
    return out;
  }

  async record(height: number, round: number, type: MsgType, envelope: Uint8Array): Promise<void> {
    await this.kv.batch([{ type: 'put', key: this.key(height, round, type), value: envelope }], { sync: true });
  }

  async prune(belowHeight: number): Promise<void> {
    const ops: BatchOp[] = [];
    for await (const [k] of this.kv.entries({ gte: bucketKey(Bucket.SignLog), lt: bucketKey(Bucket.SignLog, u64be(belowHeight)) })) ops.push({ type: 'del', key: k });
    if (ops.length) await this.kv.batch(ops);
  }
}
