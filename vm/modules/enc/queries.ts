import { ADDRESS_LENGTH, equalBytes, formatAddress, fromHex, fromKey, merkleProof, toHex } from '../../../chain/index.js';
import { JOB_STATUS_NAMES, decodeReceipt } from '../../../docklock/index.js';
import { VmError, VmErrorCode } from '../../errors.js';
import type { QueryContext, QuerySpec } from '../../module.js';
import type { EncModule } from './enc.js';
import { score } from './placement.js';
import { ASSIGNMENT_STATE_NAMES, AssignmentState, JOB_STATE_NAMES, Keys, NODE_STATUS_NAMES, decodeHashes, decodeNode, keyBytes, type JobRecord, type NodeRecord } from './records.js';
import { FIXED, USAGE_NAMES, estimateReward, formatFixed, parseMicro, type RewardUsage } from './reward.js';

const hexParam = (name: string, what: string) => ({ name, type: 'string' as const, description: what, required: true });
const addrParam = (name: string, what: string, required = true) => ({ name, type: 'address' as const, description: what, required });

export const ENC_QUERIES: readonly QuerySpec[] = [
  { name: 'params', summary: 'The ENC parameters: bonds, caps, leases, challenge window, slashes, fee split and the reward formula’s weights and scales', params: [] },
  { name: 'pool', summary: 'What ENC’s account holds (escrow, reserves, challenge bonds, GEN bonds) beside its balances, and the NEX minted and burned', params: [] },
  { name: 'nodes', summary: 'Registered execution nodes in address order (100 a page): capacity, price, bond, status, jobs done, missed, lies, slashes', params: [addrParam('after', 'list nodes after this one (the previous page’s `next`)', false)] },
  { name: 'node', summary: 'One execution node', params: [addrParam('address', 'the node’s account')] },
  { name: 'leases', summary: "A node's running leases: job, program, fuel, clock, caps, lease end (what an executor runs)", params: [addrParam('address', 'the node’s account')] },
  {
    name: 'job',
    summary: 'A job: its state, escrow, assignments (node, price, lease, receipt, payment, reward), disputes and settlement',
    params: [hexParam('id', 'the job id: the submit transaction’s hash (hex)'), { name: 'input', type: 'integer', description: '1: include the input (hex)' }],
  },
  { name: 'jobs', summary: 'Jobs newest first (50 a page): id, state, program, replicas, fuel, submitted height', params: [{ name: 'before', type: 'integer', description: 'list jobs older than this sequence number (the previous page’s `next`)' }] },
  {
    name: 'receipt',
    summary: "A node's accepted receipt for a job: the receipt, the output, its state key (for state_getProof) and its Merkle proof in its block's LogBlock",
    params: [hexParam('job', 'the job id (hex)'), addrParam('node', 'the node’s account')],
  },
  { name: 'logblock', summary: "A block's LogBlock: the Merkle root of the receipt hashes it accepted, and the hashes", params: [{ name: 'height', type: 'integer', description: 'the block height', required: true }] },
  { name: 'placement', summary: "Why a job was placed where it was: each round's candidates, their scores and tie-break hashes, and the choice", params: [hexParam('job', 'the job id (hex)')] },
  {
    name: 'reward',
    summary: 'The proof-of-execution reward for a usage: Φ, Γ and the NEX minted (the chain’s formula and parameters)',
    params: USAGE_NAMES.map((n) => ({ name: n, type: 'string' as const, description: `${n} (a decimal number, at most 6 decimals; default 0)` })),
  },
];

const bad = (m: string) => new VmError(VmErrorCode.InvalidQuery, m);
function idOf(text: unknown, what: string): Uint8Array {
  try {
    const t = String(text ?? '');
    return fromHex(t.startsWith('0x') ? t : `0x${t}`, 32, what);
  } catch {
    throw bad(`${what} must be 32 bytes of hex`);
  }
}

export function nodeJson(address: Uint8Array, n: NodeRecord) {
  return {
    address: formatAddress(address),
    status: NODE_STATUS_NAMES[n.status],
    slots: n.slots,
    slotsUsed: n.slotsUsed,
    memoryKiB: n.memoryKiB,
    memoryUsed: n.memoryUsed,
    price: n.price.toString(),
    bond: n.bond.toString(),
    reserve: n.reserve.toString(),
    jailedUntil: n.jailedUntil,
    unbondAt: n.unbondAt,
    pending: n.pending,
    done: n.done,
    missed: n.missed,
    lied: n.lied,
    slashed: n.slashed.toString(),
    lastReceipt: n.lastReceipt.length ? toHex(n.lastReceipt) : null,
    registeredAt: n.registeredAt,
  };
}

