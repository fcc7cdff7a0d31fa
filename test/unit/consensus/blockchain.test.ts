import { expect } from 'chai';
import { join } from 'node:path';
import {
  asBigint,
  Block,
  BlockHeader,
  ChainError,
  ChainErrorCode,
  blockEventsRoot,
  CommitCertificate,
  commitVoteMessage,
  EMPTY_MERKLE_ROOT,
  formatAddress,
  moduleAddress,
  rlpDecode,
  toHex,
  txRoot,
  u64be,
  utf8,
  verifyVersionedStateProof,
  type Event,
  type HeaderFields,
  type Transaction,
} from '../../../chain/index.js';
import { Blockchain, ConsensusError, ConsensusErrorCode, MAX_CLOCK_DRIFT_MS, type ExecutedBlock } from '../../../consensus/index.js';
import type { ValidatorKey } from '../../../consensus/keys.js';
import { GenesisError, bulkFileOf, readBulkFile, type GenesisDoc } from '../../../genesis/index.js';
import type { BankGenesis } from '../../../vm/modules/bank/genesis.js';
import { writeFile } from 'node:fs/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import { Bucket, bucketKey, bucketRange, MetaKey, ChainStore, LevelKV, StorageError, StorageErrorCode, type BatchOp, type KVController, type KVRange } from '../../../storage/index.js';
import type { BlockchainOptions, WriteFailure } from '../../../consensus/index.js';
import { ModuleRegistry, StateMachine, type Module } from '../../../vm/index.js';
import { createModules, type BankModule } from '../../../vm/modules/index.js';
import { balanceKey } from '../../../vm/modules/bank/keys.js';
import { StateTable } from '../../../vm/state/storage.js';
import {
  accountKey,
  addressOf,
  expectRejectsCode,
  endBlockModule,
  expectThrowsCode,
  genesisVm,
  removeDir,
  silentLogger,
  tempDir,
  testGenesis,
  transferTx,
  validatorKey,
} from '../fixtures.js';

const VALIDATOR = validatorKey(0);
const OUTSIDER = validatorKey(1);
const ALICE = accountKey(0);
const BOB = accountKey(1);
const GENESIS = testGenesis({ balances: [{ GEN: 1_000_000n, NEX: 1_000_000n }, { NEX: 50_000n }], validators: [VALIDATOR] });
const NOW = Date.parse('2026-06-01T00:00:00Z');

interface Opened {
  chain: Blockchain;
  store: ChainStore;
  bank: BankModule;
}

/** A store whose next `failures` batches fail as on a full disk; reads and later batches work. */
class FailingKV implements KVController {
  failures = 0;
  batches = 0;
  /** Fails every batch this says so of, as well. */
  failWhen: ((ops: BatchOp[]) => boolean) | undefined;
  constructor(private readonly inner: KVController) {}
  get(key: Uint8Array) {
    return this.inner.get(key);
  }
  getAppended(key: Uint8Array) {
    return this.inner.getAppended(key);
  }
  entries(range: KVRange) {
    return this.inner.entries(range);
  }
  /** The read view's asynchronous reads (a prefetch's) fail, as on a bad disk. */
  failAsyncReads = false;
  readView() {
    const view = this.inner.readView();
    return this.failAsyncReads ? { ...view, getMany: () => Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })) } : view;
  }
  close() {
    return this.inner.close();
  }
  async batch(ops: BatchOp[], opts?: { sync?: boolean }): Promise<void> {
    this.batches++;
    if (this.failures > 0 || this.failWhen?.(ops)) {
      if (this.failures > 0) this.failures--;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return this.inner.batch(ops, opts);
  }
}

/** Certificate for `executed` signed by `key` as the only validator. */
function certificate(executed: ExecutedBlock, key: ValidatorKey = VALIDATOR, over?: { height?: number; hash?: Uint8Array }): CommitCertificate {
  const height = over?.height ?? executed.block.height;
  const hash = over?.hash ?? executed.block.hash();
  const signature = key.bls.sign(commitVoteMessage(GENESIS.chainId, height, 0, hash));
  return CommitCertificate.aggregate(height, 0, hash, 1, [{ index: 0, signature }]);
}

function fieldsOf(h: BlockHeader): HeaderFields {
  const { version, chainId, height, parentHash, timestamp, proposer, txRoot, receiptsRoot, eventsRoot, stateRoot, validatorsHash, nextValidatorsHash, lastCommit } = h;
  return { version, chainId, height, parentHash, timestamp, proposer, txRoot, receiptsRoot, eventsRoot, stateRoot, validatorsHash, nextValidatorsHash, lastCommit };
}

function tampered(block: Block, change: Partial<HeaderFields>, txs: readonly Transaction[] = block.transactions): Block {
  return new Block(new BlockHeader({ ...fieldsOf(block.header), ...change }), txs);
}

