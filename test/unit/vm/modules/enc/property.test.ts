import { expect } from 'chai';
import { toHex } from '../../../../../chain/index.js';
import { JobState, NodeStatus, PLACEMENT_SHOWN, estimateReward, formatFixed, place, score, type Candidate, type NodeRecord, type RewardParams } from '../../../../../vm/modules/enc/index.js';
import { seededRandom as prng } from '../../../../e2e/load.js';
import { EncChain, accountKey, addressFromKey, jobWasm, node } from './harness.js';

const rec = (o: Partial<NodeRecord>): NodeRecord => ({ slots: 4, memoryKiB: 16_384, price: 1n, bond: 1000n, reserve: 0n, status: NodeStatus.Active, jailedUntil: 0, unbondAt: 0, slotsUsed: 0, memoryUsed: 0, pending: 0, done: 0, missed: 0, lied: 0, slashed: 0n, lastReceipt: new Uint8Array(0), registeredAt: 0, ...o });

describe('vm/modules/enc placement and reward (properties)', () => {
  it('placement is a function of the state: the same choice whatever order the candidates come in; only eligible nodes, distinct, best first', () => {
    const rand = prng(19);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rand() * 12);
      const cands: Candidate[] = Array.from({ length: n }, (_, i) => {
        const slots = 1 + Math.floor(rand() * 4);
        return {
          address: Uint8Array.from({ length: 20 }, (_, k) => (k === 0 ? i : Math.floor(rand() * 256))),
          node: rec({ slots, slotsUsed: Math.floor(rand() * (slots + 1)), price: BigInt(Math.floor(rand() * 5)), bond: BigInt(Math.floor(rand() * 2000)), status: rand() < 0.15 ? NodeStatus.Jailed : NodeStatus.Active, done: Math.floor(rand() * 20), missed: Math.floor(rand() * 5), memoryUsed: Math.floor(rand() * 16_384) }),
        };
      });
      const job = { id: Uint8Array.from({ length: 32 }, () => Math.floor(rand() * 256)), maxPrice: BigInt(Math.floor(rand() * 5)), memoryKiB: 64 * (1 + Math.floor(rand() * 16)), exclude: rand() < 0.3 ? [cands[0]!.address] : [] };
      const needed = 1 + Math.floor(rand() * 3);
      const a = place(cands, job, needed, 500n, 7);
      const shuffled = [...cands].sort(() => rand() - 0.5);
      const b = place(shuffled, job, needed, 500n, 7);
      expect(a.chosen.map((x) => toHex(x))).to.deep.equal(b.chosen.map((x) => toHex(x)));
      const eligible = cands.filter((c) => c.node.status === NodeStatus.Active && c.node.bond >= 500n && c.node.slotsUsed < c.node.slots && c.node.memoryKiB - c.node.memoryUsed >= job.memoryKiB && c.node.price <= job.maxPrice && !job.exclude.some((x) => toHex(x) === toHex(c.address)));
      expect(a.candidates).to.equal(eligible.length);
      expect(a.chosen.length).to.equal(eligible.length >= needed ? needed : 0);
      expect(new Set(a.chosen.map((x) => toHex(x))).size).to.equal(a.chosen.length);
      for (const x of a.chosen) expect(eligible.some((c) => toHex(c.address) === toHex(x))).to.equal(true);
      // Scores never increase down the ranking, and no eligible node outside the choice scores above a chosen one.
      for (let i = 1; i < a.ranked.length; i++) expect(a.ranked[i]!.score <= a.ranked[i - 1]!.score).to.equal(true);
      const worstChosen = a.chosen.length ? a.ranked[a.chosen.length - 1]!.score : undefined;
      if (worstChosen !== undefined) for (const c of eligible) if (!a.chosen.some((x) => toHex(x) === toHex(c.address))) expect(score(c.node, job.maxPrice) <= worstChosen).to.equal(true);
      expect(a.ranked.length).to.be.at.most(Math.max(PLACEMENT_SHOWN, needed));
    }
  });

  it('never oversubscribes a node, and keeps ENC’s books exact, under random jobs, receipts and silences', () => {
    const rand = prng(7);
    const c = new EncChain({ leaseBlocks: '2', maxDeadline: '8' });
    const program = c.deploy(jobWasm('sha256'));
    for (let i = 1; i <= 4; i++) c.succeeds(c.register(node(i), { slots: 1 + (i % 2), memoryKiB: 16_384, price: BigInt(i) }));
    const jobs: Uint8Array[] = [];
    for (let b = 0; b < 40; b++) {
      const txs = [];
      if (rand() < 0.7) {
        const client = accountKey(5 + Math.floor(rand() * 2));
        const { receipt, id } = c.submit(client, { program, input: Uint8Array.of(b), fuel: 200_000 + b, maxPrice: 4n, replicas: 1 + Math.floor(rand() * 2), deadline: 3 + Math.floor(rand() * 5) });
        if (receipt.status === 0) jobs.push(id);
      }
      // Each node hands in its receipts for some of its running leases (never all: some leases end unanswered).
      for (let i = 1; i <= 4; i++) {
        const leases = c.q<{ job: string }[]>('leases', { address: addressFromKey(node(i)) });
        let ahead = 0;
        for (const l of leases) {
          if (rand() < 0.4) continue;
          const id = Uint8Array.from(Buffer.from(l.job.slice(2), 'hex'));
          // Chained after the previous receipt of this block, when it hands in several.
          const prevTx = txs.filter((t) => t.key === i).at(-1);
          const w = c.work(id, node(i), prevTx ? { prev: prevTx.hash } : {});
          txs.push({ key: i, hash: w.receipt.hash(), tx: c.etx(node(i), 'enc.receipt', w.payload, ahead++) });
        }
      }
      const r = c.block(txs.map((t) => t.tx));
      for (const x of r.receipts) expect(x.status, `${x.errorCode} ${x.errorMessage}`).to.equal(0);
      c.checkEnc();
    }
    c.blocks(12);
    c.checkEnc();
    const states = jobs.map((id) => c.job(id).state);
    expect(states.every((s) => s === JobState.Settled || s === JobState.Expired)).to.equal(true);
    expect(states.filter((s) => s === JobState.Settled).length).to.be.greaterThan(0);
    expect(c.enc.pool(c.world).escrow).to.equal(0n);
  });

  it('the reward: integer steps, each rounded down (documented precision)', () => {
    const p: RewardParams = { weightsPpm: { cpu: 350_000n, memory: 150_000n, storage: 150_000n, egress: 150_000n, receipts: 200_000n }, scales: { cpu: 1000n, memory: 1000n, storage: 1n, egress: 10n, receipts: 100n }, k: 1000n, aPpm: 1_000_000n, decimals: 6 };
    const M = 1_000_000n;
    // Φ = 0.35 · 1/1000 = 0.00035; Γ = 0.00035 / 1.00035 = 0.00034987754285999(9…, rounded down); reward = 1000 · Γ NEX = 0.349877… NEX.
    const r = estimateReward({ cpu: 1n * M, memory: 0n, storage: 0n, egress: 0n, receipts: 0n }, p);
    expect(formatFixed(r.phi, 18)).to.equal('0.000350000000000000');
    expect(formatFixed(r.gamma, 18)).to.equal('0.000349877542859999');
    expect(r.reward).to.equal(349_877n);
    // Φ → ∞ keeps Γ below 1: the reward never reaches K.
    const big = estimateReward({ cpu: 10n ** 30n, memory: 0n, storage: 0n, egress: 0n, receipts: 0n }, p);
    expect(big.reward < 1000n * M).to.equal(true);
    expect(big.reward > 999n * M).to.equal(true);
    expect(() => estimateReward({ cpu: -1n, memory: 0n, storage: 0n, egress: 0n, receipts: 0n }, p)).to.throw(RangeError);
  });
});
