import { expect } from 'chai';
import type { GenesisDoc } from '../../genesis/index.js';
import { checkChainConsistency } from './invariants.js';
import { TransferLoad, seededRandom } from './load.js';
import { TestNode, sendTransfer, sleep, waitForReceipt, type HeadJson, type ReceiptJson, type RpcClient, type TxJson } from './harness.js';

/** Set METANODE_E2E_SEED to replay a run's kill moments and transfers. */
const SEED = Number(process.env.METANODE_E2E_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KILLS = 5;

/** Receipts of `hashes` (null where not committed), in batches. */
async function receiptsOf(rpc: RpcClient, hashes: string[]): Promise<(ReceiptJson | null)[]> {
  return rpc.batchResults<ReceiptJson | null>(hashes.map((h) => ({ method: 'chain_getReceipt', params: [h] })));
}

describe(`e2e: kill -9 under load, ${KILLS} times (seed ${SEED})`, function () {
  this.timeout(90_000);
  const random = seededRandom(SEED);
  let node: TestNode;
  let genesis: GenesisDoc;
  let load: TransferLoad;
  let committedTxs = 0;

  before(async () => {
    node = await TestNode.init({ emptyBlockIntervalMs: 100 });
    await node.start();
    genesis = await node.readJson<GenesisDoc>('genesis');
    load = new TransferLoad(node.rpc, { chainId: node.chainId, accounts: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], random, overdrawShare: 0.1, intervalMs: 20 });
  });

  after(async () => {
    await load?.stop();
    await node?.remove();
  });

  it('starts from a consistent genesis state', async () => {
    const c = await checkChainConsistency(node.rpc, genesis);
    expect(c.txs).to.equal(0);
  });

  for (let i = 1; i <= KILLS; i++) {
    it(`kill -9 #${i} at a random moment while transfers arrive; after restart nothing committed is lost and everything agrees`, async () => {
      const rpc = node.rpc;
      const acceptedBefore = load.accepted.size;
      load.start();
      // Let the load run for a random while, watching the head.
      const until = Date.now() + 300 + Math.floor(random() * 1200);
      let seen = await rpc.call<HeadJson>('chain_getHead');
      while (Date.now() < until) {
        await sleep(Math.floor(random() * 60));
        seen = await rpc.call<HeadJson>('chain_getHead');
      }
      // Some transactions known committed just before the kill.
      const sample = [...load.accepted.keys()].filter(() => random() < 0.05).slice(-100);
      const sampled = await receiptsOf(rpc, sample);
      const knownCommitted = sample.map((h, k) => [h, sampled[k]] as const).filter(([, r]) => r !== null);
      seen = await rpc.call<HeadJson>('chain_getHead');
      await sleep(Math.floor(random() * 30));

      await node.kill();
      await load.stop();
      expect(load.accepted.size, 'the load generator got transactions in').to.be.greaterThan(acceptedBefore);
      expect([...load.rejected], 'tx_send refusals during the load').to.deep.equal([]);

      await node.start();
      // No committed block lost or rewritten.
      const head = await rpc.call<HeadJson>('chain_getHead');
      expect(head.height, 'head after restart vs last head seen before the kill').to.be.at.least(seen.height);
      const block = await rpc.call<{ hash: string; stateRoot: string }>('chain_getBlockByHeight', [seen.height]);
      expect([block.hash, block.stateRoot]).to.deep.equal([seen.hash, seen.stateRoot]);
      const again = await receiptsOf(rpc, knownCommitted.map(([h]) => h));
      expect(again).to.deep.equal(knownCommitted.map(([, r]) => r));

      // Blocks, receipts and state agree; supply is conserved; proofs verify.
      const c = await checkChainConsistency(rpc, genesis);
      expect(c.txs, 'committed transactions grew').to.be.greaterThan(committedTxs);
      committedTxs = c.txs;

      // Only the load sent transactions: each committed one was accepted, or sent in the round the
      // kill cut off. Every accepted one is committed (checked above, with its receipt) or wholly
      // gone: neither found by hash nor with a receipt.
      const unknown = [...c.committed].filter((h) => !load.accepted.has(h) && !load.inDoubt.has(h));
      expect(unknown, 'committed transactions nobody sent').to.deep.equal([]);
      const gone = [...load.accepted.keys(), ...load.inDoubt.keys()].filter((h) => !c.committed.has(h));
      const found = await rpc.batchResults<TxJson | ReceiptJson | null>(gone.flatMap((h) => [
        { method: 'chain_getTransaction', params: [h] },
        { method: 'chain_getReceipt', params: [h] },
      ]));
      expect(found.filter((x) => x !== null), 'uncommitted transactions found by hash or with a receipt').to.deep.equal([]);
    });
  }

  it('after the last restart it still commits transfers', async () => {
    const { hash } = await sendTransfer(node.rpc, { chainId: node.chainId, from: 0, to: 1, amount: 1n });
    expect((await waitForReceipt(node.rpc, hash)).status).to.equal('success');
    await checkChainConsistency(node.rpc, genesis);
  });
});
