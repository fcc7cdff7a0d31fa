import { expect } from 'chai';
import { TestNode, devAddress, sendTransfer, waitForHeight, waitForReceipt, type BlockJson, type RpcClient, type TxJson } from './harness.js';

type BlocksPage = { blocks: (Omit<BlockJson, 'transactions' | 'certificate'>)[]; next: number | null };
type AccountTx = TxJson & { blockHeight: number; index: number; timestamp: number; status: 'success' | 'failed'; errorCode: string | null };
type AccountPage = { address: string; transactions: AccountTx[]; next: string | null };

describe('e2e: explorer queries (chain_getBlocks, chain_getAccountTransactions)', function () {
  this.timeout(60_000);
  let node: TestNode;
  let rpc: RpcClient;

  before(async () => {
    node = await TestNode.init({ emptyBlockIntervalMs: 100 });
    await node.start();
    rpc = node.rpc;
    await waitForHeight(rpc, 3);
  });

  after(async () => {
    await node?.remove();
  });

  it('chain_getBlocks: headers newest first, paged down to genesis by `next`', async () => {
    const first = await rpc.call<BlocksPage>('chain_getBlocks', [{ limit: 3 }]);
    const head = first.blocks[0]!.height;
    expect(first.blocks.map((b) => b.height)).to.deep.equal([head, head - 1, head - 2]);
    expect(first.next).to.equal(head - 2);
    const stored = await rpc.call<BlockJson>('chain_getBlockByHeight', [head - 1]);
    const { transactions: _t, certificate: _c, ...header } = stored;
    expect(first.blocks[1]).to.deep.equal(header);
    const heights: number[] = [];
    let before: number | null = head + 1;
    while (before !== null) {
      const page: BlocksPage = await rpc.call<BlocksPage>('chain_getBlocks', { page: { limit: 100, before } });
      heights.push(...page.blocks.map((b) => b.height));
      before = page.next;
    }
    expect(heights).to.deep.equal(Array.from({ length: head + 1 }, (_, i) => head - i));
    expect((await rpc.call<BlocksPage>('chain_getBlocks', [{ before: 0 }])).blocks).to.deep.equal([]);
    // The default page: 20 headers down from the head of the moment (blocks keep coming meanwhile).
    const latest = (await rpc.call<BlocksPage>('chain_getBlocks')).blocks;
    expect(latest.map((b) => b.height)).to.deep.equal(Array.from({ length: Math.min(20, latest[0]!.height + 1) }, (_, i) => latest[0]!.height - i));
  });

  it('chain_getAccountTransactions: everything sent or received, newest first, in cursor pages', async () => {
    const watched = devAddress(6);
    const hashes: string[] = [];
    // 12 in, 13 out, over several blocks; one fails.
    for (let i = 0; i < 12; i++) hashes.push((await sendTransfer(rpc, { chainId: node.chainId, from: 1 + (i % 4), to: 6, amount: BigInt(i + 1), nonce: Math.floor(i / 4) })).hash);
    for (let i = 0; i < 12; i++) hashes.push((await sendTransfer(rpc, { chainId: node.chainId, from: 6, to: 7, amount: 1n, nonce: i })).hash);
    const failed = await sendTransfer(rpc, { chainId: node.chainId, from: 6, to: 7, asset: 'AUR', amount: 10n ** 30n, nonce: 12 });
    hashes.push(failed.hash);
    const receipts = await Promise.all(hashes.map((h) => waitForReceipt(rpc, h)));
    const expected = receipts
      .sort((a, b) => b.blockHeight - a.blockHeight || b.index - a.index)
      .map((r) => r.txHash);

    const seen: AccountTx[] = [];
    let before: string | null | undefined;
    let pages = 0;
    do {
      const page: AccountPage = await rpc.call<AccountPage>('chain_getAccountTransactions', [watched, { limit: 10, ...(before ? { before } : {}) }]);
      expect(page.address).to.equal(watched);
      expect(page.transactions.length).to.be.at.most(10);
      seen.push(...page.transactions);
      before = page.next;
      pages++;
    } while (before);
    expect(pages).to.equal(3);
    expect(seen.map((t) => t.hash)).to.deep.equal(expected);
    const f = seen.find((t) => t.hash === failed.hash)!;
    expect(f).to.include({ status: 'failed', errorCode: 'BANK_INSUFFICIENT_FUNDS', from: watched, kind: 'bank.transfer' });
    const incoming = seen.find((t) => t.hash === hashes[0])!;
    expect(incoming.args).to.deep.equal({ to: watched, asset: 'NEX', amount: '1' });
    expect(incoming).to.include({ status: 'success', from: devAddress(1) });
    expect(incoming.timestamp).to.be.a('number');
    // The last page's cursor names a real transaction; an empty account has no pages.
    expect(await rpc.call<AccountPage>('chain_getAccountTransactions', [devAddress(9)])).to.deep.equal({ address: devAddress(9), transactions: [], next: null });
  });

  it('refuses bad pages with -32602 naming the field', async () => {
    const cases: [string, unknown[], string][] = [
      ['chain_getBlocks', [{ limit: 0 }], 'page.limit'],
      ['chain_getBlocks', [{ limit: 101 }], 'page.limit'],
      ['chain_getBlocks', [{ before: -1 }], 'page.before'],
      ['chain_getBlocks', [{ after: 3 }], 'page.after'],
      ['chain_getBlocks', [7], 'page'],
      ['chain_getAccountTransactions', [devAddress(1), { before: '12' }], 'page.before'],
      ['chain_getAccountTransactions', [devAddress(1), { before: 12 }], 'page.before'],
      ['chain_getAccountTransactions', ['mn1xyz'], 'address'],
    ];
    for (const [method, params, param] of cases) {
      const e = await rpc.callError(method, params);
      expect(e.code, `${method} ${JSON.stringify(params)}`).to.equal(-32602);
      expect(e.data).to.deep.equal({ param });
    }
  });
});
