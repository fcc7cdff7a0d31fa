/**
 * Hand-built, deterministic scenarios on the simulator: each steers specific messages (by type,
 * height, round and link) to force one corner of the protocol, then checks safety and liveness.
 */
import { expect } from 'chai';
import { CommitCertificate, commitVoteMessage, toHex } from '../../../../chain/index.js';
import { MsgType, SignedMessage, decodeEnvelope, encodeEnvelope, type MessageBody } from '../../../../consensus/ibft/index.js';
import { Topic } from '../../../../p2p/network.js';
import { InvariantViolation, Simulation, findDoubleSigns, journalProblems, simProposer } from '../sim/index.js';

/** A rule over consensus messages only (block gossip passes unless `dropBlocksTo` names the recipient). */
function consensusRule(sim: Simulation, decide: (m: MessageBody, from: string, to: string) => 'drop' | number | undefined, dropBlocksTo?: (to: string) => boolean): void {
  sim.hub.setRule((from, to, topic, data) => {
    if (topic === Topic.Blocks && dropBlocksTo?.(to)) return 'drop';
    if (topic !== Topic.Consensus) return undefined;
    return decide(decodeEnvelope(data).message.body, from, to);
  });
}

/** Block sync that never polls within these tests: consensus alone has to do it. */
const NO_SYNC = { pollIntervalMs: 10_000_000 };