describe('consensus/blockchain (over LevelDB)', () => {
  let dir: string;
  const stores: ChainStore[] = [];

  async function open(doc: GenesisDoc = GENESIS, o: { kv?: KVController; opts?: Partial<BlockchainOptions>; modules?: Module[]; data?: string; bulkGenesisOps?: number; genesisBulk?: Parameters<typeof Blockchain.open>[1]['genesisBulk'] } = {}): Promise<Opened> {
    const store = await ChainStore.open(o.kv ?? (await LevelKV.open(join(dir, o.data ?? 'data'))));
    stores.push(store);
    const made = createModules();
    const bank = made.bank;
    const registry = o.modules ? new ModuleRegistry([bank, made.consensus, ...o.modules]) : made.registry;
    const sm = new StateMachine({ chainId: doc.chainId }, { registry, fees: bank });
    const chain = await Blockchain.open(doc, { store, sm, logger: silentLogger(), blockLimits: (s) => made.consensus.limits(s), bulkGenesisOps: o.bulkGenesisOps, genesisBulk: o.genesisBulk }, o.opts);
    return { chain, store, bank };
  }

  async function close(o: Opened): Promise<void> {
    stores.splice(stores.indexOf(o.store), 1);
    await o.store.close();
  }

  /** Builds, certifies and commits the next block; returns it. */
  async function produce(o: Opened, txs: Transaction[], now = NOW + o.chain.height): Promise<ExecutedBlock> {
    const { executed } = o.chain.build(VALIDATOR.address, txs, now);
    await o.chain.commit(executed, certificate(executed));
    return executed;
  }

  beforeEach(async () => {
    dir = await tempDir('metanode-chain-');
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await removeDir(dir);
  });

  it('block H carries the certificate of H-1 its proposer holds (lastCommit): checked by every validator, its signers given to the modules', async () => {
    /** Emits, from its end-block hook, who signed the previous block as the state machine was told. */
    const signers = (): Module => endBlockModule('signers', (ctx) => void ctx.emit({ module: 'signers', type: 'last_commit', attributes: (ctx.block.lastCommitSigners ?? []).map((a, i) => [String(i), toHex(a)] as const) }));
    const a = await open(GENESIS, { modules: [signers()] });
    const b = await open(GENESIS, { modules: [signers()], data: 'other' });
    const first = await produce(a, []);
    expect(first.block.header.lastCommit).to.equal(undefined); // genesis has no certificate
    await b.chain.commit(b.chain.validate(first.block), (await a.store.certificate(1))!);
    const second = a.chain.build(VALIDATOR.address, [], NOW + 10).executed;
    const cert1 = (await a.store.certificate(1))!;
    expect(toHex(second.block.header.lastCommit!.serialize())).to.equal(toHex(cert1.serialize()));
    expect(second.result.blockEvents).to.deep.equal([{ module: 'signers', type: 'last_commit', attributes: [['0', toHex(VALIDATOR.address)]] }]);
    expect(() => b.chain.validate(second.block)).to.not.throw();
    const without = tampered(second.block, { lastCommit: undefined });
    expect(expectThrowsCode(() => b.chain.validate(without), ConsensusError, ConsensusErrorCode.InvalidProposal).message).to.match(/carries no certificate of block 1 \(lastCommit\)/);
    const forged = new CommitCertificate({ ...cert1, blockHash: new Uint8Array(32).fill(7) });
    expect(expectThrowsCode(() => b.chain.validate(tampered(second.block, { lastCommit: forged })), ConsensusError, ConsensusErrorCode.InvalidProposal).message).to.match(/its lastCommit does not certify block 1: .*is for another block/);
    // A certificate of another height is refused by the header itself.
    expect(() => tampered(first.block, { lastCommit: forged })).to.throw(ChainError, /header.lastCommit is for height 1, not 0/);
  });

  it("a block over the chain's block limits (the consensus module's parameters) is invalid; the limits are on chain", async () => {
    const doc: GenesisDoc = { ...GENESIS, modules: { ...GENESIS.modules, consensus: { maxBlockTxs: 1, maxBlockBytes: 65_536 } } };
    const a = await open(doc);
    expect(a.chain.blockLimits()).to.deep.equal({ maxBlockTxs: 1, maxBlockBytes: 65_536 });
    const two = [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 5n), transferTx(ALICE, 1n, addressOf(BOB), 'GEN', 6n)];
    const { executed } = a.chain.build(VALIDATOR.address, two, NOW); // build does not cap: the proposer's engine reaps within the limits
    const err = expectThrowsCode(() => a.chain.validate(executed.block), ConsensusError, ConsensusErrorCode.InvalidProposal);
    expect(err.message).to.match(/it holds 2 transactions, more than the chain's maxBlockTxs \(1\)/);
    const one = a.chain.build(VALIDATOR.address, two.slice(0, 1), NOW);
    expect(() => a.chain.validate(one.executed.block)).to.not.throw();
  });

  it("a block's hook events are in its header (eventsRoot), checked by a validator, stored, and read back after a restart", async () => {
    /** Writes its last height and emits an event from its end-block hook. */
    const ticker = (): Module =>
      endBlockModule('ticker', (ctx) => {
        ctx.state.set(utf8('ticker/last'), utf8(String(ctx.block.height)));
        ctx.emit({ module: 'ticker', type: 'tick', attributes: [['height', String(ctx.block.height)]] });
      });
    const a = await open(GENESIS, { modules: [ticker()] });
    const b = await open(GENESIS, { modules: [ticker()], data: 'other' });
    const made = await produce(a, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 5n)]);
    const tick: Event = { module: 'ticker', type: 'tick', attributes: [['height', '1']] };
    expect(made.result.blockEvents).to.deep.equal([tick]);
    expect(toHex(made.block.header.eventsRoot)).to.equal(toHex(blockEventsRoot([tick])));
    expect(toHex(made.block.header.eventsRoot)).to.not.equal(toHex(EMPTY_MERKLE_ROOT));
    // Another validator executes the block and gets the same events root; a wrong one is refused.
    expect(() => b.chain.validate(made.block)).to.not.throw();
    expectThrowsCode(() => b.chain.validate(tampered(made.block, { eventsRoot: blockEventsRoot([]) })), ConsensusError, ConsensusErrorCode.InvalidProposal);
    expect(await a.store.blockEvents(1)).to.deep.equal([tick]);
    expect(await a.store.blockEvents(2)).to.equal(undefined); // not a block yet
    await close(a);
    const again = await open(GENESIS, { modules: [ticker()] });
    expect(await again.store.blockEvents(1)).to.deep.equal([tick]); // from disk, not the recent-block cache
    expect(await again.store.blockEvents(0)).to.deep.equal([]); // genesis: none stored
  });

  it('opening an empty store writes genesis', async () => {
    const o = await open();
    expect(o.chain.height).to.equal(0);
    expect(o.chain.chainId).to.equal(GENESIS.chainId);
    const root = genesisVm(GENESIS).world.root;
    expect(o.chain.head.stateRoot).to.deep.equal(root);
    expect(o.chain.state.root).to.deep.equal(root);
    expect(await o.store.chainInfo()).to.deep.equal({ chainId: GENESIS.chainId, genesisHash: o.chain.head.hash() });
    expect(await o.store.head()).to.deep.equal({ height: 0, hash: o.chain.head.hash(), stateRoot: root });
    expect(o.chain.validatorSet(1).has(VALIDATOR.address)).to.equal(true);
    expect(o.bank.balance(o.chain.state, addressOf(ALICE), 'GEN')).to.equal(1_000_000n);
  });

  /** Every state value and state record in the data folder, as hex pairs. */
  async function stateDump(kv: KVController): Promise<string[]> {
    const out: string[] = [];
    for (const b of [Bucket.State, Bucket.StateStore]) for await (const [k, v] of kv.entries(bucketRange(b))) out.push(`${toHex(k)}=${toHex(v)}`);
    return out;
  }

  it('a large genesis (written in batches before its block) gives the same block and stored state as one batch', async () => {
    const one = await open(GENESIS, { data: 'one' });
    const oneHead = one.chain.head.hash();
    await close(one);
    const kv = new FailingKV(await LevelKV.open(join(dir, 'bulk')));
    const bulk = await open(GENESIS, { kv, bulkGenesisOps: 1 });
    expect(kv.batches, 'the state in several batches (the bulk load\'s passes), then the block').to.be.greaterThan(2);
    expect(toHex(bulk.chain.head.hash())).to.equal(toHex(oneHead));
    const oneKv = await LevelKV.open(join(dir, 'one'));
    const oneState = await stateDump(oneKv);
    await oneKv.close();
    expect(await stateDump(kv), 'the same state records, bit for bit (the bulk build numbers its nodes as a commit does)').to.deep.equal(oneState);
    expect(bulk.bank.balance(bulk.chain.state, addressOf(ALICE), 'GEN')).to.equal(1_000_000n);
    await produce(bulk, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 10n)]);
    await close(bulk);
    const again = await open(GENESIS, { data: 'bulk' });
    expect(again.chain.height).to.equal(1);
    expect(again.bank.balance(again.chain.state, addressOf(BOB), 'GEN')).to.equal(10n);
  });

  it('a genesis whose bank section names a bulk file: the state of the same accounts inline, in chunks; a bad file is refused by its line and leaves no chain', async () => {
    // 300 accounts beyond the two of GENESIS, by address bytes ascending.
    const rand = (i: number): Uint8Array => sha256(utf8(`bulk account ${i}`)).subarray(0, 20);
    // One of them is the staking module's account, which staking's genesis credits (the bonded
    // stake): the bulk file adds to it, as `balances` does.
    const staking = moduleAddress('staking');
    const bulkAddrs = [...Array.from({ length: 299 }, (_, i) => rand(i)), staking].sort((a, b) => Buffer.compare(a, b));
    const lines = bulkAddrs.map((a, i) => JSON.stringify({ address: formatAddress(a), amounts: { GEN: String(1000 + i), ...(i % 3 ? { AUR: '7' } : {}) } }));
    const base = structuredClone(GENESIS);
    base.modules.staking = {}; // on, with its defaults: each genesis validator's self-bond minted
    const inline = structuredClone(base);
    const inlineBank = inline.modules.bank as BankGenesis;
    inlineBank.balances.push(...lines.map((l) => JSON.parse(l) as BankGenesis['balances'][number]));
    const want = await open(inline, { data: 'inline' });
    const stakedInline = want.bank.balance(want.chain.state, staking, 'GEN');
    const wantRoot = toHex(want.chain.head.stateRoot);
    const wantSupply = want.bank.supply(want.chain.state, 'GEN');
    await close(want);

    const genesisPath = join(dir, 'genesis.json');
    const withFile = async (text: string, data: string, tamper?: (doc: GenesisDoc) => void): Promise<Opened> => {
      await writeFile(join(dir, 'bulk.jsonl'), text);
      const doc = structuredClone(base);
      (doc.modules.bank as BankGenesis).bulkFile = { path: 'bulk.jsonl', sha256: `0x${toHex(sha256(utf8(text))).slice(2)}` };
      tamper?.(doc);
      return open(doc, { data, bulkGenesisOps: 1_000_000, genesisBulk: () => [{ module: 'bank', chunks: readBulkFile(genesisPath, bulkFileOf(doc.modules.bank)!, 64) }] });
    };
    const got = await withFile(lines.join('\n') + '\n', 'bulk');
    expect(toHex(got.chain.head.stateRoot), 'the same state as the accounts inline').to.equal(wantRoot);
    expect(got.bank.supply(got.chain.state, 'GEN')).to.equal(wantSupply);
    expect(got.bank.balance(got.chain.state, staking, 'GEN'), 'the bonded stake and the line').to.equal(stakedInline);
    expect(stakedInline > BigInt(1000 + bulkAddrs.findIndex((a) => Buffer.compare(a, staking) === 0)), 'staking\'s genesis credited its account').to.equal(true);
    expect(await got.store.genesisPending(), 'no genesis pending once its block is written').to.equal(false);
    const last = bulkAddrs[299]!;
    expect(got.bank.balance(got.chain.state, last, 'GEN')).to.equal(Buffer.compare(last, staking) === 0 ? stakedInline : 1299n);
    expect(got.bank.balance(got.chain.state, bulkAddrs[1]!, 'AUR')).to.equal(7n);
    await produce(got, [transferTx(ALICE, 0n, bulkAddrs[5]!, 'GEN', 10n)]);
    expect(got.bank.balance(got.chain.state, bulkAddrs[5]!, 'GEN')).to.equal(1015n);
    await close(got);

    // Each refusal on the store the one before left: genesis is written anew over a genesis cut short.
    const refused = async (text: string, pattern: RegExp, tamper?: (doc: GenesisDoc) => void): Promise<void> => {
      let err: unknown;
      await withFile(text, 'bad', tamper).catch((e: unknown) => (err = e));
      await stores.pop()!.close();
      expect(err, String(pattern)).to.be.instanceOf(GenesisError);
      expect((err as Error).message).to.match(pattern);
      const kv = await LevelKV.open(join(dir, 'bad'));
      const cut = await ChainStore.open(kv);
      expect(await cut.chainInfo(), 'no chain').to.equal(undefined);
      expect(await cut.genesisPending(), 'a genesis cut short, not a database that lost its records').to.equal(true);
      await kv.close();
    };
    const swapped = [...lines];
    [swapped[100], swapped[101]] = [swapped[101]!, swapped[100]!];
    await removeDir(join(dir, 'bad'));
    await refused(swapped.join('\n'), /genesis is invalid: modules.bank.bulkFile, line 102: address mn1\w+ is not above the line before's/);
    await refused([...lines.slice(0, 200), JSON.stringify({ address: formatAddress(addressOf(ALICE)), amounts: { GEN: '1' } })].join('\n'), /line 201: address mn1\w+ is funded in balances too/);
    await refused([...lines.slice(0, 70), '{"address": "mn1nope", "amounts": {}}'].join('\n'), /line 71: address: must be a valid mn1/);
    await refused([...lines.slice(0, 3), '', ...lines.slice(3)].join('\n'), /line 4: blank/);
    await refused(lines.join('\n'), /has sha256 0x[0-9a-f]{64}, not the 0x0{64}/, (doc) => ((doc.modules.bank as BankGenesis).bulkFile!.sha256 = `0x${'0'.repeat(64)}`));
    // What the refused genesis wrote is removed by the next start, which writes the good one.
    const again = await withFile(lines.join('\n'), 'bad');
    expect(toHex(again.chain.head.stateRoot)).to.equal(wantRoot);
    await close(again);
  });

  it('a large genesis cut short before its block leaves state that the next start removes, whatever genesis it is then given', async () => {
    const other = testGenesis({ balances: [{ GEN: 5n, NEX: 9n }, { FLX: 3n }, { AUR: 1n }, { GEN: 2n }], validators: [VALIDATOR] });
    const kv = new FailingKV(await LevelKV.open(join(dir, 'data')));
    // Every batch but the state's own and the pending mark fails: the state lands, its block does not (a crash in between).
    const pendingMark = toHex(bucketKey(Bucket.Meta, Uint8Array.of(MetaKey.GenesisPending)));
    kv.failWhen = (ops) => ops.some((op) => op.key[0] !== Bucket.State && op.key[0] !== Bucket.StateStore && toHex(op.key) !== pendingMark);
    await expectRejectsCode(() => open(other, { kv, bulkGenesisOps: 1 }), StorageError, StorageErrorCode.Write);
    stores.pop();
    const left = await stateDump(kv);
    expect(left.length, 'the state of the cut-short genesis is on disk').to.be.greaterThan(4);
    const cut = await ChainStore.open(kv);
    expect(await cut.chainInfo(), 'no chain').to.equal(undefined);
    expect(await cut.hasState()).to.equal(true);
    expect(await cut.genesisPending(), 'marked: a genesis cut short').to.equal(true);
    await kv.close();

    const o = await open(GENESIS);
    expect(o.chain.head.stateRoot).to.deep.equal(genesisVm(GENESIS).world.root);
    await close(o);
    await close(await open(GENESIS, { data: 'fresh' }));
    const [kv2, kv3] = await Promise.all([LevelKV.open(join(dir, 'data')), LevelKV.open(join(dir, 'fresh'))]);
    expect(await stateDump(kv2), 'nothing of the other genesis is left').to.deep.equal(await stateDump(kv3));
    await Promise.all([kv2.close(), kv3.close()]);
  });

  it('builds a block that leaves out invalid transactions, commits it, and stores it with its receipts', async () => {
    const o = await open();
    const committed: number[] = [];
    o.chain.on('committed', ({ block, receipts }) => committed.push(block.height, receipts.length));
    const good = transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 500n);
    const stale = transferTx(BOB, 3n, addressOf(ALICE), 'NEX', 1n);
    const { executed, build } = o.chain.build(VALIDATOR.address, [good, stale], NOW);
    expect(build.included).to.have.length(1);
    expect(build.excluded.map((e) => e.tx)).to.deep.equal([stale]);
    expect(executed.block.header.timestamp).to.equal(NOW);
    await o.chain.commit(executed, certificate(executed));

    expect(o.chain.height).to.equal(1);
    expect(committed).to.deep.equal([1, 1]);
    expect(o.bank.balance(o.chain.state, addressOf(BOB), 'GEN')).to.equal(500n);
    expect(o.chain.state.root).to.deep.equal(executed.block.header.stateRoot);
    const stored = (await o.store.block(1))!;
    expect(stored.hash()).to.deep.equal(executed.block.hash());
    expect(stored.certificate).to.not.equal(undefined);
    expect((await o.store.receipts(1))!.map((r) => r.ok)).to.deep.equal([true]);
    expect(await o.store.txLocation(good.hash())).to.deep.equal({ height: 1, index: 0 });
    expect((await o.store.head())!.height).to.equal(1);
  });

  it('a prefetch reads the state a block\'s transactions need into the caches and changes none of its bytes; one whose reads fail is ignored', async () => {
    const txs = (): Transaction[] => [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 500n), transferTx(BOB, 0n, addressOf(ALICE), 'NEX', 7n)];
    // Each chain is opened twice: the second open starts with empty caches, as a restarted node does.
    const reopened = async (data: string, o: { kv?: () => Promise<KVController>; opts?: Partial<BlockchainOptions> } = {}): Promise<Opened> => {
      await close(await open(GENESIS, { data, ...(o.kv ? { kv: await o.kv() } : {}), opts: o.opts }));
      return open(GENESIS, { data, ...(o.kv ? { kv: await o.kv() } : {}), opts: o.opts });
    };
    const off = await reopened('off', { opts: { statePrefetch: false } });
    const on = await reopened('on');
    let failing: FailingKV | undefined;
    const bad = await reopened('bad', { kv: async () => (failing = new FailingKV(await LevelKV.open(join(dir, 'bad')))) });
    failing!.failAsyncReads = true;
    for (const o of [off, on, bad]) await o.chain.prefetch(txs());
    expect(off.chain.state.cacheStats.values.prefetched).to.equal(0);
    expect(on.chain.state.cacheStats.values.prefetched, 'values read ahead').to.be.greaterThan(0);
    expect(on.chain.state.cacheStats.nodes.prefetched, 'tree nodes read ahead').to.be.greaterThan(0);
    const reads = (o: Opened): number => o.chain.state.cacheStats.values.reads;
    const [offBefore, onBefore] = [reads(off), reads(on)];
    const blocks = [off, on, bad].map((o) => o.chain.build(VALIDATOR.address, txs(), NOW).executed.block);
    // Every key read ahead is one the block would have read (the rest, parameters and the proposer's balance, it reads itself).
    expect(reads(on) - onBefore, 'values read while the block ran').to.equal(reads(off) - offBefore - on.chain.state.cacheStats.values.prefetched);
    for (const b of blocks) expect(toHex(b.hash())).to.equal(toHex(blocks[0]!.hash()));
    expect(blocks[0]!.transactions).to.have.length(2);
  });

  it('a block timestamp is never below its parent: a clock behind the head gives parent + 1', async () => {
    const o = await open();
    const first = await produce(o, [], NOW);
    const { executed } = o.chain.build(VALIDATOR.address, [], NOW - 60_000);
    expect(executed.block.header.timestamp).to.equal(first.block.header.timestamp + 1);
  });

  describe('validate', () => {
    async function proposal(): Promise<{ o: Opened; block: Block }> {
      const o = await open();
      await produce(o, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 1n)]);
      const { executed } = o.chain.build(VALIDATOR.address, [transferTx(ALICE, 1n, addressOf(BOB), 'GEN', 2n), transferTx(BOB, 0n, addressOf(ALICE), 'NEX', 3n)], NOW + 10);
      return { o, block: executed.block };
    }

    it("accepts the node's own built block, with the state root it built", async () => {
      const { o, block } = await proposal();
      const v = o.chain.validate(block);
      expect(v.result.stateRoot).to.deep.equal(block.header.stateRoot);
      expect(v.result.receipts).to.have.length(2);
      // Validation executes, it does not commit.
      expect(o.chain.height).to.equal(1);
      await o.chain.commit(v, certificate(v));
      expect(o.chain.height).to.equal(2);
    });

    const cases: { what: string; make: (b: Block, o: Opened) => Block; message: RegExp }[] = [
      { what: 'a wrong state root', make: (b) => tampered(b, { stateRoot: new Uint8Array(32).fill(7) }), message: /state root 0x[0-9a-f]+ after execution differs/ },
      { what: 'a wrong parent', make: (b) => tampered(b, { parentHash: new Uint8Array(32).fill(1) }), message: /parent hash is not the head/ },
      { what: 'a wrong transactions root', make: (b) => tampered(b, { txRoot: new Uint8Array(32).fill(2) }), message: /transactions root does not match/ },
      { what: 'transactions that are not the ones of the header', make: (b) => tampered(b, {}, b.transactions.slice(0, 1)), message: /transactions root does not match/ },
      { what: 'a proposer outside the validator set', make: (b) => tampered(b, { proposer: OUTSIDER.address }), message: /proposer is not a validator/ },
      { what: 'a timestamp equal to the parent', make: (b, o) => tampered(b, { timestamp: o.chain.head.timestamp }), message: /timestamp does not increase/ },
      { what: 'a timestamp before the parent', make: (b, o) => tampered(b, { timestamp: o.chain.head.timestamp - 1 }), message: /timestamp does not increase/ },
      { what: 'a wrong height', make: (b) => tampered(b, { height: 3, lastCommit: undefined }), message: /height is not 2/ },
      { what: 'another chain id', make: (b) => tampered(b, { chainId: 'other-chain' }), message: /chain id "other-chain"/ },
      { what: 'a wrong validators hash', make: (b) => tampered(b, { validatorsHash: new Uint8Array(32).fill(3) }), message: /validators hash does not match/ },
      { what: 'a wrong next validators hash', make: (b) => tampered(b, { nextValidatorsHash: new Uint8Array(32).fill(3) }), message: /next validators hash does not match/ },
      { what: 'a wrong receipts root', make: (b) => tampered(b, { receiptsRoot: new Uint8Array(32).fill(4) }), message: /receipts root does not match/ },
      { what: 'a wrong events root', make: (b) => tampered(b, { eventsRoot: new Uint8Array(32).fill(5) }), message: /events root does not match/ },
      { what: 'a header version it does not know', make: (b) => tampered(b, { version: 3 }), message: /version 3/ },
      {
        what: 'a transaction a block may not contain',
        make: (b) => {
          const txs = [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 9n)]; // nonce 0 was used at height 1
          return tampered(b, { txRoot: txRoot(txs) }, txs);
        },
        message: /has nonce 0, account nonce is 1/,
      },
    ];

    for (const c of cases) {
      it(`rejects a block with ${c.what}`, async () => {
        const { o, block } = await proposal();
        const rootBefore = o.chain.state.root;
        const err = expectThrowsCode(() => o.chain.validate(c.make(block, o)), ConsensusError, ConsensusErrorCode.InvalidProposal);
        expect(err.message).to.match(/^block \d+ \(0x[0-9a-f]{64}\) is invalid: /);
        expect(err.message).to.match(c.message);
        expect(o.chain.state.root).to.deep.equal(rootBefore);
        expect(o.chain.height).to.equal(1);
      });
    }
  });

  it("rejects a proposal whose timestamp is ahead of the validator's clock by more than the allowed drift, but not a synced block", async () => {
    const o = await open();
    await produce(o, [], NOW);
    const { executed } = o.chain.build(VALIDATOR.address, [], NOW + MAX_CLOCK_DRIFT_MS + 1_000);
    const err = expectThrowsCode(() => o.chain.validate(executed.block, undefined, NOW), ConsensusError, ConsensusErrorCode.InvalidProposal);
    expect(err.message).to.match(/ahead of this node's clock/);
    expect(o.chain.validate(executed.block, undefined, NOW + 2_000).block.height).to.equal(2);
    expect(o.chain.validate(executed.block).block.height).to.equal(2);
  });

  describe('commit', () => {
    const badCerts: { what: string; make: (e: ExecutedBlock) => CommitCertificate; message: RegExp }[] = [
      { what: 'signed by a key outside the set', make: (e) => certificate(e, OUTSIDER), message: /aggregate signature does not verify/ },
      { what: 'for another block', make: (e) => certificate(e, VALIDATOR, { hash: new Uint8Array(32).fill(9) }), message: /is for another block/ },
      { what: 'for another height', make: (e) => certificate(e, VALIDATOR, { height: 5 }), message: /is for height 5/ },
      {
        what: 'with no signers',
        make: (e) => new CommitCertificate({ height: 1, round: 0, blockHash: e.block.hash(), signers: new Uint8Array(1), signature: certificate(e).signature }),
        message: /has 0 signers with power 0, quorum is 1 of 1/,
      },
      {
        what: 'signed for round 0 but claiming round 1',
        make: (e) => new CommitCertificate({ ...certificate(e), round: 1 }),
        message: /aggregate signature does not verify/,
      },
    ];

    for (const c of badCerts) {
      it(`rejects a certificate ${c.what}, and nothing is committed`, async () => {
        const o = await open();
        const { executed } = o.chain.build(VALIDATOR.address, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 1n)], NOW);
        const err = await expectRejectsCode(() => o.chain.commit(executed, c.make(executed)), ChainError, ChainErrorCode.InvalidCertificate);
        expect(err.message).to.match(c.message);
        expect(o.chain.height).to.equal(0);
        expect((await o.store.head())!.height).to.equal(0);
        expect(await o.store.block(1)).to.equal(undefined);
        expect(o.bank.balance(o.chain.state, addressOf(BOB), 'GEN')).to.equal(0n);
        // The same block with a good certificate still commits.
        await o.chain.commit(executed, certificate(executed));
        expect(o.chain.height).to.equal(1);
      });
    }

    it('rejects a block that does not extend the head', async () => {
      const o = await open();
      const a = o.chain.build(VALIDATOR.address, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 1n)], NOW).executed;
      const b = o.chain.build(VALIDATOR.address, [], NOW + 1).executed;
      await o.chain.commit(a, certificate(a));
      const err = await expectRejectsCode(() => o.chain.commit(b, certificate(b)), ConsensusError, ConsensusErrorCode.InvalidProposal);
      expect(err.message).to.match(/does not extend the head 1/);
      expect(o.chain.head.hash()).to.deep.equal(a.block.hash());
    });
  });

  describe('a block that cannot be written', () => {
    async function failing(opts: Partial<BlockchainOptions>): Promise<Opened & { kv: FailingKV; events: WriteFailure[]; recovered: number[] }> {
      const kv = new FailingKV(await LevelKV.open(join(dir, 'data')));
      const o = await open(GENESIS, { kv, opts });
      const events: WriteFailure[] = [];
      const recovered: number[] = [];
      o.chain.on('writeFailed', (f) => {
        expect(o.chain.writeFailure, 'set while failing').to.equal(f);
        events.push({ ...f });
      });
      o.chain.on('writeRecovered', (r) => recovered.push(r.attempts));
      return { ...o, kv, events, recovered };
    }
    const transfer = () => transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 7n);

    it('is written again with growing waits, and committed once the disk takes it', async () => {
      const o = await failing({ writeRetries: 3, writeRetryDelayMs: 20 });
      o.kv.failures = 2;
      const { executed } = o.chain.build(VALIDATOR.address, [transfer()], NOW);
      const started = performance.now();
      await o.chain.commit(executed, certificate(executed));
      expect(performance.now() - started, 'waited 20 then 40 ms').to.be.at.least(55);
      expect(o.events.map((e) => [e.height, e.attempts, e.final])).to.deep.equal([[1, 1, false], [1, 2, false]]);
      expect(o.events[0]!.error).to.be.instanceOf(StorageError).with.property('code', StorageErrorCode.Write);
      expect(o.recovered).to.deep.equal([3]);
      expect(o.chain.writeFailure).to.equal(undefined);
      expect(o.chain.height).to.equal(1);
      expect((await o.store.head())!.height).to.equal(1);
      expect(o.bank.balance(o.chain.state, addressOf(BOB), 'GEN')).to.equal(7n);
    });

    it('after the last retry fails, the commit fails, nothing of the block is visible, and the chain takes no more', async () => {
      const o = await failing({ writeRetries: 2, writeRetryDelayMs: 1 });
      o.kv.failures = 100;
      const { executed } = o.chain.build(VALIDATOR.address, [transfer()], NOW);
      await expectRejectsCode(() => o.chain.commit(executed, certificate(executed)), StorageError, StorageErrorCode.Write);
      expect(o.events.map((e) => [e.attempts, e.final])).to.deep.equal([[1, false], [2, false], [3, true]]);
      expect(o.chain.writeFailure).to.include({ height: 1, attempts: 3, final: true });
      expect(o.chain.height).to.equal(0);
      expect((await o.store.head())!.height).to.equal(0);
      expect(await o.store.block(1)).to.equal(undefined);
      expect(o.bank.balance(o.chain.state, addressOf(BOB), 'GEN')).to.equal(0n);
      // Even with the disk working again, this chain object takes no more blocks (the process restarts).
      o.kv.failures = 0;
      const batches = o.kv.batches;
      const err = await expectRejectsCode(() => o.chain.commit(executed, certificate(executed)), StorageError, StorageErrorCode.Write);
      expect(err.message).to.match(/takes no more blocks: writing block 1 failed/);
      expect(o.kv.batches, 'not even tried').to.equal(batches);
    });

    it('with writeRetries 0, the first failure is final', async () => {
      const o = await failing({ writeRetries: 0 });
      o.kv.failures = 1;
      const { executed } = o.chain.build(VALIDATOR.address, [], NOW);
      await expectRejectsCode(() => o.chain.commit(executed, certificate(executed)), StorageError, StorageErrorCode.Write);
      expect(o.events.map((e) => [e.attempts, e.final])).to.deep.equal([[1, true]]);
    });

    it('stopRetrying ends the wait for a retry at once (the node is stopping): the commit fails for good', async () => {
      const o = await failing({ writeRetries: 5, writeRetryDelayMs: 600_000 });
      o.kv.failures = 100;
      const { executed } = o.chain.build(VALIDATOR.address, [], NOW);
      const commit = o.chain.commit(executed, certificate(executed));
      await new Promise<void>((r) => o.chain.once('writeFailed', () => setImmediate(r)));
      o.chain.stopRetrying();
      await expectRejectsCode(() => commit, StorageError, StorageErrorCode.Write);
      expect(o.chain.writeFailure?.final).to.equal(true);
    });
  });

  describe('reopening', () => {
    it('restores the same head, state root and state, and the chain goes on', async () => {
      const o = await open();
      await produce(o, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 10n)]);
      await produce(o, [transferTx(ALICE, 1n, addressOf(BOB), 'FLX', 0n), transferTx(BOB, 0n, addressOf(ALICE), 'NEX', 7n)]);
      await produce(o, []);
      const head = o.chain.head;
      const bobGen = o.bank.balance(o.chain.state, addressOf(BOB), 'GEN');
      await close(o);

      const again = await open();
      expect(again.chain.height).to.equal(3);
      expect(toHex(again.chain.head.hash())).to.equal(toHex(head.hash()));
      expect(again.chain.state.root).to.deep.equal(head.stateRoot);
      expect(again.chain.state.height).to.equal(3);
      expect(again.bank.balance(again.chain.state, addressOf(BOB), 'GEN')).to.equal(bobGen);
      const next = await produce(again, [transferTx(ALICE, 2n, addressOf(BOB), 'GEN', 1n)]);
      expect(next.block.header.parentHash).to.deep.equal(head.hash());
      expect(next.result.receipts[0]!.ok).to.equal(true);
    });

    for (const [what, doc] of [
      ['another chain id', testGenesis({ chainId: 'other-chain', balances: [{ GEN: 1_000_000n, NEX: 1_000_000n }, { NEX: 50_000n }], validators: [VALIDATOR] })],
      ['the same chain id with other balances', testGenesis({ balances: [{ GEN: 1n }], validators: [VALIDATOR] })],
      ['the same chain id with another genesis time', testGenesis({ genesisTime: new Date('2027-01-01T00:00:00Z'), balances: [{ GEN: 1_000_000n, NEX: 1_000_000n }, { NEX: 50_000n }], validators: [VALIDATOR] })],
    ] as const) {
      it(`with a genesis of ${what} fails with STORAGE_MISMATCH`, async () => {
        await close(await open());
        const err = await expectRejectsCode(() => open(doc), StorageError, StorageErrorCode.Mismatch);
        expect(err.message).to.match(/use a fresh home for this genesis/);
      });
    }

    it('a stored state that does not hash to the head state root is STORAGE_CORRUPT', async () => {
      const o = await open();
      await produce(o, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 10n)]);
      await close(o);
      // The head's root record made to point at genesis' tree.
      const kv = await LevelKV.open(join(dir, 'data'));
      const root = (h: number) => bucketKey(Bucket.StateStore, Uint8Array.of(StateTable.Root), u64be(h));
      const genesisRoot = await kv.get(root(0));
      expect(genesisRoot, 'the root of genesis is kept (history)').to.not.equal(undefined);
      await kv.batch([{ type: 'put', key: root(1), value: genesisRoot! }]);
      await kv.close();
      const err = await expectRejectsCode(() => open(), StorageError, StorageErrorCode.Corrupt);
      expect(err.message).to.match(/does not match block 1's/);
    });

    /** Deletes the state's own records: a home as a node before the stored state left it (head values only). */
    async function makeOlderHome(extra: BatchOp[] = []): Promise<void> {
      const kv = await LevelKV.open(join(dir, 'data'));
      const ops: BatchOp[] = [...extra];
      for await (const [k] of kv.entries(bucketRange(Bucket.StateStore))) ops.push({ type: 'del', key: k });
      expect(ops.length).to.be.greaterThan(extra.length);
      await kv.batch(ops);
      await kv.close();
    }

    it('a home from before the stored state is migrated at start: the same root, balances and proofs', async () => {
      const o = await open();
      await produce(o, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 10n)]);
      const root = o.chain.state.root;
      const bob = o.bank.balance(o.chain.state, addressOf(BOB), 'GEN');
      await close(o);
      await makeOlderHome();
      const again = await open();
      expect(toHex(again.chain.state.root)).to.equal(toHex(root));
      expect(again.bank.balance(again.chain.state, addressOf(BOB), 'GEN')).to.equal(bob);
      const key = balanceKey(addressOf(BOB), 'GEN');
      const p = again.chain.state.proof(1, key)!;
      expect(verifyVersionedStateProof(again.chain.head.stateRoot, key, p.value, p.proof)).to.equal(true);
      // It goes on from there.
      await produce(again, [transferTx(ALICE, 1n, addressOf(BOB), 'GEN', 5n)]);
      expect(again.bank.balance(again.chain.state, addressOf(BOB), 'GEN')).to.equal(bob + 5n);
    });

    it('a migrated home whose values do not hash to the head state root is STORAGE_CORRUPT', async () => {
      const o = await open();
      await produce(o, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 10n)]);
      await close(o);
      await makeOlderHome([{ type: 'put', key: bucketKey(Bucket.State, new TextEncoder().encode('bank/bal/intruder')), value: Uint8Array.of(1) }]);
      const err = await expectRejectsCode(() => open(), StorageError, StorageErrorCode.Corrupt);
      expect(err.message).to.match(/does not match block 1's/);
    });
  });

  it('validatorSet of a height with none stored is STORAGE_CORRUPT', async () => {
    const o = await open();
    expectThrowsCode(() => o.chain.validatorSet(-1), StorageError, StorageErrorCode.Corrupt);
  });

  describe('a chain on the entry log (genesis stateCommitment "entry-log")', () => {
    const ENTRIES: GenesisDoc = { ...GENESIS, stateCommitment: 'entry-log' };

    it('commits to the entry log from genesis: blocks, format-2 proofs of recent heights against their headers, a restart with the same root', async () => {
      const o = await open(ENTRIES);
      expect(o.chain.state.commitment).to.equal('entries');
      const tree = await open(GENESIS, { data: 'tree' });
      expect(toHex(o.chain.head.stateRoot), 'another commitment, another genesis root').to.not.equal(toHex(tree.chain.head.stateRoot));
      expect(o.bank.balance(o.chain.state, addressOf(ALICE), 'GEN')).to.equal(1_000_000n);
      await produce(o, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 10n)]);
      await produce(o, [transferTx(ALICE, 1n, addressOf(BOB), 'GEN', 5n), transferTx(BOB, 0n, addressOf(ALICE), 'NEX', 7n)]);
      const key = balanceKey(addressOf(BOB), 'GEN');
      for (const [h, want] of [[0, undefined], [1, 10n], [2, 15n]] as const) {
        const header = (await o.chain.blocks.header(h))!;
        const p = o.chain.state.proof(h, key)!;
        expect(p.proof.format).to.equal(2);
        expect(toHex(p.root)).to.equal(toHex(header.stateRoot));
        expect(verifyVersionedStateProof(header.stateRoot, key, p.value, p.proof), `proof at ${h}`).to.equal(true);
        expect(p.value === undefined ? undefined : asBigint(rlpDecode(p.value, 'balance'), 'balance')).to.equal(want);
      }
      const head = o.chain.head;
      await close(o);
      const again = await open(ENTRIES);
      expect(again.chain.state.commitment).to.equal('entries');
      expect(toHex(again.chain.head.hash())).to.equal(toHex(head.hash()));
      expect(toHex(again.chain.state.root)).to.equal(toHex(head.stateRoot));
      const next = await produce(again, [transferTx(ALICE, 2n, addressOf(BOB), 'GEN', 1n)]);
      expect(next.result.receipts[0]!.ok).to.equal(true);
      expect(again.bank.balance(again.chain.state, addressOf(BOB), 'GEN')).to.equal(16n);
    });

    it('a large genesis (in batches, through the bulk load) gives the same block as one batch', async () => {
      const one = await open(ENTRIES, { data: 'one' });
      const bulk = await open(ENTRIES, { data: 'bulk', bulkGenesisOps: 1 });
      expect(toHex(bulk.chain.head.hash())).to.equal(toHex(one.chain.head.hash()));
      await produce(bulk, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 10n)]);
      await produce(one, [transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 10n)]);
      expect(toHex(bulk.chain.head.stateRoot)).to.equal(toHex(one.chain.head.stateRoot));
    });

    it('a genesis file written differently is checked again in memory, on the entry log; one of the other commitment is STORAGE_MISMATCH', async () => {
      await close(await open(ENTRIES));
      // The same document with its fields in another order: another digest, the same chain.
      const reordered = JSON.parse(JSON.stringify({ stateCommitment: 'entry-log', modules: GENESIS.modules, validators: GENESIS.validators, genesisTime: GENESIS.genesisTime, chainId: GENESIS.chainId })) as GenesisDoc;
      const again = await open(reordered);
      expect(again.chain.height).to.equal(0);
      await close(again);
      const err = await expectRejectsCode(() => open(GENESIS), StorageError, StorageErrorCode.Mismatch);
      expect(err.message).to.match(/use a fresh home for this genesis/); // its genesis block, with the tree's root, is another block
    });

    it('a home whose state records are gone is STORAGE_CORRUPT: an entry log cannot be rebuilt from values', async () => {
      const o = await open(ENTRIES);
      await produce(o, []);
      await close(o);
      const kv = await LevelKV.open(join(dir, 'data'));
      const ops: BatchOp[] = [];
      for await (const [k] of kv.entries(bucketRange(Bucket.StateStore))) ops.push({ type: 'del', key: k });
      await kv.batch(ops);
      await kv.close();
      const err = await expectRejectsCode(() => open(ENTRIES), StorageError, StorageErrorCode.Corrupt);
      expect(err.message).to.match(/entry log but no stored state/);
    });
  });
});
