import { readU64be, u64be } from '../../chain/index.js';
import { Bucket, bucketKey, bucketRange, type BatchOp, type KVController } from '../../storage/index.js';
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
