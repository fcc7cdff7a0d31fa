import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { Mempool, MempoolError, RejectReason, TxJournal } from '../../../consensus/index.js';
import { TxIntake } from '../../../node/intake.js';
import { CHAIN_ID, accountKey, addressOf, blockInfo, genesisVm, removeDir, silentLogger, tempDir, testGenesis, transferTx } from '../fixtures.js';

const KEY = accountKey(0);
const TO = addressOf(accountKey(9));

/** A relay that records what it was asked to send. */
class RecordingRelay {
  readonly sent: Uint8Array[] = [];
  relay(raw: Uint8Array): void {
    this.sent.push(raw);
  }
}

describe('node/intake TxIntake', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('metanode-intake-');
  });
  afterEach(async () => removeDir(dir));

  function setup(journal: TxJournal | undefined, peers = 0) {
    const vm = genesisVm(testGenesis({ balances: [{ GEN: 1_000_000n, NEX: 1_000_000n }] }));
    const mempool = new Mempool({}, { chainId: CHAIN_ID, registry: vm.registry, fees: vm.bank, state: () => vm.world, logger: silentLogger() });
    const relay = new RecordingRelay();
    const chain = new EventEmitter();
    const intake = new TxIntake({ mempool, journal, relay, network: { peers: () => Array.from({ length: peers }, (_, i) => ({ id: String(i) })) }, chain: chain as never, logger: silentLogger() });
    return { vm, mempool, relay, intake };
  }
  const txs = (n: number, from = 0) => Array.from({ length: n }, (_, i) => transferTx(KEY, BigInt(from + i), TO, 'GEN', 1n));

  it('journals what it admits before answering, relays it, and a restart admits it again', async () => {
    const { journal } = await TxJournal.open(dir);
    const a = setup(journal);
    const sent = txs(3);
    const results = await a.intake.submitMany([...sent.map((t) => t.serialize()), sent[0]!.serialize()]);
    expect(results.slice(0, 3).every((r) => !(r instanceof MempoolError))).to.equal(true);
    expect((results[3] as MempoolError).reason).to.equal(RejectReason.Duplicate);
    expect(a.relay.sent).to.have.length(3);
    // "kill -9": nothing is closed; a new process opens the journal.
    const reopened = await TxJournal.open(dir);
    expect(reopened.raws).to.have.length(3);
    const b = setup(reopened.journal, 1);
    await b.intake.replay(reopened.raws);
    expect(b.mempool.size).to.equal(3);
    b.intake.start();
    await new Promise((r) => setTimeout(r, 400));
    expect(b.relay.sent, 'relayed once a peer is connected').to.have.length(3);
    await b.intake.stop();
    await journal.close();
  });

  it('a replay skips what was committed meanwhile, and compacts the journal to what is still pending', async () => {
    const { journal } = await TxJournal.open(dir);
    const a = setup(journal);
    const sent = txs(4);
    await a.intake.submitMany(sent.map((t) => t.serialize()));
    await journal.close();
    const reopened = await TxJournal.open(dir);
    const b = setup(reopened.journal);
    // The first two were committed before the restart: the state's nonce is 2.
    const r = b.vm.sm.execute(b.vm.world, blockInfo(1, new Uint8Array(20)), sent.slice(0, 2));
    b.vm.world.apply(r.writes, r.tree, 1);
    await b.intake.replay(reopened.raws);
    expect(b.mempool.size).to.equal(2);
    await b.intake.stop();
    const last = await TxJournal.open(dir);
    expect(last.raws.map((x) => Buffer.from(x).toString('hex'))).to.deep.equal(sent.slice(2).map((t) => Buffer.from(t.serialize()).toString('hex')));
    await last.journal.close();
  });

  it('a clean stop compacts the journal to what the pool still holds (the next start replays no committed transaction)', async () => {
    const { journal } = await TxJournal.open(dir);
    const a = setup(journal);
    const sent = txs(5);
    await a.intake.submitMany(sent.map((t) => t.serialize()));
    a.intake.start();
    // Three are committed: the pool drops them, the journal still holds all five.
    const r = a.vm.sm.execute(a.vm.world, blockInfo(1, new Uint8Array(20)), sent.slice(0, 3));
    a.vm.world.apply(r.writes, r.tree, 1);
    a.mempool.update(sent.slice(0, 3));
    expect(a.mempool.size).to.equal(2);
    await a.intake.stop();
    const reopened = await TxJournal.open(dir);
    expect(reopened.raws.map((x) => Buffer.from(x).toString('hex'))).to.deep.equal(sent.slice(3).map((t) => Buffer.from(t.serialize()).toString('hex')));
    await reopened.journal.close();
  });

  it('a transaction the journal cannot store is refused (TX_NOT_STORED) and taken out of the pool, not relayed', async () => {
    const { journal } = await TxJournal.open(dir);
    await journal.close(); // appends now fail, as on a failing disk
    const a = setup(journal);
    const [r] = await a.intake.submitMany([txs(1)[0]!.serialize()]);
    expect(r).to.be.instanceOf(MempoolError);
    expect((r as MempoolError).reason).to.equal(RejectReason.NotStored);
    expect(a.mempool.size).to.equal(0);
    expect(a.relay.sent).to.have.length(0);
  });
});
