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
  rlpDecode,
  rlpEncode,
  txRoot,
  u64be,
  uintBytes,
  utf8,
  ValidatorSet,
  type Transaction,
} from '../../../chain/index.js';
import type { ValidatorKey } from '../../../consensus/keys.js';
import { Bucket, bucketKey, ChainStore, heightKey, LevelKV, MemoryKV, MetaKey, StorageError, StorageErrorCode, type BatchOp, type KVController } from '../../../storage/index.js';
import { accountKey, addressOf, CHAIN_ID, expectRejectsCode, GENESIS_TIME, removeDir, tempDir, transferTx, validatorKey } from '../fixtures.js';

const V0 = validatorKey(0);
const V1 = validatorKey(1);

function valset(...keys: ValidatorKey[]): ValidatorSet {
  return new ValidatorSet(keys.map((k) => ({ address: k.address, publicKey: k.ed25519.publicKey, blsPublicKey: k.bls.publicKey, power: 1n })));
}

const hashOf = (n: number): Uint8Array => new Uint8Array(32).fill(n);

function header(height: number, parent: Uint8Array, txs: readonly Transaction[], receipts: readonly Receipt[], stateRoot: Uint8Array, set: ValidatorSet): BlockHeader {
  return new BlockHeader({
    version: HEADER_VERSION,
    chainId: CHAIN_ID,
    height,
    parentHash: parent,
    timestamp: GENESIS_TIME.getTime() + height,
    proposer: height === 0 ? new Uint8Array(20) : V0.address,
    txRoot: txs.length ? txRoot(txs) : EMPTY_MERKLE_ROOT,
    receiptsRoot: merkleRoot(receipts.map((r) => r.serialize())),
    eventsRoot: EMPTY_MERKLE_ROOT,
    stateRoot,
    validatorsHash: set.hash(),
    nextValidatorsHash: set.hash(),
  });
}

function certify(block: Block, key: ValidatorKey = V0): Block {
  const signature = key.bls.sign(commitVoteMessage(CHAIN_ID, block.height, 0, block.hash()));
  return block.withCertificate(CommitCertificate.aggregate(block.height, 0, block.hash(), 1, [{ index: 0, signature }]));
}

function receipt(tx: Transaction, ok: boolean): Receipt {
  return new Receipt({
    txHash: tx.hash(),
    status: ok ? ReceiptStatus.Success : ReceiptStatus.Failed,
    errorCode: ok ? '' : 'BANK_INSUFFICIENT_FUNDS',
    errorMessage: ok ? '' : 'not enough',
    fee: tx.fee,
    events: ok ? [{ module: 'bank', type: 'transfer', attributes: [['amount', '5']] }] : [],
  });
}

/** A three-block chain: genesis, a block with two transactions, then an empty one that changes the validator set. */
function chainFixture() {
  const set0 = valset(V0);
  const set2 = valset(V0, V1);
  const g = new Block(header(0, new Uint8Array(32), [], [], hashOf(0xa0), set0), []);
  const txs = [transferTx(accountKey(0), 0n, addressOf(accountKey(1)), 'GEN', 5n), transferTx(accountKey(1), 0n, addressOf(accountKey(0)), 'NEX', 9n)];
  const receipts = [receipt(txs[0]!, true), receipt(txs[1]!, false)];
  const b1 = certify(new Block(header(1, g.hash(), txs, receipts, hashOf(0xa1), set0), txs));
  const b2 = certify(new Block(header(2, b1.hash(), [], [], hashOf(0xa2), set0), []));
  const commits = [
    { block: g, receipts: [], stateWrites: new Map([['a', utf8('1')], ['b', utf8('2')], ['c', utf8('3')]]), validatorSet: set0 },
    { block: b1, receipts, stateWrites: new Map<string, Uint8Array | null>([['a', utf8('10')], ['b', null], ['\xff', utf8('high')]]) },
    { block: b2, receipts: [], stateWrites: new Map<string, Uint8Array | null>([['d', utf8('4')]]), validatorSet: set2 },
  ];
  return { set0, set2, g, b1, b2, txs, receipts, commits };
}

