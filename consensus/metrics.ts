import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Blockchain, CommittedBlock } from './blockchain.js';
import type { Mempool } from './mempool/index.js';
import type { BlockSync } from './sync.js';

/** Why gossip was rejected (the peer that delivered it is penalised). */
export type GossipRejectReason = 'malformed' | 'not_validator' | 'bad_signature' | 'bad_certificate';

/** What the IBFT core and engine report; a no-op by default, so tests and simulations need none. */
export interface IbftMetrics {
  /** The core moved to `round` at `height` (it logs 'round change'). */
  roundChange(height: number, round: number): void;
  /** The core committed block `height` in `round` (it logs 'committed block'). */
  committedBlock(height: number, round: number): void;
  /** The engine rejected a consensus message or a block announcement, for `reason`. */
  gossipRejected?(topic: 'consensus' | 'blocks', reason: GossipRejectReason): void;
  /**
   * A peer's proposal arrived whose timestamp is `offsetMs` ahead of this node's clock (negative:
   * behind); `refused` when that is more than the allowed drift (the proposal is refused).
   */
  proposalClock?(offsetMs: number, refused: boolean): void;
}

export const noopIbftMetrics: IbftMetrics = {
  roundChange: () => undefined,
  committedBlock: () => undefined,
};

/** Where the gauges read from at scrape time. */
export interface ConsensusSources {
  chain: Blockchain;
  mempool: Mempool;
  sync: BlockSync;
}

/**
 * The chain, consensus, mempool and sync metrics, on the node's own registry. Gauges are read
 * when scraped; the block histograms follow the chain's 'committed' events once attached.
 */
