import { Registry, collectDefaultMetrics } from 'prom-client';
import { ConsensusMetrics, type ConsensusSources } from '../consensus/metrics.js';
import { P2PMetrics } from '../p2p/metrics.js';
import type { Network } from '../p2p/index.js';
import { PromRpcMetrics } from '../rpc/metrics.js';

/**
 * The node's metrics on its own Registry (never prom-client's global one): the process's
 * (process_resident_memory_bytes, …) and each part's, served by RPC at GET /metrics.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly consensus: ConsensusMetrics;
  readonly p2p: P2PMetrics;
  readonly rpc: PromRpcMetrics;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.consensus = new ConsensusMetrics(this.registry);
    this.p2p = new P2PMetrics(this.registry);
    this.rpc = new PromRpcMetrics(this.registry);
  }

  /** Points the scrape-time gauges at the composed node. */
  attach(parts: ConsensusSources & { network: Pick<Network, 'peers'> }): void {
    this.consensus.attach(parts);
    this.p2p.attach(parts.network);
  }
}
