/**
 * Seeded simulations of IBFT with n = 4 and n = 7 real nodes (chain, state machine, mempool,
 * sign log, engine, block sync) over the simulated network. Every run checks safety on each
 * commit (one block per height across correct nodes; every certificate verifies against the
 * validator set), and at the end: stored chains, no double signing (over every message on the
 * wire) and no round regression (over every signature), no errors logged. Liveness is asserted
 * once the faults stop: every correct node reaches a height within a bounded virtual time.
 *
 * SIM_SEEDS=<k> runs k seeds per scenario (a soak); SIM_SEED_BASE shifts them.
 */
import { expect } from 'chai';
import { MsgType } from '../../../../consensus/ibft/index.js';
import { Topic } from '../../../../p2p/network.js';
import { toHex, type ValidatorUpdate } from '../../../../chain/index.js';
import { Prng, RELIABLE, Simulation, simValidatorKey, type LinkFaults, type SimNode } from '../sim/index.js';

const SOAK = process.env.SIM_SEEDS ? Number(process.env.SIM_SEEDS) : undefined;
const BASE = Number(process.env.SIM_SEED_BASE ?? 0);

/** `count` seeds for a scenario (or SIM_SEEDS of them), distinct per scenario through `salt`. */
function seeds(count: number, salt: number): number[] {
  return Array.from({ length: SOAK ?? count }, (_, i) => BASE + salt * 1000 + i + 1);
}

const maxHeight = (sim: Simulation, nodes?: readonly SimNode[]) => Math.max(...sim.heights(nodes));

async function expectLiveness(sim: Simulation, height: number, withinMs: number, nodes?: readonly SimNode[]): Promise<void> {
  const ok = await sim.runUntilHeight(height, withinMs, nodes);
  expect(ok, `liveness: not every correct node reached height ${height} within ${withinMs} ms of virtual time; ${sim.trace()}`).to.equal(true);
}

/** Faults drawn from the seed: 10–30% loss, up to 15% duplicates, latency up to 0.5–3 s (reordering). */
function lossyFaults(sim: Simulation): LinkFaults {
  return { drop: 0.1 + 0.2 * sim.prng.next(), duplicate: 0.15 * sim.prng.next(), minLatencyMs: 1, maxLatencyMs: sim.prng.int(500, 3000) };
}

