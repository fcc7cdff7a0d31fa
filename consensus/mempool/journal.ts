import { GroupCommit, RecordLog } from '../../storage/index.js';

export interface TxJournalOptions {
  /** Once the journal holds this many bytes, it is rewritten as the pool's transactions alone. */
  compactBytes: number;
}

export const defaultTxJournalOptions: TxJournalOptions = { compactBytes: 32 * 1024 * 1024 };

/**
 * The transactions this node acknowledged (tx_send answered "admitted"), on disk before the
 * answer: the mempool itself lives in memory, and a node killed with transactions in it would
 * otherwise lose them although their senders were told they were taken. Each record is one
 * transaction's encoding, in the record log's checksummed, fsynced segments; appends made while
 * one is being written are written and synced together (group commit). At start the node
 * admits them again (those committed meanwhile are refused as stale), then compacts. The
 * journal only grows until `compactBytes`: then it is rewritten as what the pool still holds
 * (a new segment, synced, before the older ones are deleted). Transactions received from peers
 * are not journaled: the node that acknowledged them has them.
 */
export class TxJournal {
  private readonly commits = new GroupCommit<readonly Uint8Array[]>((batches) => this.write(batches.flat()));
  private closed = false;

  private constructor(
    private readonly opts: TxJournalOptions,
    private readonly log: RecordLog,
    private segment: number,
    private bytes: number,
  ) {}

  /** Opens (creating) the journal in `dir`; returns it and the transactions it holds, oldest first. */
  static async open(dir: string, opts: Partial<TxJournalOptions> = {}): Promise<{ journal: TxJournal; raws: Uint8Array[] }> {
    const { log, records } = await RecordLog.open(dir);
    const segment = records.length ? records.at(-1)!.segment : ((await log.listSegments()).at(-1) ?? 0);
    const bytes = records.reduce((n, r) => n + 8 + r.length, 0);
    return { journal: new TxJournal({ ...defaultTxJournalOptions, ...opts }, log, segment, bytes), raws: records.map((r) => r.payload) };
  }

  /** Bytes written since the last compaction. */
  get size(): number {
    return this.bytes;
  }

  get needsCompaction(): boolean {
    return this.bytes >= this.opts.compactBytes;
  }

  /** Appends transactions' encodings; resolves once they are on disk. */
  append(raws: readonly Uint8Array[]): Promise<void> {
    if (raws.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the transaction journal is closed'));
    return this.commits.add(raws);
  }

  private async write(raws: readonly Uint8Array[]): Promise<void> {
    await this.log.appendAll(
      this.segment,
      raws.map((r) => [r]),
    );
    this.bytes += raws.reduce((n, r) => n + 8 + r.length, 0);
  }

  /**
   * Rewrites the journal as `raws` (what the pool holds now): into a new segment, synced, and
   * only then are the older segments deleted. Appends made meanwhile go to the new segment,
   * after these.
   */
  async compact(raws: readonly Uint8Array[]): Promise<void> {
    if (this.closed) return;
    // At once, before any await: every append from now on goes to the new segment. Those already
    // on their way to the old one are of transactions that were in the pool, so in `raws`; the
    // record log writes them before these.
    const next = ++this.segment;
    this.bytes = 0;
    if (raws.length) {
      await this.log.appendAll(next, raws.map((r) => [r]));
      this.bytes = raws.reduce((n, r) => n + 8 + r.length, 0);
    } else {
      await this.log.appendAll(next, [], { sync: true }); // creates the segment: the older ones may go
    }
    await this.log.dropBelow(next);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commits.idle();
    await this.log.close();
  }
}
