import { Gauge, type Registry } from 'prom-client';
import type { Network } from './network.js';

/** Peer metrics, read from the network when scraped. */
export class P2PMetrics {
  private network: Pick<Network, 'peers'> | undefined;

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
  }

  attach(network: Pick<Network, 'peers'>): void {
    this.network = network;
  }
}