for (const n of [4, 7]) {
  const f = Math.floor((n - 1) / 3);
  // Seeds per scenario. A run at n = 7 costs ~3x one at n = 4 (BLS seals per COMMIT): fewer of them.
  const count = (at4: number, at7: number) => (n === 4 ? at4 : at7);

  describe(`IBFT simulation, n = ${n} (f = ${f})`, function () {
    describe('(a) no faults', () => {
      for (const seed of seeds(count(8, 3), 1)) {
        it(`seed ${seed}: every node commits the same blocks, all in round 0, with transactions`, async () => {
          const sim = await Simulation.create({ n, seed });
          sim.startTraffic(300);
          await expectLiveness(sim, 5, 30_000);
          await sim.checkAll();
          for (const node of sim.nodes) {
            const mine = sim.commits.filter((c) => c.node === node.id).map((c) => c.height);
            expect(mine.slice(0, 5), `${node.id} committed heights in order`).to.deep.equal([1, 2, 3, 4, 5]);
          }
          expect(sim.commits.filter((c) => c.round !== 0), 'a round change on a reliable network').to.deep.equal([]);
          expect(sim.commits.reduce((s, c) => s + c.txs, 0), 'blocks carry transactions').to.be.greaterThan(0);
        });
      }
    });

    describe('(b) message loss, duplication, delay and reordering', () => {
      for (const seed of seeds(count(14, 5), 2)) {
        it(`seed ${seed}: safe while the network is lossy, live once it heals`, async () => {
          const sim = await Simulation.create({ n, seed });
          sim.setFaults(lossyFaults(sim));
          sim.startTraffic(400);
          await sim.runFor(n === 4 ? 15_000 : 8_000);
          expect(sim.hub.stats.dropped, 'messages were dropped').to.be.greaterThan(0);
          sim.setFaults(RELIABLE);
          await expectLiveness(sim, maxHeight(sim) + 2, 90_000);
          await sim.checkAll();
        });
      }
    });

    describe('(c) crashed proposers', () => {
      for (const seed of seeds(count(8, 3), 3)) {
        it(`seed ${seed}: the proposers of a height are down; the others change round and commit; they catch up by block sync`, async () => {
          const sim = await Simulation.create({ n, seed, faults: { ...RELIABLE, maxLatencyMs: 200 } });
          sim.startTraffic(400);
          const h0 = sim.prng.int(1, 3);
          // The proposers of rounds 0..f-1 of h0 go down; the first as it proposes (its PROPOSAL never leaves).
          const victims = [...new Set(Array.from({ length: f }, (_, r) => sim.proposerOf(h0, r)))];
          let crashed = false;
          sim.nodes[victims[0]!]!.crashAfterSigning(
            (h, _r, t) => h === h0 && t === MsgType.Proposal,
            () => {
              crashed = true;
              for (const v of victims.slice(1)) sim.crash(v);
            },
          );
          expect(await sim.runUntil(() => crashed, 30_000), 'the proposer reached its height').to.equal(true);
          const live = sim.nodes.filter((x) => x.up);
          await expectLiveness(sim, h0 + 3, 90_000, live);
          const atH0 = sim.commits.filter((c) => c.height === h0);
          expect(Math.min(...atH0.map((c) => c.round)), `height ${h0} is committed after ${f} round change(s)`).to.be.at.least(f);
          // Down long enough to be more than one block behind: only BlockSync can bring them back.
          await sim.runFor(8_000);
          for (const v of victims) await sim.restart(v);
          const target = maxHeight(sim) + 1;
          await expectLiveness(sim, target, 90_000);
          for (const v of victims) expect(sim.nodes[v]!.syncImports, `v${v} caught up through block sync`).to.be.greaterThan(0);
          expect(sim.hub.stats.bans, 'honest peers banned by block sync').to.deep.equal([]);
          await sim.checkAll();
        });
      }
    });

    describe(`(d) ${f} equivocating validator(s)`, () => {
      const total = { runs: 0, forged: 0, proposals: 0, penalised: 0 };
      for (const seed of seeds(count(14, 5), 4)) {
        it(`seed ${seed}: conflicting PROPOSALs, PREPAREs, COMMITs and ROUND-CHANGEs signed with real keys break neither safety nor liveness`, async () => {
          const byzantine = new Prng(seed).shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, f);
          // No loss: with n = 7 the honest nodes are exactly a quorum, so the equivocators are the only fault.
          const sim = await Simulation.create({ n, seed, byzantine, faults: { drop: 0, duplicate: 0.05, minLatencyMs: 1, maxLatencyMs: 300 } });
          sim.startTraffic(400);
          await expectLiveness(sim, 4, 240_000);
          await sim.checkAll();
          const s = sim.coalition!.stats;
          expect(s.prepares + s.commits, 'the coalition equivocated').to.be.greaterThan(0);
          total.runs++;
          total.forged += s.prepares + s.commits + s.proposals + s.roundChanges;
          total.proposals += s.proposals;
          total.penalised += sim.correct.reduce((sum, x) => sum + (x.warnings.get('dropped consensus message') ?? 0), 0);
        });
      }
      after(() => {
        if (total.runs < 5) return; // too few seeds to expect every kind of attack
        expect(total.proposals, 'a byzantine proposer equivocated in some seed').to.be.greaterThan(0);
        expect(total.penalised, 'correct nodes detected and penalised equivocation').to.be.greaterThan(0);
      });
    });

    describe('(e) crash and restart mid-round (sign-log recovery)', () => {
      for (const seed of seeds(count(12, 5), 5)) {
        it(`seed ${seed}: a validator that dies right after recording a signature resumes from its sign log and never signs a conflicting message`, async () => {
          const sim = await Simulation.create({ n, seed, faults: { drop: 0.03, duplicate: 0.05, minLatencyMs: 1, maxLatencyMs: 300 } });
          sim.startTraffic(400);
          const type = sim.prng.pick([MsgType.Proposal, MsgType.Prepare, MsgType.Commit, MsgType.RoundChange]);
          const h0 = sim.prng.int(1, 3);
          const victim = type === MsgType.Proposal ? sim.proposerOf(h0, 0) : sim.prng.int(0, n - 1);
          // A ROUND-CHANGE needs a round to fail: the victim is cut off until it signs one.
          if (type === MsgType.RoundChange) {
            expect(await sim.runUntil(() => sim.nodes[victim]!.height >= h0 - 1, 60_000)).to.equal(true);
            sim.partition([[victim]]);
          }
          let signed: { height: number; round: number } | undefined;
          sim.nodes[victim]!.crashAfterSigning(
            (h, r, t) => {
              if (h < h0 || t !== type) return false;
              signed = { height: h, round: r };
              return true;
            },
            () => undefined,
          );
          expect(await sim.runUntil(() => signed !== undefined, 120_000), `v${victim} signed a ${type} at h >= ${h0}`).to.equal(true);
          const { height, round } = signed!;
          const sentBefore = sim.sentBy(victim, height, round, type);
          expect(sentBefore, 'the message was recorded, never sent').to.equal(0);
          sim.heal();
          await sim.runFor(sim.prng.int(0, 3_000));
          // Half the restarts read the sign log slowly, while messages keep arriving.
          await sim.restart(victim, sim.prng.chance(0.5) ? { stallMs: sim.prng.int(1, 400) } : {});
          await sim.runFor(500);
          expect(sim.sentBy(victim, height, round, type), 'resent from the sign log after the restart').to.be.greaterThan(0);
          sim.setFaults(RELIABLE);
          await expectLiveness(sim, maxHeight(sim) + 2, 90_000);
          await sim.checkAll();
        });
      }

      for (const seed of seeds(count(8, 3), 6)) {
        it(`seed ${seed}: a proposer restarted right after its PROPOSAL went out re-proposes the same block`, async () => {
          const sim = await Simulation.create({ n, seed });
          sim.startTraffic(300);
          const h0 = sim.prng.int(1, 3);
          const p = sim.proposerOf(h0, 0);
          expect(await sim.runUntil(() => sim.sentBy(p, h0, 0, MsgType.Proposal) > 0, 30_000)).to.equal(true);
          sim.crash(p);
          await sim.runFor(sim.prng.int(0, 200));
          await sim.restart(p);
          await expectLiveness(sim, h0 + 2, 60_000);
          await sim.checkAll(); // includes: no two different PROPOSALs at (h0, 0)
          expect(sim.nodes[p]!.journal.filter((r) => r.height === h0 && r.type === MsgType.Proposal && r.round === 0)).to.have.length(1);
        });
      }
    });

    describe(`(f) more than f (${f + 1} of ${n}) validators down`, () => {
      for (const seed of seeds(count(8, 3), 7)) {
        it(`seed ${seed}: no new block and no fork while they are down; progress once one returns`, async () => {
          const sim = await Simulation.create({ n, seed, faults: { drop: 0.02, duplicate: 0.02, minLatencyMs: 1, maxLatencyMs: 200 } });
          sim.startTraffic(400);
          await sim.runFor(sim.prng.int(500, 5_000));
          const down = sim.prng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, f + 1);
          for (const i of down) sim.crash(i);
          const live = sim.nodes.filter((x) => x.up);
          await sim.runFor(5_000); // messages already in flight may still finish a height
          const frozen = maxHeight(sim, live);
          const blocks = sim.canonical.size;
          await sim.runFor(60_000);
          expect(maxHeight(sim, live), 'no quorum, no new block').to.equal(frozen);
          expect(sim.canonical.size).to.equal(blocks);
          // Faults stop: links become reliable (with exactly a quorum up, one lost message fails a round).
          sim.setFaults(RELIABLE);
          await sim.restart(down[0]!);
          await expectLiveness(sim, frozen + 2, 120_000);
          for (const i of down.slice(1)) await sim.restart(i);
          await expectLiveness(sim, maxHeight(sim) + 1, 120_000);
          await sim.checkAll();
        });
      }
    });

    describe('(g) partitions', () => {
      for (const seed of seeds(count(6, 2), 8)) {
        it(`seed ${seed}: a split with no quorum on either side stalls safely; the isolated minority catches up after healing`, async () => {
          const sim = await Simulation.create({ n, seed });
          sim.startTraffic(400);
          await sim.runFor(sim.prng.int(500, 4_000));
          const order = sim.prng.shuffle(Array.from({ length: n }, (_, i) => i));
          // No side holds a quorum.
          const split = Math.ceil(n / 2);
          sim.partition([order.slice(0, split), order.slice(split)]);
          await sim.runFor(3_000);
          const frozen = sim.canonical.size;
          await sim.runFor(30_000);
          expect(sim.canonical.size, 'no quorum on either side').to.equal(frozen);
          sim.heal();
          await expectLiveness(sim, maxHeight(sim) + 2, 90_000);
          // One node alone: the others go on; it catches up by block sync once reachable.
          const loner = order[0]!;
          sim.partition([[loner]]);
          const before = sim.nodes[loner]!.height;
          await expectLiveness(sim, before + 3, 60_000, sim.nodes.filter((x) => x.index !== loner));
          sim.heal();
          await expectLiveness(sim, maxHeight(sim), 60_000);
          expect(sim.nodes[loner]!.syncImports, 'the isolated node caught up through block sync').to.be.greaterThan(0);
          expect(sim.hub.stats.bans, 'honest peers banned by block sync').to.deep.equal([]);
          await sim.checkAll();
        });
      }
    });
    describe('(h) chaos', () => {
      for (const seed of seeds(count(5, 1), 9)) {
        const byzantine = seed % 2 === 0 ? [new Prng(seed).int(0, n - 1)] : [];
        it(`seed ${seed}: crashes (some mid-signature), slow restarts, partitions, lossy links${byzantine.length ? ' and an equivocator' : ''} at once; safe throughout, live after`, async () => {
          const sim = await Simulation.create({ n, seed, byzantine });
          const honest = sim.correct.map((x) => x.index);
          sim.startTraffic(300);
          const actions: string[] = [];
          const end = sim.scheduler.now + 20_000;
          while (sim.scheduler.now < end) {
            sim.setFaults(sim.prng.chance(0.5) ? lossyFaults(sim) : RELIABLE);
            await sim.runFor(sim.prng.int(500, 5_000));
            const down = honest.filter((i) => !sim.nodes[i]!.up);
            const x = sim.prng.next();
            if (down.length > 0 && x < 0.4) {
              const i = sim.prng.pick(down);
              await sim.restart(i, sim.prng.chance(0.5) ? { stallMs: sim.prng.int(1, 300) } : {});
              actions.push(`+${i}`);
            } else if (down.length <= f && x < 0.7) {
              const i = sim.prng.pick(honest.filter((h) => !down.includes(h)));
              const type = sim.prng.pick([0, MsgType.Proposal, MsgType.Prepare, MsgType.Commit, MsgType.RoundChange]);
              if (type === 0) sim.crash(i);
              else sim.nodes[i]!.crashAfterSigning((_h, _r, t) => t === type);
              actions.push(type === 0 ? `-${i}` : `~${i}:${type}`);
            } else if (x < 0.85) {
              sim.partition([sim.prng.shuffle(sim.nodes.map((y) => y.index)).slice(0, sim.prng.int(1, n - 1))]);
              actions.push('|');
            } else {
              sim.heal();
              actions.push('=');
            }
          }
          for (const node of sim.nodes) node.crashAfterSigning(() => false);
          sim.heal();
          sim.setFaults(RELIABLE);
          for (const node of sim.nodes) if (!node.up) await sim.restart(node.index);
          const ok = await sim.runUntilHeight(maxHeight(sim, sim.correct) + 2, 180_000);
          expect(ok, `liveness after chaos [${actions.join(' ')}]: ${sim.trace()}`).to.equal(true);
          await sim.checkAll();
        });
      }
    });
  });
}

