import { expect } from 'chai';
import { DocklockReceipt } from '../../../../../docklock/index.js';
import { fromHex, merkleRoot, toHex, verifyMerkleProof } from '../../../../../chain/index.js';
import { encodeTransfer } from '../../../../../vm/modules/bank/index.js';
import { EncTxErrorCode as E, AssignmentState, JobState, NodeStatus, encodeNodeTx, encodeReceiptTx, estimateReward, usageOfReceipt } from '../../../../../vm/modules/enc/index.js';
import { ENC_ACCOUNT, EncChain, GEN, NEX, accountKey, addressFromKey, jobWasm, node } from './harness.js';

const sha = jobWasm('sha256');
const client = accountKey(0);
const abc = new TextEncoder().encode('abc');

/** A chain with the sha256 program deployed and nodes 1..n registered. */
function withNodes(n: number, params: Record<string, string> = {}, price = (i: number) => BigInt(i)): { c: EncChain; program: Uint8Array } {
  const c = new EncChain(params);
  const program = c.deploy(sha);
  for (let i = 1; i <= n; i++) c.succeeds(c.register(node(i), { price: price(i) }));
  return { c, program };
}

describe('vm/modules/enc', () => {
  it('registers execution nodes: bond escrowed, refused below minBond, twice, or with bad capacity', () => {
    const c = new EncChain();
    const a = addressFromKey(node(1));
    const before = c.gen(a);
    c.succeeds(c.register(node(1)));
    expect(c.gen(a)).to.equal(before - 1000n * GEN);
    expect(c.gen(ENC_ACCOUNT)).to.equal(1000n * GEN);
    c.failsWith(c.register(node(1)), E.AlreadyRegistered);
    c.failsWith(c.register(node(2), { bond: 99n * GEN }), E.InvalidNode);
    c.failsWith(c.register(node(2), { slots: 0 }), E.InvalidNode);
    c.failsWith(c.register(node(2), { memoryKiB: 10 }), E.InvalidNode);
    const n = c.q<{ status: string; bond: string; slots: number }>('node', { address: a });
    expect(n).to.include({ status: 'active', bond: String(1000n * GEN), slots: 2 });
    expect(c.q<{ nodes: unknown[] }>('nodes', {}).nodes).to.have.length(1);
    c.checkEnc();
  });

  it('refuses bad jobs with clear codes, changing nothing but the fee', () => {
    const { c, program } = withNodes(1);
    const nexBefore = c.nex(addressFromKey(client));
    const cases: [Parameters<EncChain['submit']>[1], string][] = [
      [{ program: new Uint8Array(32).fill(7) }, E.UnknownProgram],
      [{ program, fuel: 2_000_000_000 }, E.OverCap],
      [{ program, replicas: 6 }, E.OverCap],
      [{ program, deadline: 0 }, E.OverCap],
      [{ program, input: new Uint8Array(17 * 1024) }, E.OverCap],
      [{ program, maxPrice: 0n }, E.PriceTooLow],
    ];
    for (const [a, code] of cases) c.failsWith(c.submit(client, a).receipt, code);
    // Every refused submit paid its fee (1,000 base units) and nothing else.
    expect(c.nex(addressFromKey(client))).to.equal(nexBefore - BigInt(cases.length) * 1000n);
    // A client that cannot fund the escrow.
    const poor = accountKey(7);
    c.succeeds(c.sendTx(poor, 'bank.transfer', encodeTransfer({ to: addressFromKey(client), asset: 'NEX', amount: c.nex(addressFromKey(poor)) - 2_000n })));
    c.failsWith(c.submit(poor, { program, maxPrice: 1n, fuel: 1_000_000, replicas: 1 }).receipt, E.EscrowUnfunded);
    expect(c.enc.pool(c.world).escrow).to.equal(0n);
    c.checkEnc();
  });

  it('R = 1: places, takes the receipt, settles after the challenge window: price × fuel split, reward minted, rest refunded', () => {
    const { c, program } = withNodes(2);
    const nodeA = addressFromKey(node(1));
    const clientNex = c.nex(addressFromKey(client));
    const { receipt, id } = c.submit(client, { program, input: abc, fuel: 1_000_000, maxPrice: 2n });
    c.succeeds(receipt);
    let j = c.job(id);
    expect(j.state).to.equal(JobState.Placed);
    // The cheaper node (price 1) scores higher on price: it is chosen.
    expect(toHex(j.assignments[0]!.node)).to.equal(toHex(nodeA));
    expect(c.enc.node(c.world, nodeA)!.slotsUsed).to.equal(1);
    c.checkEnc();

    const nodeNex = c.nex(nodeA);
    const w = c.work(id, node(1));
    c.succeeds(c.sendTx(node(1), 'enc.receipt', w.payload));
    j = c.job(id);
    expect(j.state).to.equal(JobState.Executed);
    expect(c.enc.node(c.world, nodeA)!.slotsUsed).to.equal(0);
    // The block's LogBlock holds the receipt, and the receipt query proves it.
    const rq = c.q<{ logBlock: { root: string; index: number; leaves: number; siblings: string[] } }>('receipt', { job: toHex(id), node: nodeA });
    expect(rq.logBlock.root).to.equal(toHex(merkleRoot([w.receipt.hash()])));
    expect(verifyMerkleProof(fromHex(rq.logBlock.root), w.receipt.hash(), { index: rq.logBlock.index, total: rq.logBlock.leaves, siblings: rq.logBlock.siblings.map((s) => fromHex(s)) })).to.equal(true);

    c.blocks(2);
    j = c.job(id);
    expect(j.state).to.equal(JobState.Settled);
    const pay = 1n * BigInt(w.receipt.fuelUsed);
    const reserve = (pay * 2000n) / 1_000_000n;
    const owner = (pay * 2000n) / 1_000_000n;
    const treasury = (pay * 3000n) / 1_000_000n;
    const reward = estimateReward(usageOfReceipt(w.receipt, abc.length), c.enc.rewardParams(c.world)).reward;
    expect(reward > 0n).to.equal(true);
    expect(j.assignments[0]!).to.include({ state: AssignmentState.Paid, paid: pay, reward });
    expect(c.nex(nodeA) - nodeNex).to.equal(pay - reserve - owner - treasury + reward - 1000n); // its receipt's fee
    expect(c.enc.node(c.world, nodeA)!.reserve).to.equal(reserve);
    expect(j.refunded).to.equal(2n * 1_000_000n - pay);
    // The client paid the fee, the payment, and got the rest back (it is also the program's owner: its share came back to it).
    expect(c.nex(addressFromKey(client))).to.equal(clientNex - 1000n - pay + owner);
    expect(c.enc.pool(c.world)).to.include({ escrow: 0n, reserves: reserve, minted: reward });
    const out = c.q<{ output: string }>('receipt', { job: toHex(id), node: nodeA }).output;
    expect(out).to.equal(toHex(w.output));
    c.checkEnc();
  });

  it('refuses bad receipts: unknown job, not assigned, bad signature, broken chain, another job, wrong output, duplicate', () => {
    const { c, program } = withNodes(2, { leaseBlocks: '12' }, () => 1n);
    const { id } = c.submit(client, { program, input: abc });
    const placed = c.job(id).assignments[0]!.node;
    const [mine, other] = toHex(placed) === toHex(addressFromKey(node(1))) ? [node(1), node(2)] : [node(2), node(1)];
    c.failsWith(c.hand(id, other), E.NotAssigned);
    c.failsWith(c.sendTx(mine, 'enc.receipt', encodeReceiptTx({ job: new Uint8Array(32).fill(3), receipt: new Uint8Array([0xc0]), output: new Uint8Array(0) })), E.UnknownJob);
    // Signed by another key.
    const w = c.work(id, other, { prev: new Uint8Array(0) });
    c.failsWith(c.sendTx(mine, 'enc.receipt', w.payload), E.BadReceipt);
    c.failsWith(c.sendTx(mine, 'enc.receipt', encodeReceiptTx({ job: id, receipt: new Uint8Array([0xc0]), output: new Uint8Array(0) })), E.BadReceipt);
    c.failsWith(c.hand(id, mine, { prev: new Uint8Array(32).fill(9) }), E.BrokenChain);
    const good = c.work(id, mine);
    c.failsWith(c.sendTx(mine, 'enc.receipt', encodeReceiptTx({ job: id, receipt: good.receipt.serialize(), output: abc })), E.BadOutput);
    // A receipt of another job (its own id) handed in for this one.
    const { id: id2 } = c.submit(client, { program, input: abc, fuel: 999_999 });
    const forOther = c.work(id2, mine);
    c.failsWith(c.sendTx(mine, 'enc.receipt', encodeReceiptTx({ job: id, receipt: forOther.receipt.serialize(), output: forOther.output })), E.WrongJob);
    c.succeeds(c.sendTx(mine, 'enc.receipt', good.payload));
    c.failsWith(c.sendTx(mine, 'enc.receipt', good.payload), E.DuplicateReceipt);
    c.checkEnc();
  });

  it('R = 2, receipts that differ: the chain re-executes, slashes and jails the liar, pays the honest node', () => {
    const { c, program } = withNodes(2, {}, () => 1n);
    const { id } = c.submit(client, { program, input: abc, replicas: 2 });
    const liar = addressFromKey(node(2));
    const genBefore = c.modules.bank.supply(c.world, 'GEN');
    c.succeeds(c.hand(id, node(1)));
    c.succeeds(c.hand(id, node(2), { lie: new TextEncoder().encode('not the hash') }));
    expect(c.job(id).state).to.equal(JobState.Settled); // the dispute was resolved in the same block's end-block
    const j = c.job(id);
    const d = j.disputes[0]!;
    expect(d.outcome).to.equal('upheld');
    expect(d.verdicts.map((v) => [toHex(v.node), v.lied, v.field])).to.deep.include.members([
      [toHex(addressFromKey(node(1))), false, ''],
      [toHex(liar), true, 'outputHash'],
    ]);
    const slashed = (1000n * GEN * 100_000n) / 1_000_000n;
    expect(c.enc.node(c.world, liar)).to.include({ status: NodeStatus.Jailed, lied: 1, bond: 1000n * GEN - slashed });
    expect(c.modules.bank.supply(c.world, 'GEN')).to.equal(genBefore - slashed); // burned (no challenger)
    expect(j.assignments.find((x) => toHex(x.node) === toHex(liar))!.state).to.equal(AssignmentState.Lied);
    expect(j.assignments.find((x) => toHex(x.node) !== toHex(liar))!.state).to.equal(AssignmentState.Paid);
    expect(c.encEvents('dispute_resolved').at(-1)).to.include({ outcome: 'upheld', liars: '1' });
    // Jailed: not placed until it unjails after jailBlocks.
    c.failsWith(c.sendTx(node(2), 'enc.unjail', new Uint8Array([0xc0])), E.StillJailed);
    c.checkEnc();
  });

  it('R = 1 challenges: a lie proven gives the challenger a share of the slash and its bond back; an unfounded one burns the bond', () => {
    const { c, program } = withNodes(1);
    const challenger = accountKey(5);
    const cAddr = addressFromKey(challenger);
    const n1 = addressFromKey(node(1));
    const { id } = c.submit(client, { program, input: abc });
    c.succeeds(c.hand(id, node(1), { lie: new Uint8Array([1, 2, 3]) }));
    const nex0 = c.nex(cAddr);
    const gen0 = c.gen(cAddr);
    c.succeeds(c.challenge(challenger, id, n1));
    const j = c.job(id);
    expect(j.disputes[0]!.outcome).to.equal('upheld');
    const slashed = (1000n * GEN * 100_000n) / 1_000_000n;
    expect(c.gen(cAddr) - gen0).to.equal(slashed / 2n);
    expect(c.nex(cAddr)).to.equal(nex0 - 1000n); // bond returned; only the fee
    expect(j.state).to.equal(JobState.Settled);
    expect(j.refunded).to.equal(2n * 1_000_000n); // the liar is not paid: all refunded

    // An honest receipt, challenged: the bond is burned.
    c.blocks(5); // jailBlocks
    c.succeeds(c.sendTx(node(1), 'enc.unjail', new Uint8Array([0xc0])));
    const { id: id2 } = c.submit(client, { program, input: abc });
    c.succeeds(c.hand(id2, node(1)));
    const burned = c.enc.pool(c.world).burnedNex;
    const before = c.nex(cAddr);
    c.succeeds(c.challenge(challenger, id2, n1));
    expect(c.job(id2).disputes[0]!.outcome).to.equal('rejected');
    expect(c.nex(cAddr)).to.equal(before - 1000n - 5n * NEX);
    expect(c.job(id2).state).to.equal(JobState.Settled);
    expect(c.enc.pool(c.world).burnedNex - burned).to.equal(5n * NEX);
    expect(c.job(id2).assignments[0]!.state).to.equal(AssignmentState.Paid);
    // Outside the window: refused.
    c.failsWith(c.challenge(challenger, id2, n1), E.NotChallengeable);
    c.checkEnc();
  });

  it('a lease that ends without a receipt: a light slash, and the job is placed again on another node and settles', () => {
    const { c, program } = withNodes(2, {}, () => 1n);
    const { id } = c.submit(client, { program, input: abc, deadline: 20 });
    const first = c.job(id).assignments[0]!;
    const firstKey = toHex(first.node) === toHex(addressFromKey(node(1))) ? node(1) : node(2);
    const secondKey = firstKey === node(1) ? node(2) : node(1);
    c.blocks(3); // leaseBlocks = 3
    const j = c.job(id);
    expect(j.assignments[0]!.state).to.equal(AssignmentState.Missed);
    expect(j.assignments).to.have.length(2);
    expect(toHex(j.assignments[1]!.node)).to.equal(toHex(addressFromKey(secondKey)));
    const missedNode = c.enc.node(c.world, first.node)!;
    expect(missedNode).to.include({ missed: 1, slotsUsed: 0, pending: 0, bond: 1000n * GEN - (1000n * GEN * 10_000n) / 1_000_000n });
    c.failsWith(c.hand(id, firstKey), E.LeaseExpired);
    c.succeeds(c.hand(id, secondKey));
    c.blocks(2);
    expect(c.job(id).state).to.equal(JobState.Settled);
    c.checkEnc();
  });

  it('queues a job no node has room for, places it when a slot frees, and expires a job at its deadline with a full refund', () => {
    const { c, program } = withNodes(1);
    // One slot only: the second job must wait.
    c.succeeds(c.sendTx(node(1), 'enc.update', encodeNodeTx({ slots: 1, memoryKiB: 16_384, price: 1n, bond: 0n })));
    const a = c.submit(client, { program, input: abc });
    const b = c.submit(client, { program, input: abc, fuel: 900_000 });
    expect(c.job(b.id).state).to.equal(JobState.Queued);
    expect(c.q<{ rounds: { candidates: number }[] }>('placement', { job: toHex(b.id) }).rounds[0]!.candidates).to.equal(0);
    c.succeeds(c.hand(a.id, node(1)));
    expect(c.job(b.id).state).to.equal(JobState.Placed); // placed by that block's end-block
    // A job whose node never answers, with a deadline before any re-placement: refunded in full.
    const clientNex = c.nex(addressFromKey(client));
    const d = c.submit(client, { program, input: abc, deadline: 2, fuel: 800_000 });
    c.blocks(3);
    const j = c.job(d.id);
    expect(j.state).to.equal(JobState.Expired);
    expect(j.refunded).to.equal(2n * 800_000n);
    // Meanwhile the first job settled: its refund and the owner's share of its payment came to the client too.
    const first = c.job(a.id);
    expect(first.state).to.equal(JobState.Settled);
    expect(c.nex(addressFromKey(client))).to.equal(clientNex - 1000n + first.refunded + (first.assignments[0]!.paid * 2000n) / 1_000_000n);
    c.checkEnc();
  });

  it('unregisters: no new jobs, bond and reserve back after the unbonding period once its jobs are settled', () => {
    const { c, program } = withNodes(1);
    const n1 = addressFromKey(node(1));
    const { id } = c.submit(client, { program, input: abc });
    c.succeeds(c.unregister(node(1)));
    c.failsWith(c.submit(client, { program, input: abc }).receipt, E.PriceTooLow);
    c.succeeds(c.hand(id, node(1)));
    const gen0 = c.gen(n1);
    c.blocks(8);
    expect(c.enc.node(c.world, n1)).to.equal(undefined);
    expect(c.gen(n1) - gen0).to.equal(1000n * GEN);
    expect(c.encEvents('unbonded')).to.have.length(1);
    // Registering again, it takes up its history and its receipt hash chain.
    c.succeeds(c.register(node(1)));
    expect(c.enc.node(c.world, n1)).to.include({ done: 1, status: NodeStatus.Active });
    expect(toHex(c.enc.node(c.world, n1)!.lastReceipt)).to.equal(toHex(c.job(id).assignments[0]!.receipt));
    c.checkEnc();
  });

  it('refuses a receipt whose usage is impossible for the job (the reward is computed from it)', () => {
    const { c, program } = withNodes(1);
    const { id } = c.submit(client, { program, input: abc });
    const w = c.work(id, node(1));
    const j = c.job(id);
    const inflate = (usage: Partial<typeof w.receipt.usage>) => {
      const r = new DocklockReceipt({ ...w.receipt, usage: { ...w.receipt.usage, ...usage }, signature: new Uint8Array(0) }).sign(node(1), c.enc.node(c.world, addressFromKey(node(1)))!.lastReceipt);
      return encodeReceiptTx({ job: id, receipt: r.serialize(), output: w.output });
    };
    // In one block (the lease is 3 blocks).
    const bad = [inflate({ hostCalls: 1_000_000 }), inflate({ memoryPages: j.memoryKiB / 64 + 1 }), inflate({ outputBytes: 4096 })];
    const rs = c.block(bad.map((payload, i) => c.etx(node(1), 'enc.receipt', payload, i))).receipts;
    for (const r of rs) c.failsWith(r, E.BadReceipt);
    c.succeeds(c.sendTx(node(1), 'enc.receipt', w.payload));
  });

  it('refuses a job asking more replicas than there are nodes that could take it', () => {
    const { c, program } = withNodes(2, {}, (i) => BigInt(i));
    // Only node 1 asks 1 or less.
    const msg = c.failsWith(c.submit(client, { program, maxPrice: 1n, replicas: 2 }).receipt, E.PriceTooLow);
    expect(msg).to.match(/only 1 active execution node/);
    c.succeeds(c.submit(client, { program, maxPrice: 2n, replicas: 2 }).receipt);
  });

  it('a lie caught by mismatching receipts (no challenger) costs the liar its reserve share too', () => {
    const { c, program } = withNodes(2, {}, () => 1n);
    const liar = addressFromKey(node(2));
    // First an honest job each, so that both have a reserve.
    const { id: first } = c.submit(client, { program, input: abc, replicas: 2 });
    c.succeeds(c.hand(first, node(1)));
    c.succeeds(c.hand(first, node(2)));
    c.blocks(2);
    const reserve = c.enc.node(c.world, liar)!.reserve;
    expect(reserve > 0n).to.equal(true);
    const { id } = c.submit(client, { program, input: abc, replicas: 2, fuel: 900_000 });
    c.succeeds(c.hand(id, node(1)));
    c.succeeds(c.hand(id, node(2), { lie: Uint8Array.of(1) }));
    expect(c.enc.node(c.world, liar)!.reserve).to.equal(reserve - (reserve * 100_000n) / 1_000_000n);
    c.checkEnc();
  });

  it('answers the reward query with the formula: u = (1000, 1000, 1, 10, 100) gives Φ = 1, Γ = 1/2, 500 NEX', () => {
    const c = new EncChain();
    const r = c.q<{ phi: string; gamma: string; reward: string }>('reward', { cpu: '1000', memory: '1000', storage: '1', egress: '10', receipts: '100' });
    expect(r).to.include({ phi: '1.000000000000000000', gamma: '0.500000000000000000', reward: String(500n * NEX) });
    const z = c.q<{ reward: string }>('reward', {});
    expect(z.reward).to.equal('0');
  });
});
