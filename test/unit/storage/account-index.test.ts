import { expect } from 'chai';
import { join } from 'node:path';
import {
  Block,
  BlockHeader,
  CommitCertificate,
  commitVoteMessage,
  EMPTY_MERKLE_ROOT,
  HEADER_VERSION,
  merkleRoot,
  Receipt,
  ReceiptStatus,
  toHex,
  txRoot,
  ValidatorSet,
  type Transaction,
} from '../../../chain/index.js';
import { Blockchain } from '../../../consensus/index.js';
import { accountTxKey, Bucket, bucketRange, ChainStore, LevelKV, MemoryKV, type AccountTxEntry, type KVController, type KVRange } from '../../../storage/index.js';
import { StateMachine } from '../../../vm/index.js';
import { createModules } from '../../../vm/modules/index.js';
import { accountKey, addressOf, CHAIN_ID, GENESIS_TIME, removeDir, signedTx, silentLogger, tempDir, testGenesis, transferTx, validatorKey } from '../fixtures.js';

const V0 = validatorKey(0);
const SET = new ValidatorSet([{ address: V0.address, publicKey: V0.ed25519.publicKey, blsPublicKey: V0.bls.publicKey, power: 1n }]);
const [A, B, C] = [accountKey(0), accountKey(1), accountKey(2)];
const [addrA, addrB, addrC] = [A, B, C].map(addressOf) as [Uint8Array, Uint8Array, Uint8Array];
const hex = (e: AccountTxEntry) => toHex(e.hash);

/** Counts the entries a range scan yields, to show that paging reads only what a page needs. */
class CountingKV implements KVController {
  yielded = 0;
  constructor(private readonly inner: KVController) {}
  get(key: Uint8Array) {
    return this.inner.get(key);
  }
  getAppended(key: Uint8Array) {
    return this.inner.getAppended(key);
  }
  batch(...args: Parameters<KVController['batch']>) {
    return this.inner.batch(...args);
  }
  readView() {
    return this.inner.readView();
  }
  async *entries(range: KVRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    for await (const e of this.inner.entries(range)) {
      this.yielded++;
      yield e;
    }
  }
  close() {
    return this.inner.close();
  }
}

function block(height: number, parent: Uint8Array, txs: readonly Transaction[]): Block {
  const receipts = txs.map((t) => new Receipt({ txHash: t.hash(), status: ReceiptStatus.Success, errorCode: '', errorMessage: '', fee: t.fee, events: [] }));
  const header = new BlockHeader({
    version: HEADER_VERSION,
    chainId: CHAIN_ID,
    height,
    parentHash: parent,
    timestamp: GENESIS_TIME.getTime() + height,
    proposer: height === 0 ? new Uint8Array(20) : V0.address,
    txRoot: txs.length ? txRoot(txs) : EMPTY_MERKLE_ROOT,
    receiptsRoot: merkleRoot(receipts.map((r) => r.serialize())),
    eventsRoot: EMPTY_MERKLE_ROOT,
    stateRoot: new Uint8Array(32).fill(height % 256),
    validatorsHash: SET.hash(),
    nextValidatorsHash: SET.hash(),
  });
  const b = new Block(header, txs);
  if (height === 0) return b;
  const signature = V0.bls.sign(commitVoteMessage(CHAIN_ID, height, 0, b.hash()));
  return b.withCertificate(CommitCertificate.aggregate(height, 0, b.hash(), 1, [{ index: 0, signature }]));
}

/** Commits blocks 0..n; block h holds the transactions txsAt(h), indexed with their recipients. */
async function buildChain(store: ChainStore, n: number, txsAt: (h: number) => Transaction[], recipients: (t: Transaction) => Uint8Array[]): Promise<Transaction[][]> {
  const all: Transaction[][] = [];
  let parent: Uint8Array = new Uint8Array(32);
  for (let h = 0; h <= n; h++) {
    const txs = h === 0 ? [] : txsAt(h);
    const b = block(h, parent, txs);
    await store.commit({ block: b, receipts: [], stateWrites: new Map(), ...(h === 0 ? { validatorSet: SET } : {}), accounts: txs.map(recipients) });
    all.push(txs);
    parent = b.hash();
  }
  return all;
}

async function allPages(store: ChainStore, address: Uint8Array, limit: number): Promise<AccountTxEntry[][]> {
  const pages: AccountTxEntry[][] = [];
  let before: AccountTxEntry | undefined;
  for (;;) {
    const page = await store.accountTransactions(address, { limit, ...(before ? { before } : {}) });
    if (page.length === 0) return pages;
    pages.push(page);
    before = page.at(-1);
  }
}

