import { expect } from 'chai';
import { join } from 'node:path';
import { toHex, type Transaction } from '../../../../chain/index.js';
import { Blockchain, ConsensusError, ConsensusErrorCode, Mempool, SoloProducer, type CommittedBlock } from '../../../../consensus/index.js';
import type { ValidatorKey } from '../../../../consensus/keys.js';
import type { GenesisDoc } from '../../../../genesis/index.js';
import { ChainStore, LevelKV } from '../../../../storage/index.js';
import { StateMachine } from '../../../../vm/index.js';
import { createModules, type BankModule } from '../../../../vm/modules/index.js';
import { accountKey, addressOf, expectThrowsCode, removeDir, silentLogger, tempDir, testGenesis, transferTx, validatorKey } from '../../fixtures.js';

const VALIDATOR = validatorKey(0);
const ALICE = accountKey(0);
const BOB = accountKey(1);
const CAROL = accountKey(2);
const BALANCES = [{ GEN: 1_000_000n, NEX: 1_000_000n }, { GEN: 100n, NEX: 50_000n }, { NEX: 10_000n }];
const NOW = Date.parse('2026-06-01T00:00:00Z');
/** Long enough that no empty block is ever due during a test; stop() clears the timer. */
const QUIET = { emptyBlockIntervalMs: 3_600_000 };

interface Node {
  chain: Blockchain;
  mempool: Mempool;
  producer: SoloProducer;
  store: ChainStore;
  bank: BankModule;
}

const hashes = (txs: readonly Transaction[]): string[] => txs.map((t) => toHex(t.hash()));

/** Resolves with the next committed block. */
function nextCommit(chain: Blockchain): Promise<CommittedBlock> {
  return new Promise((resolve) => chain.once('committed', resolve));
}