describe('IBFT simulation, n = 1', () => {
  it('a validator alone in its set commits without sending a consensus message (nobody would receive it), and announces its blocks', async () => {
    const sim = await Simulation.create({ n: 1, seed: 1 });
    const sent = new Map<Topic, number>();
    const publish = sim.hub.publish.bind(sim.hub);
    sim.hub.publish = (from, topic, data) => {
      sent.set(topic, (sent.get(topic) ?? 0) + 1);
      publish(from, topic, data);
    };
    sim.startTraffic(300);
    await expectLiveness(sim, 5, 30_000);
    await sim.checkAll();
    expect(sim.commits.reduce((s, c) => s + c.txs, 0), 'blocks carry transactions').to.be.greaterThan(0);
    expect(sent.get(Topic.Consensus) ?? 0, 'consensus messages sent').to.equal(0);
    expect(sent.get(Topic.Blocks) ?? 0, 'block announcements').to.be.at.least(5);
  });
});

describe('IBFT simulation, unequal voting power (34, 22, 22, 22: quorum 67 of 100)', () => {
  const powers = [34n, 22n, 22n, 22n];

  it('the validator with more than a third of the power halts the chain alone, without a fork, and it resumes when that one returns', async () => {
    const sim = await Simulation.create({ n: 4, seed: 11, powers });
    sim.startTraffic(400);
    await expectLiveness(sim, 4, 30_000);
    sim.crash(0);
    const live = sim.nodes.filter((x) => x.up);
    await sim.runFor(5_000); // what was in flight may still finish a height
    const frozen = maxHeight(sim, live);
    await sim.runFor(60_000);
    expect(maxHeight(sim, live), 'three validators with 66 of 100 make no block').to.equal(frozen);
    await sim.restart(0);
    await expectLiveness(sim, frozen + 2, 120_000);
    await sim.checkAll();
  });

  it('any one of the others may stop: the remaining 78 of 100 go on committing', async () => {
    const sim = await Simulation.create({ n: 4, seed: 12, powers });
    sim.startTraffic(400);
    await expectLiveness(sim, 3, 30_000);
    sim.crash(2);
    const live = sim.nodes.filter((x) => x.up);
    await expectLiveness(sim, maxHeight(sim, live) + 5, 120_000, live);
    await sim.checkAll();
  });
});

