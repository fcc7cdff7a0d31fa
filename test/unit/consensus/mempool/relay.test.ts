import { expect } from 'chai';
import { Mempool, TxRelay, decodeTxBatch } from '../../../../consensus/mempool/index.js';
import type { Network, PeerInfo } from '../../../../p2p/network.js';
import { Topic } from '../../../../p2p/network.js';
import { CHAIN_ID, genesisVm, silentLogger, testGenesis } from '../../fixtures.js';

/** The part of a Network the relay uses, recording what it publishes. */
function recordingNetwork(peers: PeerInfo[]): { network: Network; published: { topic: Topic; data: Uint8Array }[] } {
  const published: { topic: Topic; data: Uint8Array }[] = [];
  const network = {
    peerId: 'self',
    publish: (topic: Topic, data: Uint8Array) => {
      published.push({ topic, data });
      return Promise.resolve();
    },
    subscribe: () => undefined,
    peers: () => peers,
  } as unknown as Network;
  return { network, published };
}

describe('consensus/mempool relay', () => {
  const vm = genesisVm(testGenesis({}));
  const mempool = new Mempool({}, { chainId: CHAIN_ID, registry: vm.registry, fees: vm.bank, state: () => vm.world, logger: silentLogger() });
  const raws = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5)];
  const turn = () => new Promise((r) => setImmediate(r));

  async function relayed(peers: PeerInfo[], gossipWithoutPeers: boolean): Promise<Uint8Array[][]> {
    const { network, published } = recordingNetwork(peers);
    const relay = new TxRelay({ gossipWithoutPeers }, { mempool, network, logger: silentLogger() });
    relay.start({ receive: false });
    for (const r of raws) relay.relay(r);
    await turn();
    relay.stop();
    expect(published.every((p) => p.topic === Topic.Transactions)).to.equal(true);
    return published.map((p) => decodeTxBatch(p.data, 1024));
  }

  it('gossips one batch per turn of what was admitted', async () => {
    expect(await relayed([{ id: 'p' }], false)).to.deep.equal([raws]);
    expect(await relayed([{ id: 'p' }], true)).to.deep.equal([raws]);
  });

  it('with no peer connected, gossips only when it expects peers (gossipsub offers the batch to one that connects soon)', async () => {
    expect(await relayed([], true)).to.deep.equal([raws]);
    expect(await relayed([], false)).to.deep.equal([]);
  });
});