describe('consensus/solo/producer (over LevelDB)', () => {
  let dir: string;
  const nodes: Node[] = [];

  async function node(o: { key?: ValidatorKey; genesis?: GenesisDoc; now?: () => number } = {}): Promise<Node> {
    const genesis = o.genesis ?? testGenesis({ balances: BALANCES, validators: [VALIDATOR] });
    const store = await ChainStore.open(await LevelKV.open(join(dir, `data-${nodes.length}`)));
    const { registry, bank } = createModules();
    const sm = new StateMachine({ chainId: genesis.chainId }, { registry, fees: bank });
    const logger = silentLogger();
    const chain = await Blockchain.open(genesis, { store, sm, logger });
    const mempool = new Mempool({}, { chainId: genesis.chainId, registry, fees: bank, state: () => chain.state, logger });
    const producer = new SoloProducer(QUIET, { chain, mempool, key: o.key ?? VALIDATOR, clock: { now: o.now ?? (() => NOW) }, logger });
    const n = { chain, mempool, producer, store, bank };
    nodes.push(n);
    return n;
  }

  beforeEach(async () => {
    dir = await tempDir('metanode-solo-');
  });
  afterEach(async () => {
    for (const n of nodes.splice(0)) {
      await n.producer.stop();
      await n.store.close();
    }
    await removeDir(dir);
  });

  it('refuses to start unless this node is the only validator', async () => {
    const stranger = await node({ key: validatorKey(1) });
    expect(expectThrowsCode(() => stranger.producer.start(), ConsensusError, ConsensusErrorCode.NotValidator).message).to.match(/exactly this node/);
    const pair = await node({ genesis: testGenesis({ balances: BALANCES, validators: [VALIDATOR, validatorKey(1)] }) });
    expectThrowsCode(() => pair.producer.start(), ConsensusError, ConsensusErrorCode.NotValidator);
  });

  it('turns waiting transactions into a certified block, highest fee first, and empties the mempool', async () => {
    const n = await node();
    n.producer.start();
    const txs = [
      transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 10n, { fee: 1_000n }),
      transferTx(ALICE, 1n, addressOf(BOB), 'GEN', 20n, { fee: 1_000n }),
      transferTx(BOB, 0n, addressOf(CAROL), 'GEN', 30n, { fee: 4_000n }),
      transferTx(BOB, 1n, addressOf(CAROL), 'GEN', 1_000n, { fee: 1_000n }), // an overdraft: included, failed
    ];
    const committed = nextCommit(n.chain);
    for (const t of txs) n.mempool.add(t);
    const { block, receipts } = await committed;
    // 'committed' fires inside chain.commit; the producer updates the mempool after it. stop() waits for that.
    await n.producer.stop();

    expect(block.height).to.equal(1);
    expect(hashes(block.transactions)).to.deep.equal(hashes([txs[2]!, txs[0]!, txs[1]!, txs[3]!]));
    expect(receipts.map((r) => r.errorCode)).to.deep.equal(['', '', '', 'BANK_INSUFFICIENT_FUNDS']);
    expect(n.mempool.size).to.equal(0);
    expect(n.chain.height).to.equal(1);
    expect(block.header.timestamp).to.equal(NOW);
    // The certificate verifies against the stored validator set, as a light client would check it.
    const stored = (await n.store.block(1))!;
    stored.certificate!.verify(n.chain.chainId, n.chain.validatorSet(1), 1, stored.hash());
    expect(n.bank.balance(n.chain.state, addressOf(CAROL), 'GEN')).to.equal(30n);
    expect(n.bank.balance(n.chain.state, VALIDATOR.address, 'NEX')).to.equal(7_000n);
  });

  it('makes the next block from transactions that arrive after a commit', async () => {
    const n = await node();
    n.producer.start();
    let committed = nextCommit(n.chain);
    n.mempool.add(transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 1n));
    await committed;
    committed = nextCommit(n.chain);
    const second = transferTx(ALICE, 1n, addressOf(BOB), 'GEN', 2n);
    n.mempool.add(second);
    const { block } = await committed;
    expect(block.height).to.equal(2);
    expect(hashes(block.transactions)).to.deep.equal(hashes([second]));
    expect(block.header.timestamp, 'the clock stood still: parent + 1').to.equal(NOW + 1);
  });

  it('drops a transaction that can no longer pay its fee, and the later nonces of its sender', async () => {
    const n = await node();
    // Carol has 10 000 NEX: admission sees enough for three fees, but her first transfer spends most of it.
    const spend = transferTx(CAROL, 0n, addressOf(ALICE), 'NEX', 8_500n);
    const unpayable = transferTx(CAROL, 1n, addressOf(ALICE), 'NEX', 1n);
    const after = transferTx(CAROL, 2n, addressOf(ALICE), 'NEX', 1n);
    const other = transferTx(BOB, 0n, addressOf(ALICE), 'GEN', 1n);
    for (const t of [spend, unpayable, after, other]) n.mempool.add(t);
    const committed = nextCommit(n.chain);
    n.producer.start(); // picks up what is already waiting
    const { block } = await committed;
    await n.producer.stop();
    expect(hashes(block.transactions)).to.have.members(hashes([spend, other]));
    expect(n.mempool.size).to.equal(0);
    expect(n.mempool.has(unpayable.hash())).to.equal(false);
    expect(n.mempool.has(after.hash())).to.equal(false);
    expect(n.bank.balance(n.chain.state, addressOf(CAROL), 'NEX')).to.equal(500n);
  });

  it('blocks it produced survive a restart', async () => {
    const n = await node();
    n.producer.start();
    const committed = nextCommit(n.chain);
    n.mempool.add(transferTx(ALICE, 0n, addressOf(BOB), 'GEN', 1n));
    const { block } = await committed;
    await n.producer.stop();
    await n.store.close();
    nodes.splice(nodes.indexOf(n), 1);

    const store = await ChainStore.open(await LevelKV.open(join(dir, 'data-0')));
    const { registry, bank } = createModules();
    const genesis = testGenesis({ balances: BALANCES, validators: [VALIDATOR] });
    const chain = await Blockchain.open(genesis, { store, sm: new StateMachine({ chainId: genesis.chainId }, { registry, fees: bank }), logger: silentLogger() });
    try {
      expect(chain.height).to.equal(1);
      expect(chain.head.hash()).to.deep.equal(block.hash());
      expect(bank.balance(chain.state, addressOf(BOB), 'GEN')).to.equal(101n);
    } finally {
      await store.close();
    }
  });
});
