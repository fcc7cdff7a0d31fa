import { Counter, Gauge, type Registry } from 'prom-client';
import type { Network } from './network.js';

/** What P2PNetwork reports as it happens; a no-op by default, so tests need none. */
export interface P2PNetworkMetrics {
  /** The connection gater refused a peer that is not admitted (after its handshake proved its peer id). */
  connectionRefused(direction: 'inbound' | 'outbound'): void;
}

export const noopP2PNetworkMetrics: P2PNetworkMetrics = {
  connectionRefused: () => undefined,
};

/** Peer metrics: the peer count read from the network when scraped, refusals counted as they happen. */
export class P2PMetrics implements P2PNetworkMetrics {
  private network: Pick<Network, 'peers'> | undefined;
  private readonly refused: Counter<'direction'>;

  constructor(registry: Registry) {
    const network = () => this.network;
    new Gauge({
      name: 'metanode_p2p_peers',
      help: 'Connected peers',
      registers: [registry],
      collect() {
        const n = network();
        if (n) this.set(n.peers().length);
      },
    });
    this.refused = new Counter({
      name: 'metanode_p2p_connections_refused_total',
      help: 'Connections refused during the handshake because the peer is not admitted (permissioned mode: not a validator, an allowed peer or a bootstrap peer)',
      labelNames: ['direction'],
      registers: [registry],
    });
  }

  attach(network: Pick<Network, 'peers'>): void {
    this.network = network;
  }

  connectionRefused(direction: 'inbound' | 'outbound'): void {
    this.refused.inc({ direction });
  }
}