describe('IBFT simulation, a validator set that changes (what block H returns is the set of H + 2)', () => {
  const key = (i: number) => simValidatorKey(i);
  const update = (i: number, power: bigint): ValidatorUpdate => ({ publicKey: key(i).ed25519.publicKey, blsPublicKey: key(i).bls.publicKey, power });
  // v3 leaves at 6, returns at 12; v0 weighs 3 of 6 from 16 (so v0 and any other are a quorum of 4).
  const schedule = new Map<number, ValidatorUpdate[]>([
    [4, [update(3, 0n)]],
    [10, [update(3, 1n)]],
    [14, [update(0, 3n)]],
  ]);

  it('commits through every change, each block certified by its own height\'s set, each header naming the next set; a validator signs only while it is in the set', async () => {
    const sim = await Simulation.create({ n: 4, seed: 21, validatorUpdates: schedule, faults: { drop: 0.01, duplicate: 0.01, minLatencyMs: 1, maxLatencyMs: 50 } });
    sim.startTraffic(300);
    await expectLiveness(sim, 20, 120_000);
    await sim.checkAll(); // every certificate verified against the schedule's set of its height
    const chain = sim.nodes[0]!.life!.chain;
    for (let h = 1; h <= 19; h++) {
      const header = (await chain.blocks.header(h))!;
      expect(toHex(header.validatorsHash), `validatorsHash of ${h}`).to.equal(toHex(sim.valsetAt(h).hash()));
      expect(toHex(header.nextValidatorsHash), `nextValidatorsHash of ${h}`).to.equal(toHex(sim.valsetAt(h + 1).hash()));
      expect(chain.validatorSet(h).size, `set size at ${h}`).to.equal(h >= 6 && h < 12 ? 3 : 4);
    }
    expect(sim.valsetAt(16).quorumPower).to.equal(4n);
    // v3 signed nothing for the heights whose set left it out, and signed again once back in.
    const v3 = sim.nodes[3]!.journal.map((r) => r.height);
    expect(v3.filter((h) => h >= 6 && h < 12), 'v3 signatures while out of the set').to.deep.equal([]);
    expect(v3.some((h) => h >= 12), 'v3 signs again from height 12').to.equal(true);
    expect(v3.some((h) => h < 6), 'v3 signed before it left').to.equal(true);
  });

  it('a node down through every change syncs from where it stopped across them, checking each certificate against the set it derives', async () => {
    const sim = await Simulation.create({ n: 4, seed: 23, validatorUpdates: schedule });
    sim.startTraffic(300);
    await expectLiveness(sim, 2, 30_000);
    sim.crash(1);
    const live = sim.nodes.filter((x) => x.up);
    await expectLiveness(sim, 20, 120_000, live); // v0, v2, v3 (v3 out from 6 to 12: v0 and v2 are 2 of 3)
    const head = maxHeight(sim, live);
    await sim.restart(1);
    await expectLiveness(sim, head + 2, 120_000, [sim.nodes[1]!]);
    await sim.checkAll();
    expect(sim.nodes[1]!.life!.chain.validatorSet(16).quorumPower).to.equal(4n);
  });

  it('updates that cannot apply (removing a validator that is not in the set) are refused as a whole, with a block event; the set stays and the chain goes on', async () => {
    const outsider = simValidatorKey(9);
    const bad = new Map<number, ValidatorUpdate[]>([[3, [update(1, 5n), { publicKey: outsider.ed25519.publicKey, blsPublicKey: outsider.bls.publicKey, power: 0n }]]]);
    const sim = await Simulation.create({ n: 4, seed: 22, validatorUpdates: bad });
    await expectLiveness(sim, 8, 60_000);
    await sim.checkAll(/the validator updates of this block cannot apply/); // each node logs it, as it should
    const chain = sim.nodes[0]!.life!.chain;
    expect(chain.validatorSet(5).validators.map((v) => v.power)).to.deep.equal([1n, 1n, 1n, 1n]); // not even v1's valid update applied
    const events = (await chain.blocks.blockEvents(3))!;
    expect(events.map((e) => `${e.module}/${e.type}`)).to.deep.equal(['simvalidators/updates', 'vm/validator_updates_refused']);
    expect(events[1]!.attributes).to.deep.equal([['code', 'CHAIN_FIELD_VALUE']]);
  });
});