async function entries(store: ChainStore): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [key, v] of store.stateEntries()) out.push([Buffer.from(key).toString('latin1'), Buffer.from(v).toString()]);
  return out;
}

interface Backend {
  name: string;
  /** A fresh, empty controller. */
  open(): Promise<KVController>;
  /** The same data again, after closing `kv`. */
  reopen(kv: KVController): Promise<KVController>;
  cleanup(): Promise<void>;
}

function memoryBackend(): Backend {
  return {
    name: 'MemoryKV',
    open: async () => new MemoryKV(),
    reopen: async (kv) => kv, // memory has no second life: a new ChainStore over the same map
    cleanup: async () => {},
  };
}

function levelBackend(): Backend {
  const dirs: string[] = [];
  const where = new Map<KVController, string>();
  return {
    name: 'LevelKV',
    async open() {
      const dir = await tempDir('metanode-store-');
      dirs.push(dir);
      const kv = await LevelKV.open(join(dir, 'db'));
      where.set(kv, dir);
      return kv;
    },
    async reopen(kv) {
      const dir = where.get(kv)!;
      await kv.close();
      const again = await LevelKV.open(join(dir, 'db'));
      where.set(again, dir);
      return again;
    },
    async cleanup() {
      for (const [kv] of where) await kv.close().catch(() => {});
      for (const d of dirs) await removeDir(d);
    },
  };
}

