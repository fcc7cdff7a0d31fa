import { expect } from 'chai';
import type { Socket } from 'node:net';
import {
  TestNode,
  devAddress,
  sendTransfer,
  waitFor,
  waitForHeight,
  waitForReceipt,
  type BlockJson,
  type HeadJson,
  type ReceiptJson,
  type RpcClient,
  type TxJson,
} from './harness.js';
import { scrape } from './prom.js';
import { WsClient } from './ws-client.js';

/** A newHeads notification: the header fields of chain_getBlockByHeight, and transactionCount. */
type HeadNotification = Omit<BlockJson, 'transactions' | 'certificate'>;
type ReceiptNotification = ReceiptJson & { from: string; kind: string };

const MiB = 1024 * 1024;

describe('e2e: JSON-RPC over WebSocket and subscriptions', function () {
  this.timeout(120_000);
  let node: TestNode;
  let rpc: RpcClient;
  let wsUrl: string;
  const clients: WsClient[] = [];

  async function connect(): Promise<WsClient> {
    const c = await WsClient.connect(wsUrl);
    clients.push(c);
    return c;
  }

  before(async () => {
    // The slow-client test asks for 256 MiB of rpc.discover answers: its point is the send queue's
    // bound, so this node's read rate limit is off (rpc.rateLimits is tested in rpc-gateway.test).
    node = await TestNode.init({ emptyBlockIntervalMs: 100, config: { rpc: { rateLimits: { read: { rate: 0 } } } } });
    await node.enableMetrics();
    await node.start();
    rpc = node.rpc;
    wsUrl = node.url.replace(/^http/, 'ws') + '/';
    await waitForHeight(rpc, 1);
  });

  after(async () => {
    for (const c of clients) c.ws.terminate();
    await node?.remove();
  });

  it('answers the same methods as HTTP, singly and in batches, and parse errors with -32700', async () => {
    const ws = await connect();
    expect(await ws.call('chain_getChainId')).to.equal(node.chainId);
    const head = await ws.call<HeadJson>('chain_getHead');
    expect(head.height).to.be.at.least(1);
    const block = await ws.call<BlockJson>('chain_getBlockByHeight', [head.height]);
    expect(block.hash).to.equal((await rpc.call<BlockJson>('chain_getBlockByHeight', [head.height])).hash);
    const [a, b] = await ws.batch([{ method: 'chain_getChainId' }, { method: 'chain_getBlockByHeight', params: ['soon'] }]);
    expect(a!.result).to.equal(node.chainId);
    expect(b!.error).to.include({ code: -32602 });
    ws.sendRaw('{"jsonrpc":"2.0","id":');
    await waitFor('the parse error', async () => ws.received.some((m) => (m as { error?: { code: number } }).error?.code === -32700));
  });

  it('refuses subscriptions over HTTP (-32601, pointing at WebSocket) and bad subscribe params (-32602)', async () => {
    const e = await rpc.callError('subscribe', ['newHeads']);
    expect(e.code).to.equal(-32601);
    expect(e.message).to.match(/WebSocket/);
    const ws = await connect();
    const bad: [unknown[], string][] = [
      [['oldHeads'], 'kind'],
      [['newHeads', { module: 'bank' }], 'filter'],
      [['receipts', { address: 'mn1nope' }], 'filter.address'],
      [['receipts', { colour: 'red' }], 'filter.colour'],
    ];
    for (const [params, param] of bad) {
      const r = await ws.request('subscribe', params);
      expect(r.error, JSON.stringify(params)).to.include({ code: -32602 });
      expect(r.error!.data).to.deep.equal({ param });
    }
    expect(await ws.call('unsubscribe', ['0x' + '00'.repeat(16)])).to.equal(false);
  });

  it('newHeads: a subscriber gets every header, in order and without gaps, while blocks are produced', async () => {
    const ws = await connect();
    const sub = await ws.subscribe('newHeads');
    expect(sub).to.match(/^0x[0-9a-f]{32}$/);
    // Transactions during the run, so that some headers carry them.
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) sent.push((await sendTransfer(rpc, { chainId: node.chainId, from: 8, to: 9, amount: 1n, nonce: i })).hash);
    const heads = await ws.take<HeadNotification>(sub, 40);
    for (let i = 1; i < heads.length; i++) {
      expect(heads[i]!.height, `notification ${i}`).to.equal(heads[0]!.height + i);
      expect(heads[i]!.parentHash).to.equal(heads[i - 1]!.hash);
    }
    const stored = await rpc.batchResults<BlockJson>(heads.map((h) => ({ method: 'chain_getBlockByHeight', params: [h.height] })));
    heads.forEach((h, i) => {
      const { transactions: _t, certificate: _c, ...header } = stored[i]!;
      expect(h).to.deep.equal(header);
    });
    const receipts = await Promise.all(sent.map((h) => waitForReceipt(rpc, h)));
    const inHeads = heads.filter((h) => receipts.some((r) => r.blockHeight === h.height));
    expect(inHeads.reduce((n, h) => n + h.transactionCount, 0)).to.be.greaterThan(0);
  });

  it('receipts: filtered by account (sender or recipient) and by module', async () => {
    const ws = await connect();
    const watched = devAddress(7);
    const byAddress = await ws.subscribe('receipts', { address: watched });
    const byBoth = await ws.subscribe('receipts', { address: watched, module: 'bank' });
    const all = await ws.subscribe('receipts');
    const none = await ws.subscribe('receipts', { module: 'court' });
    const toWatched = await sendTransfer(rpc, { chainId: node.chainId, from: 3, to: 7, amount: 11n });
    const elsewhere = await sendTransfer(rpc, { chainId: node.chainId, from: 4, to: 5, amount: 12n });
    const failing = await sendTransfer(rpc, { chainId: node.chainId, from: 7, to: 6, asset: 'AUR', amount: 10n ** 30n });
    const [r1, , r3] = await Promise.all([toWatched, elsewhere, failing].map((t) => waitForReceipt(rpc, t.hash)));

    const mine = await ws.take<ReceiptNotification>(byAddress, 2);
    expect(mine.map((r) => r.txHash)).to.deep.equal([toWatched.hash, failing.hash]);
    const { from: _f, kind, ...receipt } = mine[0]!;
    expect(receipt).to.deep.equal(r1);
    expect(kind).to.equal('bank.transfer');
    expect(mine[1]).to.deep.include({ ...r3, from: watched, status: 'failed' });
    expect((await ws.take<ReceiptNotification>(byBoth, 2)).map((r) => r.txHash)).to.deep.equal([toWatched.hash, failing.hash]);
    const everything = await ws.take<ReceiptNotification>(all, 3);
    expect(everything.map((r) => r.txHash).sort()).to.deep.equal([toWatched.hash, elsewhere.hash, failing.hash].sort());
    // A later block proves nothing else was on its way.
    await waitForHeight(rpc, r3.blockHeight + 3);
    expect(ws.queued(byAddress)).to.deep.equal([]);
    expect(ws.queued(none)).to.deep.equal([]);
  });

  it('pendingTransactions: each transaction admitted to the mempool, before it is committed', async () => {
    const ws = await connect();
    const sub = await ws.subscribe('pendingTransactions', { address: devAddress(2) });
    const { hash } = await sendTransfer(rpc, { chainId: node.chainId, from: 1, to: 2, amount: 5n });
    await sendTransfer(rpc, { chainId: node.chainId, from: 0, to: 5, amount: 5n });
    const [tx] = await ws.take<TxJson>(sub, 1);
    expect(tx).to.deep.include({ hash, from: devAddress(1), kind: 'bank.transfer', args: { to: devAddress(2), asset: 'NEX', amount: '5' } });
    expect(tx!.blockHeight).to.equal(undefined);
    await waitForReceipt(rpc, hash);
    expect(ws.queued(sub)).to.deep.equal([]);
  });

  it('unsubscribe: no notification follows its answer', async () => {
    const ws = await connect();
    const sub = await ws.subscribe('newHeads');
    const [first] = await ws.take<HeadNotification>(sub, 1);
    expect(await ws.call('unsubscribe', [sub])).to.equal(true);
    ws.queued(sub).splice(0);
    await waitForHeight(rpc, first!.height + 5);
    expect(ws.queued(sub)).to.deep.equal([]);
    expect(await ws.call('unsubscribe', [sub])).to.equal(false);
  });

  it('a client that never reads is closed with 1008, and the node\'s memory stays bounded', async () => {
    const slow = await connect();
    await slow.subscribe('newHeads');
    const before = await scrape(node.metricsUrl);
    const rss0 = before.value('process_resident_memory_bytes')!;
    const slowClosed0 = before.value('metanode_rpc_ws_disconnects_total', { reason: 'slow' }) ?? 0;
    // Stop reading: the kernel buffers fill, then the node's send queue for this connection.
    const socket = (slow.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    // Ask for far more than the send queue may hold: 256 MiB of answers if nothing bounded it.
    const answerBytes = JSON.stringify(await rpc.call('rpc.discover')).length;
    const requests = Math.ceil((256 * MiB) / answerBytes);
    for (let i = 0; i < requests; i++) slow.sendRaw(`{"jsonrpc":"2.0","id":${1_000_000 + i},"method":"rpc.discover"}`);
    const after = await waitFor(
      'the node to close the slow client',
      async () => {
        const s = await scrape(node.metricsUrl);
        return (s.value('metanode_rpc_ws_disconnects_total', { reason: 'slow' }) ?? 0) > slowClosed0 ? s : undefined;
      },
      60_000,
      100,
    );
    const grown = after.value('process_resident_memory_bytes')! - rss0;
    expect(grown, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`).to.be.below(96 * MiB);
    // The node still serves everyone else.
    expect((await rpc.call<HeadJson>('chain_getHead')).height).to.be.greaterThan(0);
    // Once the client reads again, it finds the close frame behind what was queued.
    socket.resume();
    const closed = await slow.closed;
    expect(closed.code).to.equal(1008);
    expect(closed.reason).to.match(/^send queue full/);
    const answered = slow.received.filter((m) => (m as { id?: number }).id !== undefined && (m as { id: number }).id >= 1_000_000).length;
    expect(answered, 'answers delivered before the close').to.be.below(requests / 4);
  });
});