export class ConsensusMetrics implements IbftMetrics {
  private sources: ConsensusSources | undefined;
  private lastTimestamp: number | undefined;
  private readonly round: Gauge;
  private readonly roundChanges: Counter;
  private readonly blockInterval: Histogram;
  private readonly blockTxs: Histogram;
  private readonly gossipRejections: Counter<'topic' | 'reason'>;
  private readonly clockOffset: Gauge;
  private readonly refusedForTimestamp: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    const gauge = (name: string, help: string, read: (s: ConsensusSources) => number): void => {
      const sources = () => this.sources;
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const s = sources();
          if (s) this.set(read(s));
        },
      });
    };
    gauge('metanode_chain_height', 'Height of the latest committed block', (s) => s.chain.height);
    gauge('metanode_chain_head_timestamp_seconds', 'Timestamp of the latest committed block (seconds since the epoch)', (s) => s.chain.head.timestamp / 1000);
    gauge('metanode_mempool_transactions', 'Transactions waiting in the mempool', (s) => s.mempool.size);
    gauge('metanode_mempool_bytes', 'Bytes of transactions waiting in the mempool', (s) => s.mempool.sizeBytes);
    gauge('metanode_sync_syncing', '1 while block sync is catching up with a peer ahead of this node, else 0', (s) => (s.sync.syncing ? 1 : 0));
    gauge('metanode_sync_best_known_height', 'The highest head height reported by a peer whose blocks verified (or this node\'s own)', (s) => s.sync.bestKnownHeight);
    const caches = ['values', 'nodes', 'log', 'pages'] as const;
    const stateCaches = () => this.sources?.chain.state.cacheStats;
    const stateLog = () => this.sources?.chain.state.log;
    const cacheGauge = (name: string, help: string, pick: (c: { records: number; bytes: number }) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['cache'],
        registers,
        collect() {
          const c = stateCaches();
          if (c) for (const k of caches) this.set({ cache: k }, pick(c[k]));
        },
      });
    };
    cacheGauge('metanode_state_cache_bytes', "Bytes the state's caches hold, by cache (values, tree nodes or the entry log's index records, key pages), as counted against storage.stateCacheMB", (c) => c.bytes);
    cacheGauge('metanode_state_cache_records', "Records the state's caches hold, by cache (values, tree nodes or the entry log's index records, key pages)", (c) => c.records);
    new Gauge({
      name: 'metanode_state_log_positions',
      help: "The entry log's positions, on a chain that commits to it: next (its length), compact_from (compaction's cursor: nothing active below), pruned_to (the first position still stored), active (live entries, the sentinel's included)",
      labelNames: ['position'],
      registers,
      collect() {
        const log = stateLog();
        if (!log) return;
        const { next, compactFrom, active } = log.state;
        this.set({ position: 'next' }, next);
        this.set({ position: 'compact_from' }, compactFrom);
        this.set({ position: 'pruned_to' }, log.prunedTo);
        this.set({ position: 'active' }, active);
      },
    });
    const cacheCounter = (name: string, help: string, pick: (c: { reads: number; prefetched: number }) => number, which: readonly (typeof caches)[number][] = caches): void => {
      new Counter({
        name,
        help,
        labelNames: ['cache'],
        registers,
        collect() {
          const c = stateCaches();
          if (!c) return;
          this.reset(); // the state counts; the counter shows its totals
          for (const k of which) this.inc({ cache: k }, pick(c[k]));
        },
      });
    };
    cacheCounter('metanode_state_storage_reads_total', 'State records read from storage because the cache did not hold them, by cache (values, tree nodes or the entry log index records and entries, key pages), since the node started', (c) => c.reads);
    cacheCounter('metanode_state_prefetch_reads_total', 'State records read ahead of a block, off the main thread, into the caches (values, tree nodes or the entry log index records), since the node started (storage.statePrefetch)', (c) => c.prefetched, ['values', 'nodes', 'log']);
    this.round = new Gauge({ name: 'metanode_consensus_round', help: 'The consensus round this validator is in at the current height (0 when all is well)', registers });
    this.roundChanges = new Counter({ name: 'metanode_consensus_round_changes_total', help: 'Round changes this validator made (each one is a round that did not commit)', registers });
    this.blockInterval = new Histogram({
      name: 'metanode_block_interval_seconds',
      help: 'Time between the timestamps of consecutive committed blocks',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 120],
      registers,
    });
    this.blockTxs = new Histogram({
      name: 'metanode_block_transactions',
      help: 'Transactions per committed block',
      buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
      registers,
    });
    this.gossipRejections = new Counter({
      name: 'metanode_consensus_gossip_rejected_total',
      help: 'Consensus messages and block announcements rejected (their peer penalised), by topic and reason: malformed, not_validator, bad_signature, bad_certificate',
      labelNames: ['topic', 'reason'],
      registers,
    });
    this.clockOffset = new Gauge({
      name: 'metanode_consensus_clock_offset_ms',
      help: "The last fresh proposal's timestamp minus this node's clock when it arrived (ms): far above 0, this node's clock is behind its peers'; far below, ahead",
      registers,
    });
    this.refusedForTimestamp = new Counter({
      name: 'metanode_consensus_proposals_refused_timestamp_total',
      help: "Proposals refused because their timestamp was ahead of this node's clock by more than the allowed drift (this node's clock is probably behind)",
      registers,
    });
  }

  /** Starts reading from the running node's parts (once). */
  attach(sources: ConsensusSources): void {
    if (this.sources) return;
    this.sources = sources;
    this.lastTimestamp = sources.chain.head.timestamp;
    sources.chain.on('committed', (c) => this.onCommitted(c));
  }

  roundChange(_height: number, round: number): void {
    this.round.set(round);
    this.roundChanges.inc();
  }

  committedBlock(): void {
    this.round.set(0); // the next height starts at round 0
  }

  gossipRejected(topic: 'consensus' | 'blocks', reason: GossipRejectReason): void {
    this.gossipRejections.inc({ topic, reason });
  }

  proposalClock(offsetMs: number, refused: boolean): void {
    this.clockOffset.set(offsetMs);
    if (refused) this.refusedForTimestamp.inc();
  }

  private onCommitted({ block }: CommittedBlock): void {
    const ts = block.header.timestamp;
    if (this.lastTimestamp !== undefined) this.blockInterval.observe(Math.max(0, ts - this.lastTimestamp) / 1000);
    this.lastTimestamp = ts;
    this.blockTxs.observe(block.transactions.length);
  }
}