for (const make of [memoryBackend, levelBackend]) {
  const backend = make();
  describe(`storage/chainstore over ${backend.name}`, () => {
    after(() => backend.cleanup());

    it('an empty store has no chain, no head and nothing to read', async () => {
      const store = await ChainStore.open(await backend.open());
      expect(await store.chainInfo()).to.equal(undefined);
      expect(await store.head()).to.equal(undefined);
      expect(await store.header(0)).to.equal(undefined);
      expect(await store.block(0)).to.equal(undefined);
      expect(await store.receipts(0)).to.equal(undefined);
      expect(await store.transactions(0)).to.equal(undefined);
      expect(await store.certificate(0)).to.equal(undefined);
      expect(await store.txLocation(hashOf(1))).to.equal(undefined);
      expect(await store.heightOf(hashOf(1))).to.equal(undefined);
      expect(store.validatorSet(0)).to.equal(undefined);
      expect(await entries(store)).to.deep.equal([]);
    });

    it('commits blocks and reads back blocks, receipts, tx locations, state, head and validator sets', async () => {
      const f = chainFixture();
      const kv = await backend.open();
      const store = await ChainStore.open(kv);
      for (const c of f.commits) await store.commit(c);

      expect(await store.chainInfo()).to.deep.equal({ chainId: CHAIN_ID, genesisHash: f.g.hash() });
      expect(await store.head()).to.deep.equal({ height: 2, hash: f.b2.hash(), stateRoot: hashOf(0xa2) });

      const b1 = (await store.block(1))!;
      expect(b1.serialize()).to.deep.equal(f.b1.serialize());
      expect(b1.certificate!.serialize()).to.deep.equal(f.b1.certificate!.serialize());
      expect((await store.header(0))!.serialize()).to.deep.equal(f.g.header.serialize());
      expect((await store.block(0))!.certificate, 'genesis has no certificate').to.equal(undefined);
      expect((await store.transactions(1))!.map((t) => t.serialize())).to.deep.equal(f.txs.map((t) => t.serialize()));
      expect((await store.receipts(1))!.map((r) => r.serialize())).to.deep.equal(f.receipts.map((r) => r.serialize()));
      expect(await store.receipts(2)).to.deep.equal([]);
      expect(await store.heightOf(f.b1.hash())).to.equal(1);
      expect(await store.heightOf(f.g.hash())).to.equal(0);
      expect(await store.txLocation(f.txs[1]!.hash())).to.deep.equal({ height: 1, index: 1 });
      expect(await store.txLocation(f.txs[0]!.hash())).to.deep.equal({ height: 1, index: 0 });
      expect(await store.block(3)).to.equal(undefined);

      // State: the genesis writes, then block 1's update and deletion, then block 2's addition; in key order.
      expect(await entries(store)).to.deep.equal([
        ['a', '10'],
        ['c', '3'],
        ['d', '4'],
        ['\xff', 'high'],
      ]);

      const lookups = (s: ChainStore) => [0, 1, 2, 3, 1000].map((h) => s.validatorSet(h)?.hash());
      const want = [f.set0, f.set0, f.set2, f.set2, f.set2].map((s) => s.hash());
      expect(lookups(store)).to.deep.equal(want);

      // Reopened (after a close, for LevelDB), the same answers.
      const again = await ChainStore.open(await backend.reopen(kv));
      expect(lookups(again)).to.deep.equal(want);
      expect(await again.head()).to.deep.equal({ height: 2, hash: f.b2.hash(), stateRoot: hashOf(0xa2) });
      expect((await again.block(1))!.serialize()).to.deep.equal(f.b1.serialize());
      expect((await again.receipts(1))!.map((r) => r.serialize())).to.deep.equal(f.receipts.map((r) => r.serialize()));
      expect(await entries(again)).to.have.length(4);
    });

    it('a header of another release (version 1, before eventsRoot) is STORAGE_INCOMPATIBLE, saying there is no migration and what to do', async () => {
      const f = chainFixture();
      const kv = await backend.open();
      const store = await ChainStore.open(kv);
      for (const commit of f.commits) await store.commit(commit);
      const old = rlpDecode(f.b1.header.serialize(), 'header') as Uint8Array[];
      const v1 = rlpEncode([uintBytes(1), ...old.slice(1, 8), ...old.slice(9, 11)]); // version 1 had no eventsRoot and no nextValidatorsHash
      await kv.batch([{ type: 'put', key: heightKey(Bucket.HeaderByHeight, 1), value: v1 }]);
      const err = await expectRejectsCode(() => ChainStore.open(kv).then((s) => s.header(1)), StorageError, StorageErrorCode.Incompatible);
      expect(err.message).to.match(/header version 1; this one reads version 2\) and there is no migration: start a new chain \(a devnet: rm -rf \.devnet/);
    });

    describe('a corrupt stored value is STORAGE_CORRUPT', () => {
      const junk = utf8('\xc3 definitely not what was written');
      // `appended`: a value the store writes with an append (kept in LevelKV's value log).
      const cases: { what: string; key: (f: ReturnType<typeof chainFixture>) => Uint8Array; read: (s: ChainStore, f: ReturnType<typeof chainFixture>, kv: KVController) => Promise<unknown>; value?: Uint8Array; appended?: boolean }[] = [
        { what: 'header', key: () => heightKey(Bucket.HeaderByHeight, 1), read: (s) => s.header(1) },
        { what: 'block header (via block)', key: () => heightKey(Bucket.HeaderByHeight, 1), read: (s) => s.block(1) },
        { what: 'body', key: () => heightKey(Bucket.BodyByHeight, 1), read: (s) => s.transactions(1), appended: true },
        { what: 'certificate', key: () => heightKey(Bucket.CertificateByHeight, 1), read: (s) => s.certificate(1) },
        { what: 'receipts', key: () => heightKey(Bucket.ReceiptsByHeight, 1), read: (s) => s.receipts(1), appended: true },
        { what: 'tx location', key: (f) => bucketKey(Bucket.TxLocation, f.txs[0]!.hash()), read: (s, f) => s.txLocation(f.txs[0]!.hash()) },
        { what: 'height by hash', key: (f) => bucketKey(Bucket.HeightByHash, f.b1.hash()), read: (s, f) => s.heightOf(f.b1.hash()) },
        { what: 'height by hash (too short)', key: (f) => bucketKey(Bucket.HeightByHash, f.b1.hash()), read: (s, f) => s.heightOf(f.b1.hash()), value: Uint8Array.of(1, 2, 3) },
        { what: 'head', key: () => bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.Head)), read: (s) => s.head() },
        { what: 'chain info', key: () => bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.Chain)), read: (s) => s.chainInfo() },
        { what: 'validator set (read at open)', key: () => heightKey(Bucket.ValidatorSetByHeight, 0), read: (_s, _f, kv) => ChainStore.open(kv) },
      ];

      for (const c of cases) {
        it(c.what, async () => {
          const f = chainFixture();
          const kv = await backend.open();
          const store = await ChainStore.open(kv);
          for (const commit of f.commits) await store.commit(commit);
          await kv.batch([{ type: c.appended ? 'append' : 'put', key: c.key(f), value: c.value ?? junk }]);
          // A store opened on the damaged data (the one that wrote it serves its newest blocks from memory).
          const reader = c.what.includes('read at open') ? store : await ChainStore.open(kv);
          const err = await expectRejectsCode(() => c.read(reader, f, kv), StorageError, StorageErrorCode.Corrupt);
          expect(err.message).to.match(/^stored .* is corrupt: /);
        });
      }
    });
  });
}