describe('IBFT scenarios', () => {
  for (const n of [4, 7]) {
    it(`n = ${n}: a block committed by one node in round 0 is the block every other node commits after the round change`, async () => {
      // COMMITs of round 0 reach only node A: A decides; the others never see a commit quorum, time
      // out and change round. Their prepared certificates must force the new proposer to
      // re-propose the same block; a fresh block would fork A away from them.
      const sim = await Simulation.create({ n, seed: 1, sync: NO_SYNC });
      const p0 = sim.proposerOf(1, 0);
      const a = `v${(p0 + 1) % n}`;
      consensusRule(sim, (m, _from, to) => (m.height === 1 && m.round === 0 && m.type === MsgType.Commit && to !== a ? 'drop' : undefined));
      expect(await sim.runUntilHeight(1, 60_000), sim.trace()).to.equal(true);
      await sim.checkAll();
      const atOne = sim.commits.filter((c) => c.height === 1);
      expect(atOne.find((c) => c.node === a)!.round).to.equal(0);
      expect(atOne.filter((c) => c.node !== a).every((c) => c.round > 0), 'the others decided in a later round').to.equal(true);
      expect(new Set(atOne.map((c) => c.hash)).size).to.equal(1);
    });
  }

  it('prepared certificates survive a restart: validators that prepared, crashed and came back still carry them', async () => {
    // As above, node A alone decides block B in round 0. The other three prepared B (and sent
    // COMMITs nobody received), then crash and restart before their round timer fires. Only their
    // sign logs remember that they prepared B: their ROUND-CHANGEs must still carry it.
    // After the restart, nothing of round 0 gets through (the proposal and PREPAREs the restarted
    // nodes re-send would let them re-derive it): only the sign log can tell them.
    const n = 4;
    const sim = await Simulation.create({ n, seed: 1, sync: NO_SYNC });
    const a = (sim.proposerOf(1, 0) + 1) % n;
    const others = [0, 1, 2, 3].filter((i) => i !== a);
    let restarted = false;
    consensusRule(sim, (m, _from, to) => {
      if (m.height !== 1 || m.round !== 0) return undefined;
      return restarted || (m.type === MsgType.Commit && to !== `v${a}`) ? 'drop' : undefined;
    });
    const committedRound0 = (i: number) => sim.nodes[i]!.journal.some((r) => r.height === 1 && r.round === 0 && r.type === MsgType.Commit);
    expect(await sim.runUntil(() => others.every(committedRound0) && sim.nodes[a]!.height === 1, 10_000), sim.trace()).to.equal(true);
    for (const i of others) sim.crash(i);
    restarted = true;
    await sim.runFor(100);
    for (const i of others) await sim.restart(i);
    expect(await sim.runUntilHeight(1, 60_000), sim.trace()).to.equal(true);
    await sim.checkAll();
    expect(new Set(sim.commits.filter((c) => c.height === 1).map((c) => c.hash)).size).to.equal(1);
    expect(sim.commits.filter((c) => c.height === 1 && c.node !== `v${a}`).every((c) => c.round > 0)).to.equal(true);
  });

  it('a validator whose COMMIT seals are bad is penalised, and the others still commit with the remaining quorum', async () => {
    // Seals are checked as one aggregate when a quorum of COMMITs is in; a bad seal makes the
    // aggregate fail, and only then are the seals checked one by one. Here one of four validators
    // signs its COMMITs properly (Ed25519) but seals them over the wrong block: every other node
    // must find it, drop it, and commit with the three good seals.
    const n = 4;
    const sim = await Simulation.create({ n, seed: 3, sync: NO_SYNC, byzantine: [0] });
    const byz = sim.nodes[0]!;
    let forged = 0;
    sim.hub.setInterceptor(byz.id, (topic, data) => {
      if (topic !== Topic.Consensus) return [data];
      const env = decodeEnvelope(data);
      const m = env.message.body;
      if (m.type !== MsgType.Commit) return [data];
      forged++;
      const seal = byz.key.bls.sign(commitVoteMessage(sim.genesis.chainId, m.height, m.round, new Uint8Array(32).fill(7)));
      const message = SignedMessage.sign(sim.genesis.chainId, { ...m, seal }, byz.key.address, byz.key.ed25519);
      return [encodeEnvelope({ ...env, message })];
    });
    // One honest validator's COMMITs come late, so that the bad seal is in every node's first quorum.
    consensusRule(sim, (m, from) => (m.type === MsgType.Commit && from === 'v1' ? 300 : undefined));
    expect(await sim.runUntilHeight(3, 60_000), sim.trace()).to.equal(true);
    await sim.checkAll();
    expect(forged).to.be.greaterThan(0);
    for (const node of sim.correct) {
      expect(node.warnings.get('dropped consensus message'), `${node.id} found the bad seals`).to.be.greaterThan(0);
      for (const c of sim.commits.filter((x) => x.node === node.id && x.height <= 3)) expect(c.round, `${node.id} decided height ${c.height} without a round change`).to.equal(0);
    }
  });

  it('a round-1 PROPOSAL of a fresh block, when the ROUND-CHANGEs carry a prepared one, is refused', async () => {
    // Everyone is prepared on block B in round 0, but no COMMIT gets through. The byzantine round-1
    // proposer then sends everyone a fresh block B' with a genuine quorum of ROUND-CHANGEs (which
    // carry B's prepared certificate). Correct nodes must refuse it; B is what gets committed.
    const n = 4;
    const p1 = simProposer(n, 1, 1);
    const sim = await Simulation.create({ n, seed: 2, sync: NO_SYNC, byzantine: [p1] });
    const byz = sim.nodes[p1]!;
    let forged = 0;
    sim.hub.setInterceptor(byz.id, (topic, data) => {
      if (topic !== Topic.Consensus) return [data];
      const env = decodeEnvelope(data);
      const m = env.message.body;
      if (m.type !== MsgType.Proposal || m.height !== 1 || m.round !== 1) return [data];
      const { executed } = byz.life!.chain.build(byz.key.address, [], env.block!.header.timestamp + 1);
      const fresh = executed.block;
      forged++;
      const message = SignedMessage.sign(sim.genesis.chainId, { ...m, digest: fresh.hash() }, byz.key.address, byz.key.ed25519);
      return [encodeEnvelope({ ...env, message, block: fresh })];
    });
    consensusRule(sim, (m) => (m.height === 1 && m.round === 0 && m.type === MsgType.Commit ? 'drop' : undefined));
    expect(await sim.runUntilHeight(1, 120_000), sim.trace()).to.equal(true);
    await sim.checkAll();
    expect(forged, 'the byzantine proposer sent its fresh block').to.be.greaterThan(0);
    const round0 = sim.hub.wire.map((w) => decodeEnvelope(w.data)).find((e) => e.message.body.type === MsgType.Proposal && e.message.body.round === 0)!;
    expect(sim.canonical.get(1), 'the prepared block survives the round change').to.equal(toHex(round0.message.body.digest!));
    for (const c of sim.commits.filter((c) => c.height === 1 && c.node !== byz.id)) expect(c.round, `${c.node} did not decide in round 1`).to.be.at.least(2);
    for (const node of sim.correct) expect(node.warnings.get('dropped consensus message'), `${node.id} refused the proposal`).to.be.greaterThan(0);
  });

  it('a node that gets a quorum of COMMITs before the PROPOSAL decides when the proposal arrives', async () => {
    // Node X misses every PREPARE and gets the PROPOSAL late, after the COMMITs; block gossip and
    // block sync are off. Deciding is "a quorum of COMMITs for the accepted proposal", whatever
    // the order they came in: X must commit height 1 without help.
    const n = 4;
    const sim = await Simulation.create({ n, seed: 1, sync: NO_SYNC });
    const x = `v${(sim.proposerOf(1, 0) + 1) % n}`;
    consensusRule(
      sim,
      (m, _from, to) => {
        if (to !== x || m.height !== 1) return undefined;
        if (m.type === MsgType.Prepare) return 'drop';
        if (m.type === MsgType.Proposal) return 500;
        return undefined;
      },
      (to) => to === x,
    );
    expect(await sim.runUntilHeight(1, 10_000), sim.trace()).to.equal(true);
    const mine = sim.commits.find((c) => c.node === x && c.height === 1)!;
    expect(mine.round).to.equal(0);
    await sim.checkAll();
  });

  it('a validator that executed the proposal but misses the COMMITs commits with the announced certificate, fetching nothing', async () => {
    // Node X gets no COMMIT at height 1; the proposer's block announcement carries the commit
    // certificate. X holds the block as a proposal it executed, so the certificate alone commits it,
    // in round 0, without a block request (and without block sync, which is off).
    const n = 4;
    const sim = await Simulation.create({ n, seed: 3, sync: NO_SYNC });
    const x = `v${(sim.proposerOf(1, 0) + 1) % n}`;
    consensusRule(sim, (m, _from, to) => (to === x && m.height === 1 && m.type === MsgType.Commit ? 'drop' : undefined));
    expect(await sim.runUntilHeight(1, 10_000), sim.trace()).to.equal(true);
    const mine = sim.commits.find((c) => c.node === x && c.height === 1)!;
    expect(mine.round, 'no round change').to.equal(0);
    expect(sim.hub.stats.requests, 'no block was fetched').to.equal(0);
    await sim.checkAll();
  });

  it('a validator committing a block with its own quorum\'s certificate does not check the announced certificate of it again', async () => {
    // One node commits at once, the others take 200 ms to (a slow disk). At the heights the fast
    // node proposes, its announcement reaches the others while they are committing the same block
    // with the certificate they built and checked themselves: each node checks one certificate per
    // height (its own quorum's), not also the announced one.
    const n = 4;
    const heights = 6;
    const probe = await Simulation.create({ n, seed: 5, sync: NO_SYNC });
    const fast = `v${probe.proposerOf(1, 0)}`;
    const sim = await Simulation.create({ n, seed: 5, sync: NO_SYNC, commitDelayMs: (node) => (node === fast ? 0 : 200) });
    const verify = CommitCertificate.prototype.verify;
    let checks = 0;
    CommitCertificate.prototype.verify = function (this: CommitCertificate, ...args: Parameters<CommitCertificate['verify']>) {
      // The simulation's own invariant check of each committed block is not the node's, nor is a
      // proposal's lastCommit check (the previous height's certificate, part of validating it).
      const stack = new Error().stack!;
      if (!stack.includes('certificateProblem') && !stack.includes('Blockchain.validate')) checks++;
      return verify.apply(this, args);
    };
    try {
      expect(await sim.runUntilHeight(heights, 60_000), sim.trace()).to.equal(true);
    } finally {
      CommitCertificate.prototype.verify = verify;
    }
    expect(sim.commits.filter((c) => c.height <= heights && c.round === 0)).to.have.length(n * heights);
    expect(checks, 'certificate checks').to.equal(n * heights);
    await sim.checkAll();
  });

  it('a validator that never saw the proposal fetches the announced block and imports it', async () => {
    const n = 4;
    const sim = await Simulation.create({ n, seed: 3, sync: NO_SYNC });
    const x = `v${(sim.proposerOf(1, 0) + 1) % n}`;
    consensusRule(sim, (m, _from, to) => (to === x && m.height === 1 && (m.type === MsgType.Commit || m.type === MsgType.Proposal) ? 'drop' : undefined));
    expect(await sim.runUntilHeight(1, 10_000), sim.trace()).to.equal(true);
    expect(sim.commits.find((c) => c.node === x && c.height === 1)!.round).to.equal(0);
    expect(sim.hub.stats.requests, 'the block was fetched').to.be.at.least(1);
    await sim.checkAll();
  });

  it('crash-recovering validators cannot fork the chain by acting before they have read their sign log', async () => {
    // P proposes B in round 0 of height 1. Only P receives PREPAREs, so only P is prepared; no
    // COMMIT gets through. Everyone times out; X and Z send ROUND-CHANGEs to round 1 without a
    // prepared certificate (P's, with one, never reaches Y, the round-1 proposer). X, Z and P
    // crash; X and Z restart on a slow disk, and P's restart re-sends its round-0 messages
    // while X and Z are still reading their sign logs. A node that handles them then — before it
    // knows it already left round 0 — prepares and commits B in round 0, and P decides B; then
    // X and Z resume round 1 and help Y decide a different block: a fork with no byzantine node.
    const n = 4;
    const sim = await Simulation.create({ n, seed: 1, sync: NO_SYNC });
    const P = sim.proposerOf(1, 0);
    const Y = sim.proposerOf(1, 1);
    const [X, Z] = [0, 1, 2, 3].filter((i) => i !== P && i !== Y) as [number, number];
    const id = (i: number) => `v${i}`;
    let phase = 1;
    consensusRule(
      sim,
      (m, from, to) => {
        if (m.height !== 1) return undefined;
        if (m.type === MsgType.RoundChange && to === id(Y)) return from === id(P) ? 'drop' : 1_500;
        if (m.round !== 0) return undefined;
        if (phase === 1 && m.type === MsgType.Proposal && to === id(Y)) return 'drop';
        if (phase === 1 && m.type === MsgType.Prepare && to !== id(P)) return 'drop';
        if (m.type === MsgType.Commit && (phase === 1 || to !== id(P))) return 'drop';
        return undefined;
      },
      () => true,
    );
    const sentRoundChange = (i: number) => sim.nodes[i]!.journal.some((r) => r.type === MsgType.RoundChange);
    expect(await sim.runUntil(() => sentRoundChange(X) && sentRoundChange(Z), 10_000)).to.equal(true);
    sim.crash(X);
    sim.crash(Z);
    sim.crash(P);
    phase = 2;
    await sim.runFor(50);
    await sim.restart(X, { stallMs: 500 });
    await sim.restart(Z, { stallMs: 500 });
    await sim.runFor(50);
    await sim.restart(P);
    await sim.runFor(5_000);
    await sim.checkAll();
    expect(journalProblems(id(X), sim.nodes[X]!.journal)).to.deep.equal([]);
    expect(sim.canonical.size, sim.trace()).to.be.greaterThan(0);
  });

  it('a validator a whole round ahead of the others, with round timeouts at their cap, does not keep the others from committing', async () => {
    // One of four validators is down, so the three others must meet in one round to commit. Rounds
    // time out at the cap from round 1 on. Two of them stall (crash and come back from their sign
    // logs) for a little more than a round, so the third is then a whole timeout ahead: it leaves
    // each round just before they arrive in it. With every timeout equal, that lead would last for
    // ever (a lone validator ahead is not f + 1, so nobody follows it): the timeouts must keep
    // growing past the cap, however slowly, for the three to meet.
    const n = 4;
    const T = 2_000;
    const sim = await Simulation.create({ n, seed: 5, sync: NO_SYNC, ibft: { roundTimeoutMs: T, maxRoundTimeoutMs: T, emptyBlockIntervalMs: 1_000 } });
    const [down, ahead, b, c] = [0, 1, 2, 3];
    sim.crash(down);
    let hold = true;
    consensusRule(sim, (m) => (hold && m.height === 1 ? 'drop' : undefined));
    await sim.runFor(4 * T); // every round fails while nothing gets through: all three move on together
    sim.crash(b);
    sim.crash(c);
    await sim.runFor(T + 100);
    await sim.restart(b);
    await sim.restart(c);
    hold = false;
    const live = [ahead, b, c].map((i) => sim.nodes[i]!);
    expect(await sim.runUntilHeight(1, 40 * T, live), sim.trace()).to.equal(true);
    await sim.checkAll();
    expect(new Set(sim.commits.filter((x) => x.height === 1).map((x) => x.hash)).size).to.equal(1);
  });

  describe('sign log', () => {
    async function restartedProposer(forget: boolean) {
      const sim = await Simulation.create({ n: 4, seed: 3 });
      const p = sim.proposerOf(2, 0);
      expect(await sim.runUntil(() => sim.sentBy(p, 2, 0, MsgType.Proposal) > 0, 30_000)).to.equal(true);
      sim.crash(p);
      if (forget) sim.nodes[p]!.forgetSignLog();
      await sim.runFor(100);
      await sim.restart(p);
      await sim.runFor(3_000);
      return sim;
    }

    it('a proposer restarted right after proposing re-sends the same PROPOSAL', async () => {
      const sim = await restartedProposer(false);
      expect(findDoubleSigns(sim.hub.wire.map((w) => w.data))).to.deep.equal([]);
      await sim.checkAll();
    });

    it('without its sign log, the same restart signs a second, different PROPOSAL (the checks catch it)', async () => {
      const sim = await restartedProposer(true);
      const doubles = findDoubleSigns(sim.hub.wire.map((w) => w.data));
      expect(doubles.map((d) => [d.height, d.round, d.type])).to.deep.include([2, 0, MsgType.Proposal]);
      let err: unknown;
      try {
        await sim.checkAll();
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(InvariantViolation);
      expect((err as Error).message).to.match(/signed conflicting messages/);
    });
  });

  describe('block sync and stopping', () => {
    it('a peer that answers a block request with blocks the node already has does not hold the sync round forever', async () => {
      const sim = await Simulation.create({ n: 4, seed: 6, sync: NO_SYNC });
      expect(await sim.runUntilHeight(1, 10_000)).to.equal(true);
      sim.partition([[3]]);
      expect(await sim.runUntilHeight(4, 30_000, sim.nodes.slice(0, 3))).to.equal(true);
      sim.heal();
      // Node 0 turns bad: it claims the highest head and serves only block 1, which node 3 has.
      const bad = sim.nodes[0]!.life!;
      const stale = (await bad.chain.blocks.block(1))!.serialize();
      bad.network.serveStatus(() => ({ height: 1_000, chainId: sim.genesis.chainId }));
      bad.network.serveBlocks(async () => [stale]);
      const life = sim.nodes[3]!.life!;
      expect(life.chain.height).to.equal(1);
      let done = false;
      void life.sync.poll().finally(() => (done = true));
      await sim.runFor(30_000);
      expect(done, 'the sync round ended').to.equal(true);
      expect(sim.hub.stats.requests, 'and stopped asking').to.be.below(20);
    });


    it('importBlock on a stopped engine rejects instead of waiting forever', async () => {
      const sim = await Simulation.create({ n: 4, seed: 4 });
      expect(await sim.runUntilHeight(2, 20_000)).to.equal(true);
      const block = (await sim.nodes[0]!.life!.chain.blocks.block(2))!;
      const life = sim.nodes[3]!.life!;
      await life.engine.stop();
      let outcome = 'pending';
      life.engine.importBlock(block).then(
        () => (outcome = 'resolved'),
        (e: unknown) => (outcome = `rejected: ${(e as Error).message}`),
      );
      await sim.runFor(1_000);
      expect(outcome).to.match(/^rejected: consensus is stopped/);
    });

    it('a block-sync round in flight finishes when consensus stops under it', async () => {
      // Node L is cut off and falls behind; once reachable again, one sync round asks a peer for
      // the missing blocks. Consensus stops while the answer is on the wire: the round must end
      // (so that BlockSync.stop can), not wait on an import that will never run.
      const sim = await Simulation.create({ n: 4, seed: 5, sync: NO_SYNC });
      sim.partition([[3]]);
      expect(await sim.runUntilHeight(4, 30_000, sim.nodes.slice(0, 3))).to.equal(true);
      sim.heal();
      const life = sim.nodes[3]!.life!;
      let done = false;
      void life.sync.poll().finally(() => (done = true));
      await sim.runUntil(() => sim.hub.stats.requests >= 4, 10_000); // three status requests, then the block request
      await life.engine.stop();
      await sim.runFor(10_000);
      expect(done, 'the sync round ended').to.equal(true);
      expect(life.chain.height).to.be.lessThan(4);
    });
  });
});
