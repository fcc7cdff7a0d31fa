/**
 * Tests of the simulator itself: the PRNG, the clock and event queue, the simulated network's
 * fault model, the invariant checkers (each shown to fire on a planted violation) and the
 * determinism of a whole run.
 */
import { expect } from 'chai';
import { Block, BlockHeader, CommitCertificate, commitVoteMessage, toHex } from '../../../../chain/index.js';
import type { ValidatorKey } from '../../../../consensus/keys.js';
import { MsgType, SignedMessage, encodeEnvelope, type MessageBody } from '../../../../consensus/ibft/index.js';
import { Topic, Verdict } from '../../../../p2p/network.js';
import {
  InvariantViolation,
  Prng,
  RELIABLE,
  Scheduler,
  SimHub,
  SimRequestError,
  Simulation,
  VirtualTimer,
  findDoubleSigns,
  journalProblems,
  simValidatorKey,
  type SignRecord,
} from './index.js';

const CHAIN = 'metanode-sim';

function message(key: ValidatorKey, body: MessageBody): Uint8Array {
  return encodeEnvelope({ message: SignedMessage.sign(CHAIN, body, key.address, key.ed25519), roundChanges: [], prepares: [] });
}

describe('simulator', () => {
  describe('Prng', () => {
    it('is a pure function of its seed', () => {
      const a = new Prng(42);
      const b = new Prng(42);
      const xs = Array.from({ length: 100 }, () => a.nextU32());
      expect(Array.from({ length: 100 }, () => b.nextU32())).to.deep.equal(xs);
      const c = new Prng(43);
      expect(Array.from({ length: 100 }, () => c.nextU32())).to.not.deep.equal(xs);
    });

    it('matches the mulberry32 reference output', () => {
      // mulberry32(1): the first outputs of the published reference implementation.
      const p = new Prng(1);
      expect([p.nextU32(), p.nextU32(), p.nextU32()]).to.deep.equal([2693262067, 11749833, 2265367787]);
    });

    it('keeps int() within its inclusive bounds and reaches both ends', () => {
      const p = new Prng(7);
      const seen = new Set<number>();
      for (let i = 0; i < 2000; i++) {
        const x = p.int(3, 9);
        expect(x).to.be.within(3, 9);
        seen.add(x);
      }
      expect([...seen].sort()).to.deep.equal([3, 4, 5, 6, 7, 8, 9]);
    });

    it('chance(p) happens about p of the time, never for 0', () => {
      const p = new Prng(9);
      let hits = 0;
      for (let i = 0; i < 10_000; i++) if (p.chance(0.25)) hits++;
      expect(hits).to.be.within(2300, 2700);
      expect(Array.from({ length: 1000 }, () => p.chance(0)).some(Boolean)).to.equal(false);
    });

    it('shuffles into a permutation', () => {
      const p = new Prng(3);
      const xs = [1, 2, 3, 4, 5, 6, 7, 8];
      const s = p.shuffle(xs);
      expect([...s].sort()).to.deep.equal(xs);
      expect(xs).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });

  describe('Scheduler and VirtualTimer', () => {
    it('fires events in time order, ties in insertion order, and moves the clock to each', () => {
      const s = new Scheduler(1000);
      const log: string[] = [];
      s.at(30, () => log.push(`c@${s.now}`));
      s.at(10, () => log.push(`a@${s.now}`));
      s.at(10, () => log.push(`b@${s.now}`));
      s.at(0, () => log.push(`z@${s.now}`));
      while (s.step());
      expect(log).to.deep.equal(['z@1000', 'a@1010', 'b@1010', 'c@1030']);
      expect(s.fired).to.equal(4);
    });

    it('skips cancelled events and refuses to schedule into the past', () => {
      const s = new Scheduler(0);
      const log: number[] = [];
      const h = s.at(5, () => log.push(5));
      s.at(6, () => log.push(6));
      s.cancel(h);
      while (s.step());
      expect(log).to.deep.equal([6]);
      expect(() => s.at(-1, () => undefined)).to.throw(RangeError);
    });

    it('a timer reads the shared clock, clears its timeouts, and a killed timer fires nothing', () => {
      const s = new Scheduler(500);
      const t = new VirtualTimer(s);
      const log: string[] = [];
      t.setTimeout(() => log.push(`x@${t.now()}`), 100);
      const h = t.setTimeout(() => log.push('cleared'), 50);
      t.clearTimeout(h);
      s.step();
      expect(log).to.deep.equal(['x@600']);
      t.setTimeout(() => log.push('after kill'), 10);
      expect(t.pending).to.equal(1);
      t.kill();
      t.setTimeout(() => log.push('set after kill'), 10);
      while (s.step());
      expect(log).to.deep.equal(['x@600']);
    });
  });

  describe('SimHub', () => {
    function hub(seed = 1) {
      const s = new Scheduler(0);
      const h = new SimHub(s, new Prng(seed), ['a', 'b', 'c']);
      const eps = { a: h.attach('a'), b: h.attach('b'), c: h.attach('c') };
      const got: { to: string; from: string; at: number; data: string }[] = [];
      for (const [id, ep] of Object.entries(eps)) {
        ep.subscribe(Topic.Consensus, (data, from) => {
          got.push({ to: id, from, at: s.now, data: toHex(data) });
          return Verdict.Accept;
        });
      }
      const run = () => {
        while (s.step());
      };
      return { s, h, eps, got, run };
    }

    it('delivers a publish to every other node, not to the sender, within the latency bounds', async () => {
      const { h, eps, got, run } = hub();
      h.setFaults({ drop: 0, duplicate: 0, minLatencyMs: 20, maxLatencyMs: 40 });
      await eps.a.publish(Topic.Consensus, Uint8Array.of(1));
      run();
      expect(got.map((g) => g.to).sort()).to.deep.equal(['b', 'c']);
      for (const g of got) {
        expect(g.from).to.equal('a');
        expect(g.at).to.be.within(20, 40);
      }
    });

    it('drops everything at drop = 1 and duplicates everything at duplicate = 1', async () => {
      const lossy = hub();
      lossy.h.setFaults({ ...RELIABLE, drop: 1 });
      for (let i = 0; i < 10; i++) await lossy.eps.a.publish(Topic.Consensus, Uint8Array.of(i));
      lossy.run();
      expect(lossy.got).to.have.length(0);
      expect(lossy.h.stats.dropped).to.equal(20);

      const dup = hub();
      dup.h.setFaults({ ...RELIABLE, duplicate: 1 });
      await dup.eps.a.publish(Topic.Consensus, Uint8Array.of(1));
      dup.run();
      expect(dup.got).to.have.length(4);
    });

    it('reorders messages with random latency, identically for the same seed', async () => {
      const orders: string[][] = [];
      for (const seed of [5, 5, 6]) {
        const { h, eps, got, run } = hub(seed);
        h.setFaults({ drop: 0, duplicate: 0, minLatencyMs: 1, maxLatencyMs: 1000 });
        for (let i = 0; i < 20; i++) await eps.a.publish(Topic.Consensus, Uint8Array.of(i));
        run();
        orders.push(got.filter((g) => g.to === 'b').map((g) => g.data));
      }
      const sent = Array.from({ length: 20 }, (_, i) => toHex(Uint8Array.of(i)));
      expect(orders[0]).to.not.deep.equal(sent);
      expect([...orders[0]!].sort()).to.deep.equal([...sent].sort());
      expect(orders[1]).to.deep.equal(orders[0]);
      expect(orders[2]).to.not.deep.equal(orders[0]);
    });

    it('partitions: nothing crosses groups until healed', async () => {
      const { h, eps, got, run } = hub();
      h.partition([['a'], ['b', 'c']]);
      await eps.a.publish(Topic.Consensus, Uint8Array.of(1));
      await eps.b.publish(Topic.Consensus, Uint8Array.of(2));
      run();
      expect(got.map((g) => `${g.from}>${g.to}`)).to.deep.equal(['b>c']);
      expect(eps.a.peers()).to.deep.equal([]);
      h.heal();
      await eps.a.publish(Topic.Consensus, Uint8Array.of(3));
      run();
      expect(got.filter((g) => g.from === 'a').map((g) => g.to).sort()).to.deep.equal(['b', 'c']);
    });

    it('loses messages in flight to a node that goes down, and a dead endpoint neither sends nor receives', async () => {
      const { h, eps, got, s } = hub();
      await eps.a.publish(Topic.Consensus, Uint8Array.of(1));
      h.detach('b');
      while (s.step());
      expect(got.map((g) => g.to)).to.deep.equal(['c']);
      await eps.b.publish(Topic.Consensus, Uint8Array.of(2));
      while (s.step());
      expect(got).to.have.length(1);
      expect(h.isUp('b')).to.equal(false);
    });

    it('a rule can drop or pin the latency of chosen messages, before the random faults', async () => {
      const { h, eps, got, run } = hub();
      h.setFaults({ ...RELIABLE, drop: 1 });
      h.setRule((_from, to) => (to === 'b' ? 777 : 'drop'));
      await eps.a.publish(Topic.Consensus, Uint8Array.of(1));
      run();
      expect(got.map((g) => `${g.to}@${g.at}`)).to.deep.equal(['b@777']);
    });

    it('answers requests after a round trip, and times them out when the peer is unreachable', async () => {
      const { h, eps, s } = hub();
      eps.b.serveStatus(() => ({ height: 7, chainId: 'x' }));
      eps.b.serveBlocks(async (from, to) => [Uint8Array.of(from, to)]);
      const status = eps.a.requestStatus('b');
      const blocks = eps.a.requestBlocks('b', 2, 3);
      while (s.step()) await new Promise((r) => setImmediate(r));
      expect(await status).to.deep.equal({ height: 7, chainId: 'x' });
      expect(await blocks).to.deep.equal([Uint8Array.of(2, 3)]);

      h.partition([['a'], ['b']]);
      const lost = eps.a.requestStatus('b').then(
        () => 'answered',
        (e: unknown) => (e instanceof SimRequestError ? `timeout@${s.now}` : 'other'),
      );
      const t0 = s.now;
      while (s.step()) await new Promise((r) => setImmediate(r));
      expect(await lost).to.equal(`timeout@${t0 + 3000}`);
    });
  });

  describe('invariant checkers', () => {
    const k0 = simValidatorKey(0);
    const k1 = simValidatorKey(1);
    const d1 = new Uint8Array(32).fill(1);
    const d2 = new Uint8Array(32).fill(2);

    it('findDoubleSigns: two different PREPAREs of one signer at one (height, round)', () => {
      const a = message(k0, { type: MsgType.Prepare, height: 3, round: 1, digest: d1 });
      const b = message(k0, { type: MsgType.Prepare, height: 3, round: 1, digest: d2 });
      const found = findDoubleSigns([a, b]);
      expect(found).to.have.length(1);
      expect(found[0]).to.include({ signer: toHex(k0.address), height: 3, round: 1, type: MsgType.Prepare });
    });

    it('findDoubleSigns: resending the same message, other rounds, types or signers are fine', () => {
      const same = message(k0, { type: MsgType.Prepare, height: 3, round: 1, digest: d1 });
      expect(
        findDoubleSigns([
          same,
          same,
          message(k0, { type: MsgType.Prepare, height: 3, round: 2, digest: d2 }),
          message(k0, { type: MsgType.Proposal, height: 3, round: 1, digest: d2 }),
          message(k1, { type: MsgType.Prepare, height: 3, round: 1, digest: d2 }),
        ]),
      ).to.deep.equal([]);
    });

    it('findDoubleSigns: also sees messages nested in an envelope (a ROUND-CHANGE justification)', () => {
      const nested = SignedMessage.sign(CHAIN, { type: MsgType.RoundChange, height: 4, round: 2 }, k1.address, k1.ed25519);
      const top = SignedMessage.sign(CHAIN, { type: MsgType.Proposal, height: 4, round: 2, digest: d1 }, k0.address, k0.ed25519);
      const env = encodeEnvelope({ message: top, roundChanges: [nested], prepares: [] });
      const other = message(k1, { type: MsgType.RoundChange, height: 4, round: 2, prepared: { round: 1, digest: d2 } });
      expect(findDoubleSigns([env, other]).map((d) => d.signer)).to.deep.equal([toHex(k1.address)]);
    });

    it('journalProblems: a second signature at one (height, round, type), and a round regression', () => {
      const rec = (height: number, round: number, type: MsgType): SignRecord => ({ height, round, type, at: 0, incarnation: 1 });
      expect(journalProblems('v', [rec(1, 0, MsgType.Prepare), rec(1, 1, MsgType.RoundChange), rec(1, 1, MsgType.Prepare), rec(2, 0, MsgType.Prepare)])).to.deep.equal([]);
      expect(journalProblems('v', [rec(1, 0, MsgType.Prepare), rec(1, 0, MsgType.Prepare)])[0]).to.match(/twice/);
      expect(journalProblems('v', [rec(1, 2, MsgType.RoundChange), rec(1, 1, MsgType.Commit)])[0]).to.match(/COMMIT h=1 r=1 after ROUND-CHANGE to r=2/);
    });

    it('the safety check fires on two blocks at one height and on a bad certificate', async () => {
      const sim = await Simulation.create({ n: 4, seed: 1 });
      expect(await sim.runUntilHeight(1, 10_000)).to.equal(true);
      const real = (await sim.nodes[0]!.life!.chain.blocks.block(1))!;
      const keys = sim.nodes.map((n) => n.key);
      // A conflicting block at height 1 with a genuine certificate: all four validators sign it.
      const h = real.header;
      const forged = new Block(new BlockHeader({ ...h, timestamp: h.timestamp + 1 }), []);
      const sigs = keys.map((k) => ({ index: sim.valset.indexOf(k.address), signature: k.bls.sign(commitVoteMessage(CHAIN, 1, 0, forged.hash())) }));
      const cert = CommitCertificate.aggregate(1, 0, forged.hash(), 4, sigs);
      sim.onCommitted(sim.nodes[1]!, forged.withCertificate(cert));
      expect(() => sim.throwOnViolation()).to.throw(InvariantViolation, /FORK at height 1/);

      const sim2 = await Simulation.create({ n: 4, seed: 1 });
      const badCert = CommitCertificate.aggregate(1, 0, real.hash(), 4, sigs.slice(0, 3));
      sim2.onCommitted(sim2.nodes[0]!, real.withCertificate(badCert));
      expect(() => sim2.throwOnViolation()).to.throw(InvariantViolation, /bad certificate: .*aggregate signature does not verify/);
    });
  });

  describe('Simulation', () => {
    it('is deterministic: one seed, one run — under loss, duplication and reordering', async () => {
      const run = async (seed: number) => {
        const sim = await Simulation.create({ n: 4, seed, faults: { drop: 0.2, duplicate: 0.2, minLatencyMs: 1, maxLatencyMs: 800 } });
        sim.startTraffic(300);
        await sim.runFor(8_000);
        return { trace: sim.trace(), commits: JSON.stringify(sim.commits), wire: sim.hub.wire.map((w) => `${w.at}:${w.from}:${toHex(w.data).slice(0, 40)}`).join('|') };
      };
      const a = await run(11);
      const b = await run(11);
      const c = await run(12);
      expect(a.commits).to.not.equal('[]');
      expect(b).to.deep.equal(a);
      expect(c.trace).to.not.equal(a.trace);
    });

    it('builds the genesis validator set from the fixed keys, and every node commits blocks with transactions', async () => {
      const sim = await Simulation.create({ n: 4, seed: 2 });
      expect(toHex(sim.nodes[0]!.life!.chain.validatorSet(1).hash())).to.equal(toHex(sim.valset.hash()));
      sim.startTraffic(200);
      expect(await sim.runUntilHeight(4, 30_000), sim.trace()).to.equal(true);
      await sim.checkAll();
      expect(sim.txSubmitted).to.be.greaterThan(0);
      expect(sim.commits.some((c) => c.txs > 0)).to.equal(true);
    });

    it('a crash stops the node at once and a restart resumes it over the same storage', async () => {
      const sim = await Simulation.create({ n: 4, seed: 3 });
      expect(await sim.runUntilHeight(2, 20_000)).to.equal(true);
      const node = sim.nodes[2]!;
      sim.crash(2);
      expect(node.up).to.equal(false);
      expect(sim.hub.isUp(node.id)).to.equal(false);
      const stuck = node.height;
      await sim.runFor(5_000);
      expect(node.height).to.equal(stuck);
      expect(Math.max(...sim.heights())).to.be.greaterThan(stuck);
      await sim.restart(2);
      expect(node.incarnations).to.equal(2);
      expect(node.height).to.equal(stuck); // reloaded from its own store
      expect(await sim.runUntilHeight(Math.max(...sim.heights()) + 1, 30_000), sim.trace()).to.equal(true);
      await sim.checkAll();
    });
  });
});
