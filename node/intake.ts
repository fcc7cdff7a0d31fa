import type { Logger } from 'pino';
import type { Transaction } from '../chain/index.js';
import { MempoolError, RejectReason, type Blockchain, type Mempool, type TxJournal, type TxRelay } from '../consensus/index.js';
import type { Network } from '../p2p/index.js';

/** Journaled transactions are admitted again at start in chunks of this many (one verifier round each). */
const REPLAY_CHUNK = 1000;

/**
 * How a transaction sent to this node gets in: admitted to the mempool, written to the journal
 * (so that an acknowledged transaction survives a crash), then relayed to peers — and only
 * then acknowledged. A transaction the journal cannot store is taken out of the pool again and
 * refused. At start, the journal's transactions are admitted again and relayed once a peer is
 * connected; after commits, the journal is compacted when it has grown.
 */
export class TxIntake {
  private compacting: Promise<void> | undefined;
  private replayed: Uint8Array[] = [];
  private relayTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      mempool: Mempool;
      journal: TxJournal | undefined;
      relay: Pick<TxRelay, 'relay'>;
      network: Pick<Network, 'peers'>;
      chain: Pick<Blockchain, 'on' | 'off'>;
      logger: Logger;
    },
  ) {}

  async submit(raw: Uint8Array): Promise<Transaction> {
    const [r] = await this.submitMany([raw]);
    if (r instanceof MempoolError) throw r;
    return r!;
  }

  async submitMany(raws: Uint8Array[]): Promise<(Transaction | MempoolError)[]> {
    const { mempool, journal, relay } = this.deps;
    const results = await mempool.addRawBatchAsync(raws);
    const admitted = raws.filter((_, i) => !(results[i] instanceof MempoolError));
    if (journal && admitted.length) {
      try {
        await journal.append(admitted);
      } catch (e) {
        this.deps.logger.error({ err: (e as Error).message, transactions: admitted.length }, 'the transaction journal cannot be written: refusing the transactions');
        return results.map((r) => {
          if (r instanceof MempoolError) return r;
          mempool.evict(r);
          return new MempoolError(RejectReason.NotStored, `the node could not store the transaction (${(e as Error).message}); it was not admitted`);
        });
      }
    }
    for (const raw of admitted) relay.relay(raw);
    return results;
  }

  /** Admits the journal's transactions again (before the node starts); then compacts the journal. */
  async replay(raws: readonly Uint8Array[]): Promise<void> {
    const { mempool, journal, logger } = this.deps;
    if (!journal || raws.length === 0) return;
    let admitted = 0;
    for (let i = 0; i < raws.length; i += REPLAY_CHUNK) {
      const chunk = raws.slice(i, i + REPLAY_CHUNK);
      const results = await mempool.addRawBatchAsync(chunk);
      results.forEach((r, j) => {
        if (r instanceof MempoolError) return;
        admitted++;
        this.replayed.push(chunk[j]!);
      });
    }
    await journal.compact(mempool.pending().map((tx) => tx.serialize()));
    logger.info({ journaled: raws.length, admitted, committedOrStale: raws.length - admitted }, 'transactions acknowledged before the last stop admitted again');
  }

  /** Compaction after commits, and the relay of replayed transactions once a peer is connected. */
  start(): void {
    this.deps.chain.on('committed', this.onCommitted);
    if (this.replayed.length === 0) return;
    this.relayTimer = setInterval(() => {
      if (this.deps.network.peers().length === 0) return;
      clearInterval(this.relayTimer);
      const txs = this.replayed;
      this.replayed = [];
      for (const raw of txs) this.deps.relay.relay(raw);
    }, 250);
    this.relayTimer.unref();
  }

  /**
   * Stops compacting after commits; a journal that holds anything is then rewritten as what the
   * pool still holds, so that the next start does not admit again (and refuse as stale) every
   * transaction committed since the last compaction: ~1.5–2.5 s of start-up after 30,000 transfers on a
   * state of ten million accounts (docs/performance.md). After kill -9 the next start replays all.
   */
  async stop(): Promise<void> {
    const { journal, mempool, logger } = this.deps;
    clearInterval(this.relayTimer);
    this.deps.chain.off('committed', this.onCommitted);
    await this.compacting;
    if (journal && journal.size > 0) {
      await journal.compact(mempool.pending().map((tx) => tx.serialize())).catch((e: unknown) => logger.error({ err: (e as Error).message }, 'compacting the transaction journal at stop failed: the next start replays it whole'));
    }
    await journal?.close();
  }

  private readonly onCommitted = (): void => {
    const { journal, mempool, logger } = this.deps;
    if (!journal || this.compacting || !journal.needsCompaction) return;
    // The snapshot and the switch to a new segment happen in this turn, before any append.
    this.compacting = journal
      .compact(mempool.pending().map((tx) => tx.serialize()))
      .catch((e: unknown) => logger.error({ err: (e as Error).message }, 'compacting the transaction journal failed'))
      .finally(() => (this.compacting = undefined));
  };
}