export function jobJson(id: Uint8Array, j: JobRecord, withInput: boolean) {
  return {
    id: toHex(id),
    state: JOB_STATE_NAMES[j.state],
    client: formatAddress(j.client),
    program: toHex(j.program),
    programHash: toHex(j.programHash),
    inputBytes: j.input.length,
    ...(withInput ? { input: toHex(j.input) } : {}),
    fuel: j.fuel,
    maxPrice: j.maxPrice.toString(),
    replicas: j.replicas,
    memoryKiB: j.memoryKiB,
    submittedAt: j.submittedAt,
    deadline: j.deadline,
    clock: j.clock.toString(),
    caps: { ...j.caps },
    escrow: j.escrow.toString(),
    needed: j.needed,
    queued: j.queueKey !== '',
    assignments: j.assignments.map((a) => ({
      node: formatAddress(a.node),
      state: ASSIGNMENT_STATE_NAMES[a.state],
      price: a.price.toString(),
      placedAt: a.placedAt,
      leaseUntil: a.leaseUntil,
      receipt: a.receipt.length ? toHex(a.receipt) : null,
      fuelUsed: a.fuelUsed,
      paid: a.paid.toString(),
      reward: a.reward.toString(),
    })),
    executedAt: j.executedAt,
    settleAt: j.settleAt,
    settledAt: j.settledAt,
    refunded: j.refunded.toString(),
    disputes: j.disputes.map((d) => ({
      openedAt: d.openedAt,
      resolvedAt: d.resolvedAt,
      challenger: d.challenger.length ? formatAddress(d.challenger) : null,
      node: d.node.length ? formatAddress(d.node) : null,
      bond: d.bond.toString(),
      actual: d.actual.length ? toHex(d.actual) : null,
      outcome: d.outcome,
      verdicts: d.verdicts.map((v) => ({ node: formatAddress(v.node), claimed: toHex(v.claimed), lied: v.lied, field: v.field || null, slashedGen: v.slashedGen.toString(), slashedNex: v.slashedNex.toString() })),
    })),
    seq: j.seq,
  };
}

const fixed = (x: bigint) => formatFixed(x, 18);