describe('storage: the account index (AccountTx) and its paging', () => {
  let dir: string;
  const open: KVController[] = [];
  beforeEach(async () => {
    dir = await tempDir('metanode-acctx-');
  });
  afterEach(async () => {
    for (const kv of open.splice(0)) await kv.close().catch(() => {});
    await removeDir(dir);
  });

  const backends: [string, () => Promise<KVController>][] = [
    ['MemoryKV', async () => new MemoryKV()],
    [
      'LevelKV',
      async () => {
        const kv = await LevelKV.open(join(dir, 'db'));
        open.push(kv);
        return kv;
      },
    ],
  ];

  for (const [name, make] of backends) {
    describe(name, () => {
      it('KV range scans go backwards with reverse and stop at limit', async () => {
        const kv = await make();
        await kv.batch([1, 2, 3, 4, 5].map((i) => ({ type: 'put' as const, key: Uint8Array.of(7, i), value: Uint8Array.of(i) })));
        const keys = async (r: KVRange) => {
          const out: number[] = [];
          for await (const [k] of kv.entries(r)) out.push(k[1]!);
          return out;
        };
        const gte = Uint8Array.of(7, 2);
        const lt = Uint8Array.of(7, 5);
        expect(await keys({ gte, lt })).to.deep.equal([2, 3, 4]);
        expect(await keys({ gte, lt, reverse: true })).to.deep.equal([4, 3, 2]);
        expect(await keys({ gte, lt, reverse: true, limit: 2 })).to.deep.equal([4, 3]);
        expect(await keys({ gte, lt, limit: 1 })).to.deep.equal([2]);
        expect(await keys({ gte, lt, limit: 0 })).to.deep.equal([]);
      });

      it('indexes a transfer under its sender and its recipient, in the block batch, newest first', async () => {
        const store = await ChainStore.open(await make());
        const t1 = transferTx(A, 0n, addrB, 'NEX', 5n);
        const t2 = transferTx(B, 0n, addrC, 'GEN', 7n);
        const t3 = transferTx(A, 1n, addrA, 'NEX', 1n); // to itself: listed once
        await buildChain(store, 2, (h) => (h === 1 ? [t1, t2] : [t3]), (t) => (t === t1 ? [addrB] : t === t2 ? [addrC] : [addrA]));
        const a = await store.accountTransactions(addrA, { limit: 10 });
        expect(a.map((e) => [e.height, e.index, hex(e)])).to.deep.equal([
          [2, 0, toHex(t3.hash())],
          [1, 0, toHex(t1.hash())],
        ]);
        expect((await store.accountTransactions(addrB, { limit: 10 })).map(hex)).to.deep.equal([toHex(t2.hash()), toHex(t1.hash())]);
        expect((await store.accountTransactions(addrC, { limit: 10 })).map(hex)).to.deep.equal([toHex(t2.hash())]);
        expect(await store.accountTransactions(addressOf(accountKey(5)), { limit: 10 })).to.deep.equal([]);
        expect(await store.transactionCount(1)).to.equal(2);
        expect(await store.transactionCount(9)).to.equal(undefined);
      });

      it('pages cover every transaction exactly once, newest first, whatever the page size', async () => {
        const store = await ChainStore.open(await make());
        // 40 blocks; A sends in every block (to B in every third, else to C), C sends twice per block to itself.
        const to = new Map<Transaction, Uint8Array>();
        const tx = (key: typeof A, nonce: number, recipient: Uint8Array) => {
          const t = transferTx(key, BigInt(nonce), recipient, 'NEX', 1n);
          to.set(t, recipient);
          return t;
        };
        const chain = await buildChain(store, 40, (h) => [tx(A, h, h % 3 === 0 ? addrB : addrC), tx(C, 2 * h, addrC), tx(C, 2 * h + 1, addrC)], (t) => [to.get(t)!]);
        const expected = (addr: Uint8Array) =>
          chain
            .flat()
            .filter((t) => toHex(t.from()) === toHex(addr) || toHex(to.get(t)!) === toHex(addr))
            .reverse()
            .map((t) => toHex(t.hash()));
        for (const addr of [addrA, addrB, addrC]) {
          for (const limit of [1, 7, 40, 200]) {
            const pages = await allPages(store, addr, limit);
            expect(pages.every((p) => p.length <= limit)).to.equal(true);
            expect(pages.flat().map(hex), `limit ${limit}`).to.deep.equal(expected(addr));
          }
        }
      });

      it('a page reads only its own entries, however long the account history is', async () => {
        const counting = new CountingKV(await make());
        const store = await ChainStore.open(counting);
        await buildChain(store, 300, (h) => [transferTx(A, BigInt(h - 1), addrB, 'NEX', 1n)], () => [addrB]);
        counting.yielded = 0;
        const first = await store.accountTransactions(addrB, { limit: 10 });
        expect(first.map((e) => e.height)).to.deep.equal([300, 299, 298, 297, 296, 295, 294, 293, 292, 291]);
        expect(counting.yielded).to.equal(10);
        counting.yielded = 0;
        const deep = await store.accountTransactions(addrB, { limit: 5, before: { height: 11, index: 0 } });
        expect(deep.map((e) => e.height)).to.deep.equal([10, 9, 8, 7, 6]);
        expect(counting.yielded).to.equal(5);
        // A cursor inside a block: only the transactions before that index.
        expect(await store.accountTransactions(addrB, { limit: 5, before: { height: 1, index: 0 } })).to.deep.equal([]);
      });
    });
  }

  it('keys sort by address, then height (big-endian); one entry per account and block', async () => {
    const k = accountTxKey(addrA, 0x0102_0304_0506);
    expect(k[0]).to.equal(Bucket.AccountTxByBlock);
    expect(toHex(k.subarray(1, 21))).to.equal(toHex(addrA));
    expect([...k.subarray(21)]).to.deep.equal([0, 0, 1, 2, 3, 4, 5, 6]);
    // A sends three transactions in one block (two to B): A has one entry of three, B one of two.
    const kv = new MemoryKV();
    const store = await ChainStore.open(kv);
    const txs = [transferTx(A, 0n, addrB, 'NEX', 1n), transferTx(A, 1n, addrC, 'NEX', 1n), transferTx(A, 2n, addrB, 'NEX', 1n)];
    await buildChain(store, 1, () => txs, (t) => [t === txs[1] ? addrC : addrB]);
    const entries: [string, number][] = [];
    for await (const [key, v] of kv.entries(bucketRange(Bucket.AccountTxByBlock))) entries.push([toHex(key.subarray(1, 21)), v.length / 36]);
    expect(new Map(entries)).to.deep.equal(new Map([[toHex(addrA), 3], [toHex(addrB), 2], [toHex(addrC), 1]]));
    expect((await store.accountTransactions(addrB, { limit: 5 })).map((e) => e.index)).to.deep.equal([2, 0]);
    expect((await store.accountTransactions(addrA, { limit: 2, before: { height: 1, index: 2 } })).map((e) => e.index)).to.deep.equal([1, 0]);
  });

  it('Blockchain.commit indexes the accounts a module names (bank.transfer: the recipient)', async () => {
    const genesis = testGenesis({ balances: [{ NEX: 1_000_000n }, { NEX: 1_000_000n }], validators: [V0] });
    const store = await ChainStore.open(new MemoryKV());
    const { registry, bank } = createModules();
    const chain = await Blockchain.open(genesis, { store, sm: new StateMachine({ chainId: genesis.chainId }, { registry, fees: bank }), logger: silentLogger() });
    const ok = transferTx(A, 0n, addrC, 'NEX', 5n);
    const failing = transferTx(B, 0n, addrC, 'GEN', 5n); // B has no GEN: fails, still touches C
    const { executed } = chain.build(V0.address, [ok, failing], GENESIS_TIME.getTime() + 1000);
    expect(executed.block.transactions).to.have.length(2);
    const h = executed.block.hash();
    const signature = V0.bls.sign(commitVoteMessage(genesis.chainId, 1, 0, h));
    await chain.commit(executed, CommitCertificate.aggregate(1, 0, h, 1, [{ index: 0, signature }]));
    expect((await store.accountTransactions(addrC, { limit: 5 })).map(hex).sort()).to.deep.equal([toHex(ok.hash()), toHex(failing.hash())].sort());
    expect((await store.accountTransactions(addrA, { limit: 5 })).map(hex)).to.deep.equal([toHex(ok.hash())]);
    expect(bank.addressesOf('transfer', bank.decodePayload('transfer', ok.payload)).map(toHex)).to.deep.equal([toHex(addrC)]);
    expect(registry.addressesOf(ok).map(toHex)).to.deep.equal([toHex(addrA), toHex(addrC)]);
    // A payload that does not decode names no one: the sender alone is indexed.
    const junk = signedTx(A, { nonce: 1n, payload: new Uint8Array([1, 2, 3]) });
    expect(registry.addressesOf(junk).map(toHex)).to.deep.equal([toHex(addrA)]);
  });
});