describe('storage/chainstore write failures', () => {
  /** A controller whose writes fail, as a full disk would make them. */
  class FailingKV extends MemoryKV {
    override async batch(_ops: BatchOp[]): Promise<void> {
      throw new Error('No space left on device');
    }
  }

  it('a failed batch is STORAGE_WRITE naming the height, and nothing becomes visible', async () => {
    const f = chainFixture();
    const store = await ChainStore.open(new FailingKV());
    const err = await expectRejectsCode(() => store.commit(f.commits[0]!), StorageError, StorageErrorCode.Write);
    expect(err.message).to.match(/writing block 0 failed: No space left on device/);
    expect(err.context).to.deep.equal({ height: 0 });
    expect(await store.head()).to.equal(undefined);
    expect(store.validatorSet(0), 'the validator set is only cached once written').to.equal(undefined);
  });

  it('a closed MemoryKV refuses reads with STORAGE_CLOSED', async () => {
    const kv = new MemoryKV();
    const store = await ChainStore.open(kv);
    await store.close();
    await expectRejectsCode(() => kv.get(u64be(1)), StorageError, StorageErrorCode.Closed);
    await expectRejectsCode(() => kv.batch([]), StorageError, StorageErrorCode.Closed);
  });
});

describe('storage/chainstore: the newest blocks are served from memory', () => {
  it('a committed block, its header, transactions and receipts are read back without the database', async () => {
    const f = chainFixture();
    const kv = new MemoryKV();
    const store = await ChainStore.open(kv);
    for (const c of f.commits) await store.commit(c);
    await kv.close(); // any read that reached the database would now throw
    expect((await store.block(1))!.serialize()).to.deep.equal(f.b1.serialize());
    expect((await store.header(2))!.hash()).to.deep.equal(f.b2.hash());
    expect((await store.transactions(1))!.map((t) => t.serialize())).to.deep.equal(f.txs.map((t) => t.serialize()));
    expect((await store.receipts(1))!.map((r) => r.serialize())).to.deep.equal(f.receipts.map((r) => r.serialize()));
  });
});

describe('storage/chainstore: state records held packed', () => {
  it('stateRecordsPacked gives the records stateRecords does, in order, across the buffer growing', async () => {
    const store = await ChainStore.open(new MemoryKV());
    const ops: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 5_000; i++) ops.push([Uint8Array.of(0x64, i >> 8, i & 255, 7), new Uint8Array((i * 31) % 97).fill(i & 255)]);
    ops.push([Uint8Array.of(0x65, 1), Uint8Array.of(9)]); // another table: not under the prefix
    await store.writeStateBulk(new Map(), ops, 700);
    const want: string[] = [];
    for await (const [k, v] of store.stateRecords(Uint8Array.of(0x64))) want.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
    const got = [...(await store.stateRecordsPacked(Uint8Array.of(0x64)))].map(([k, v]) => `${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
    expect(want).to.have.length(5_000);
    expect(got).to.deep.equal(want);
    expect([...(await store.stateRecordsPacked(Uint8Array.of(0x66)))]).to.deep.equal([]);
  });
});