export function encQuery(m: EncModule, ctx: QueryContext, path: string, params: unknown): unknown {
  const q = (params ?? {}) as Record<string, unknown>;
  const state = ctx.state;
  const p = () => m.params.get(state);
  switch (path) {
    case 'params':
      return m.params.toJson(p());
    case 'pool': {
      const pool = m.pool(state);
      const bank = m.deps.bank;
      return {
        account: formatAddress(bank.account),
        escrow: pool.escrow.toString(),
        reserves: pool.reserves.toString(),
        challengeBonds: pool.challengeBonds.toString(),
        bonds: pool.bonds.toString(),
        minted: pool.minted.toString(),
        burnedNex: pool.burnedNex.toString(),
        burnedGen: pool.burnedGen.toString(),
        balances: { GEN: bank.balance(state, bank.account, 'GEN').toString(), NEX: bank.balance(state, bank.account, 'NEX').toString() },
        // What the account holds beyond its books: anything sent to it by a plain transfer (ENC never spends it).
        excess: {
          GEN: (bank.balance(state, bank.account, 'GEN') - pool.bonds).toString(),
          NEX: (bank.balance(state, bank.account, 'NEX') - pool.escrow - pool.reserves - pool.challengeBonds).toString(),
        },
      };
    }
    case 'nodes': {
      const after = q.after as Uint8Array | undefined;
      const rows = state.scan(Keys.nodes, { limit: 101, ...(after ? { after: Keys.node(after) } : {}) });
      const page = rows.slice(0, 100).map(([k, v]) => nodeJson(keyBytes(k, Keys.nodes.length, ADDRESS_LENGTH), decodeNode(v)));
      return { nodes: page, next: rows.length > 100 ? page[page.length - 1]!.address : null };
    }
    case 'node': {
      const a = q.address as Uint8Array;
      const n = m.node(state, a);
      if (!n) throw bad(`${formatAddress(a)} is not a registered execution node`);
      return nodeJson(a, n);
    }
    case 'leases': {
      const a = q.address as Uint8Array;
      const prefix = Keys.assignedOf(a);
      // A node may hold more leases than maxSlots allows now (governance lowered it): list them all (maxSlots' own bound).
      return state.scan(prefix, { limit: 1024 }).map(([k]) => {
        const id = keyBytes(k, prefix.length, 32);
        const j = m.job(state, id)!;
        const as = j.assignments.find((x) => x.state === AssignmentState.Running && equalBytes(x.node, a))!;
        return { job: toHex(id), program: toHex(j.program), programHash: toHex(j.programHash), fuel: j.fuel, clock: j.clock.toString(), caps: { ...j.caps }, inputBytes: j.input.length, placedAt: as.placedAt, leaseUntil: as.leaseUntil, price: as.price.toString() };
      });
    }
    case 'job': {
      const id = idOf(q.id, 'id');
      const j = m.job(state, id);
      if (!j) throw bad(`no job ${toHex(id)} was submitted`);
      return jobJson(id, j, q.input === 1);
    }
    case 'jobs': {
      const before = typeof q.before === 'number' ? q.before : undefined;
      const rows = state.scan(Keys.jobs, { limit: 51, ...(before !== undefined ? { after: Keys.jobList(before) } : {}) });
      const page = rows.slice(0, 50).map(([, v]) => {
        const j = m.job(state, v)!;
        return { id: toHex(v), seq: j.seq, state: JOB_STATE_NAMES[j.state], program: toHex(j.program), client: formatAddress(j.client), replicas: j.replicas, fuel: j.fuel, submittedAt: j.submittedAt, deadline: j.deadline, settledAt: j.settledAt, nodes: j.assignments.map((a) => formatAddress(a.node)) };
      });
      return { jobs: page, next: rows.length > 50 ? page[page.length - 1]!.seq : null };
    }
    case 'receipt': {
      const id = idOf(q.job, 'job');
      const node = q.node as Uint8Array;
      const r = m.storedReceipt(state, id, node);
      if (!r) throw bad(`no receipt of ${formatAddress(node)} for job ${toHex(id)} is in`);
      const receipt = decodeReceipt(r.receipt);
      const lb = state.getRaw(Keys.logBlock(r.height));
      const hashes = lb ? decodeHashes(lb).hashes : [];
      const [root, ...leaves] = hashes;
      const proof = root && leaves[r.index] ? merkleProof(leaves, r.index) : null;
      return {
        job: toHex(id),
        node: formatAddress(node),
        height: r.height,
        status: JOB_STATUS_NAMES[receipt.status],
        receipt: receipt.toJson(),
        output: toHex(r.output),
        stateKey: toHex(fromKey(Keys.receipt(id, node))),
        logBlock: proof ? { height: r.height, root: toHex(root!), index: r.index, leaves: leaves.length, siblings: proof.siblings.map((x) => toHex(x)), stateKey: toHex(fromKey(Keys.logBlock(r.height))) } : null,
      };
    }
    case 'logblock': {
      const height = q.height as number;
      const lb = state.getRaw(Keys.logBlock(height));
      if (!lb) throw bad(`block ${height} accepted no ENC receipt (or is not executed yet)`);
      const [root, ...leaves] = decodeHashes(lb).hashes;
      return { height, root: toHex(root!), receipts: leaves.map((x) => toHex(x)) };
    }
    case 'placement': {
      const id = idOf(q.job, 'job');
      const j = m.job(state, id);
      if (!j) throw bad(`no job ${toHex(id)} was submitted`);
      return {
        job: toHex(id),
        rule: 'filter: active, bond ≥ minBond, a free slot and enough free memory, price ≤ maxPrice, no replica of the job yet; score = 4·price + 3·load + 3·record (each out of 1,000,000); order: score descending, tie-break hash ascending, address; the first `needed` are chosen',
        rounds: j.placements.map((r) => ({
          height: r.height,
          candidates: r.candidates,
          ranked: r.ranked.map((x) => ({ node: formatAddress(x.node), score: x.score.toString(), tiebreak: toHex(x.tiebreak) })),
          chosen: r.chosen.map((x) => formatAddress(x)),
        })),
        now: m.candidates(state, p()).map((c) => ({ node: formatAddress(c.address), score: score(c.node, j.maxPrice).toString(), status: NODE_STATUS_NAMES[c.node.status], price: c.node.price.toString(), freeSlots: c.node.slots - c.node.slotsUsed })),
      };
    }
    case 'reward': {
      const usage = {} as RewardUsage;
      for (const n of USAGE_NAMES) {
        const t = q[n] === undefined ? '0' : String(q[n]);
        const v = parseMicro(t);
        if (v === undefined) throw bad(`${n} must be a non-negative decimal number with at most 6 decimals, not "${t.slice(0, 32)}"`);
        usage[n] = v;
      }
      const rp = m.rewardParams(state);
      const r = estimateReward(usage, rp);
      return {
        usage: Object.fromEntries(USAGE_NAMES.map((n) => [n, formatFixed(usage[n], 6)])),
        phi: fixed(r.phi),
        gamma: fixed(r.gamma),
        reward: r.reward.toString(),
        rewardNex: rp.decimals > 0 ? formatFixed(r.reward, rp.decimals) : r.reward.toString(),
        formula: 'Φ = Σ wᵢ·uᵢ/sᵢ; Γ = Φ/(1+Φ); reward = K·A·Γ NEX (fixed point, 18 decimals, each step rounded down)',
        weightsPpm: Object.fromEntries(USAGE_NAMES.map((n) => [n, rp.weightsPpm[n].toString()])),
        scales: Object.fromEntries(USAGE_NAMES.map((n) => [n, rp.scales[n].toString()])),
        k: rp.k.toString(),
        aPpm: rp.aPpm.toString(),
        fixedPoint: FIXED.toString(),
      };
    }
  }
  throw bad(`enc has no query "${path}"`);
}
