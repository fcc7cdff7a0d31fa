import { expect } from 'chai';
import { TestNode, sendTransfer, waitFor, waitForHeight, waitForReceipt, type RpcClient } from './harness.js';
import { scrape } from './prom.js';

describe('e2e: GET /metrics (Prometheus)', function () {
  this.timeout(60_000);
  let node: TestNode;
  let rpc: RpcClient;

  before(async () => {
    node = await TestNode.init({ emptyBlockIntervalMs: 150 });
    await node.enableMetrics();
    await node.start();
    rpc = node.rpc;
    await waitForHeight(rpc, 2);
  });

  after(async () => {
    await node?.remove();
  });

  it('serves the node\'s metrics in the text format, each family with its type', async () => {
    const m = await scrape(node.metricsUrl);
    const expected: [string, string][] = [
      ['metanode_chain_height', 'gauge'],
      ['metanode_consensus_round', 'gauge'],
      ['metanode_consensus_round_changes_total', 'counter'],
      ['metanode_block_interval_seconds', 'histogram'],
      ['metanode_block_transactions', 'histogram'],
      ['metanode_mempool_transactions', 'gauge'],
      ['metanode_mempool_bytes', 'gauge'],
      ['metanode_p2p_peers', 'gauge'],
      ['metanode_sync_syncing', 'gauge'],
      ['metanode_rpc_requests_total', 'counter'],
      ['metanode_rpc_request_duration_seconds', 'histogram'],
      ['metanode_rpc_ws_connections', 'gauge'],
      ['metanode_node_healthy', 'gauge'],
      ['metanode_storage_write_failures_total', 'counter'],
      ['metanode_state_cache_bytes', 'gauge'],
      ['metanode_state_cache_records', 'gauge'],
      ['metanode_state_storage_reads_total', 'counter'],
      ['metanode_state_log_positions', 'gauge'],
      ['process_resident_memory_bytes', 'gauge'],
    ];
    for (const [name, type] of expected) expect(m.types.get(name), name).to.equal(type);
    expect(m.value('metanode_p2p_peers')).to.equal(0);
    expect(m.value('metanode_sync_syncing')).to.equal(0);
    expect(m.value('metanode_consensus_round')).to.equal(0);
    expect(m.value('metanode_node_healthy')).to.equal(1);
    expect(m.value('metanode_storage_write_failures_total')).to.equal(0);
    expect(m.value('process_resident_memory_bytes')).to.be.greaterThan(10 * 1024 * 1024);
    // Blocks were committed: the values they wrote and the entry log's index records (a chain made by
    // metanode init is on the entry log; the tree's nodes are the other commitment's cache) are cached.
    expect(m.value('metanode_state_cache_records', { cache: 'nodes' })).to.equal(0);
    for (const cache of ['values', 'log']) {
      expect(m.value('metanode_state_cache_records', { cache }), cache).to.be.greaterThan(0);
      expect(m.value('metanode_state_cache_bytes', { cache }), cache).to.be.greaterThan(0);
    }
    expect(m.value('metanode_state_storage_reads_total', { cache: 'pages' })).to.be.a('number');
    // The entry log's positions: its length past its live entries (the genesis's and the blocks'), the cursor and pruning behind.
    const position = (p: string): number => m.value('metanode_state_log_positions', { position: p })!;
    expect(position('active')).to.be.greaterThan(1);
    expect(position('next')).to.be.at.least(position('active'));
    expect(position('compact_from')).to.be.at.most(position('next'));
    expect(position('pruned_to')).to.be.at.most(position('compact_from'));
    // A histogram has cumulative buckets ending in +Inf = _count.
    const buckets = m.samples.filter((s) => s.name === 'metanode_block_interval_seconds_bucket');
    expect(buckets.at(-1)!.labels.le).to.equal('+Inf');
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).to.be.at.least(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.value).to.equal(m.value('metanode_block_interval_seconds_count'));
  });

  it('serves metrics on their own listener only: GET /metrics on the JSON-RPC port is 404 unless rpc.metricsOnRpc', async () => {
    expect((await fetch(`${node.url}/metrics`)).status).to.equal(404);
    expect((await fetch(`${node.metricsUrl}/`)).status).to.equal(404);
  });

  it('follows the chain: height and block counts increase, block intervals near the configured one', async () => {
    const a = await scrape(node.metricsUrl);
    const h0 = a.value('metanode_chain_height')!;
    await waitForHeight(rpc, h0 + 3);
    const b = await scrape(node.metricsUrl);
    expect(b.value('metanode_chain_height')).to.be.at.least(h0 + 3);
    expect(b.value('metanode_block_interval_seconds_count')! - a.value('metanode_block_interval_seconds_count')!).to.be.at.least(3);
    expect(b.value('metanode_block_transactions_count')).to.equal(b.value('metanode_block_interval_seconds_count'));
    const mean = b.value('metanode_block_interval_seconds_sum')! / b.value('metanode_block_interval_seconds_count')!;
    expect(mean).to.be.within(0.1, 2);
  });

  it('counts transactions per block and RPC calls by method', async () => {
    const a = await scrape(node.metricsUrl);
    const before = a.value('metanode_rpc_requests_total', { method: 'chain_getChainId', status: 'ok' }) ?? 0;
    for (let i = 0; i < 3; i++) await rpc.call('chain_getChainId');
    await rpc.callError('chain_getBlockByHeight', [-1]);
    const { hash } = await sendTransfer(rpc, { chainId: node.chainId, from: 1, to: 2, amount: 1n });
    await waitForReceipt(rpc, hash);
    const b = await waitFor('a block with a transaction in the histogram', async () => {
      const s = await scrape(node.metricsUrl);
      return s.value('metanode_block_transactions_sum')! >= 1 ? s : undefined;
    });
    expect(b.value('metanode_rpc_requests_total', { method: 'chain_getChainId', status: 'ok' })! - before).to.equal(3);
    expect(b.value('metanode_rpc_requests_total', { method: 'chain_getBlockByHeight', status: 'error' })).to.be.at.least(1);
    expect(b.value('metanode_rpc_request_duration_seconds_count', { method: 'chain_getChainId' })).to.be.at.least(3);
    expect(b.value('metanode_block_transactions_bucket', { le: '0' })).to.be.below(b.value('metanode_block_transactions_count')!);
  });
});
