/**
 * Clock drift: a proposal whose timestamp is further ahead of this validator's clock than the
 * allowed drift is refused (the rule is unchanged), and now the validator says so — a warning
 * (at most once a minute) with the measured offset, the offset gauge and a refusal counter; a
 * proposal far behind its clock warns that its own clock is probably ahead.
 */
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { equalBytes, type Block } from '../../../../chain/index.js';
import { MAX_CLOCK_DRIFT_MS } from '../../../../consensus/blockchain.js';
import { CLOCK_WARNING_INTERVAL_MS, IbftEngine, MemorySignLog, MsgType, SignedMessage, encodeEnvelope } from '../../../../consensus/ibft/index.js';
import { ConsensusMetrics } from '../../../../consensus/metrics.js';
import { Topic, Verdict } from '../../../../p2p/network.js';
import { testGenesis, validatorKey } from '../../fixtures.js';
import { FakeNetwork, ManualTimer, openChain } from '../fakes.js';

const KEYS = [0, 1, 2, 3].map(validatorKey);
const GENESIS = testGenesis({ validators: KEYS });
const HOUR = 3_600_000;

interface LogLine {
  level: number;
  msg: string;
  offsetMs?: number;
  maxDriftMs?: number;
}

describe('IBFT proposal clock drift', () => {
  let timer: ManualTimer;
  let network: FakeNetwork;
  let engine: IbftEngine;
  let registry: Registry;
  let lines: LogLine[];
  /** Builds height 1's block as the round-0 proposer would, stamped `offsetMs` from this node's clock. */
  let proposal: (offsetMs: number) => Promise<Uint8Array>;
  let prepares: () => number;

  beforeEach(async () => {
    const { chain, mempool } = await openChain(GENESIS);
    const proposer = chain.proposer(1, 0).address;
    const proposerKey = KEYS.find((k) => equalBytes(k.address, proposer))!;
    const me = KEYS.find((k) => k !== proposerKey)!;
    timer = new ManualTimer();
    network = new FakeNetwork();
    registry = new Registry();
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
        done();
      },
    });
    engine = new IbftEngine(
      { emptyBlockIntervalMs: HOUR, roundTimeoutMs: HOUR, maxRoundTimeoutMs: HOUR },
      { chain, key: me, signLog: new MemorySignLog(), mempool, network, timer, logger: pino({ level: 'warn' }, sink), metrics: new ConsensusMetrics(registry) },
    );
    await engine.start();
    const { chain: other } = await openChain(GENESIS);
    proposal = async (offsetMs) => {
      const block: Block = other.build(proposer, [], timer.now() + offsetMs).executed.block;
      const message = SignedMessage.sign(GENESIS.chainId, { type: MsgType.Proposal, height: 1, round: 0, digest: block.hash() }, proposer, proposerKey.ed25519);
      return encodeEnvelope({ message, block, roundChanges: [], prepares: [] });
    };
    prepares = () => network.published.filter((p) => p.topic === Topic.Consensus).length;
  });

  afterEach(async () => {
    await engine.stop();
  });

  const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
  const deliver = async (data: Uint8Array) => {
    expect(await network.gossip(Topic.Consensus, data, 'peer')).to.equal(Verdict.Accept);
    await engine.idle();
  };
  const clockWarnings = () => lines.filter((l) => /clock is probably/.test(l.msg));

  it('refuses a proposal stamped beyond the allowed drift ahead, and warns (rate-limited) with the offset, gauge and counter', async () => {
    const ahead = MAX_CLOCK_DRIFT_MS + 5_000;
    await deliver(await proposal(ahead));
    expect(prepares(), 'PREPAREs sent for a refused proposal').to.equal(0);
    expect(await metric('metanode_consensus_clock_offset_ms')).to.equal(ahead);
    expect(await metric('metanode_consensus_proposals_refused_timestamp_total')).to.equal(1);
    expect(clockWarnings().map((l) => [l.offsetMs, l.maxDriftMs])).to.deep.equal([[ahead, MAX_CLOCK_DRIFT_MS]]);
    expect(clockWarnings()[0]!.msg).to.match(/this node's clock is probably behind/);

    // Again within the minute: counted, not warned again.
    timer.advance(1_000);
    await deliver(await proposal(ahead + 1));
    expect(await metric('metanode_consensus_proposals_refused_timestamp_total')).to.equal(2);
    expect(await metric('metanode_consensus_clock_offset_ms')).to.equal(ahead + 1);
    expect(clockWarnings()).to.have.length(1);

    // After the interval, warned again.
    timer.advance(CLOCK_WARNING_INTERVAL_MS);
    await deliver(await proposal(ahead + 2));
    expect(await metric('metanode_consensus_proposals_refused_timestamp_total')).to.equal(3);
    expect(clockWarnings().map((l) => l.offsetMs)).to.deep.equal([ahead, ahead + 2]);
  });

  it('accepts a proposal within the drift: the gauge has its offset, nothing is refused or warned', async () => {
    await deliver(await proposal(MAX_CLOCK_DRIFT_MS - 1_000));
    expect(prepares(), 'PREPARE sent').to.equal(1);
    expect(await metric('metanode_consensus_clock_offset_ms')).to.equal(MAX_CLOCK_DRIFT_MS - 1_000);
    expect(await metric('metanode_consensus_proposals_refused_timestamp_total')).to.equal(0);
    expect(clockWarnings()).to.deep.equal([]);
  });

  it('accepts a proposal stamped far behind this node\'s clock (the rule bounds only the future), and warns that this clock is probably ahead', async () => {
    const behind = -(MAX_CLOCK_DRIFT_MS + 10_000);
    await deliver(await proposal(behind));
    expect(prepares(), 'PREPARE sent').to.equal(1);
    expect(await metric('metanode_consensus_clock_offset_ms')).to.equal(behind);
    expect(await metric('metanode_consensus_proposals_refused_timestamp_total')).to.equal(0);
    expect(clockWarnings().map((l) => l.offsetMs)).to.deep.equal([behind]);
    expect(clockWarnings()[0]!.msg).to.match(/this node's clock is probably ahead, and the other validators refuse its proposals/);
  });
});
