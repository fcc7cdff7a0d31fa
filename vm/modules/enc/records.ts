import { ADDRESS_LENGTH, asBigint, asBytes, asList, asSafeUint, asString, decodeList, rlpDecode, rlpEncode, fromKey, toKey, u64be, uintBytes, type RlpInput, type RlpItem } from '../../../chain/index.js';

/**
 * Every ENC record's key and encoding, built here and nowhere else, all under "enc/". Addresses
 * and ids go into keys as their bytes (latin1 key strings), heights and sequence numbers as 8-byte
 * big-endian, so that a scan of an index returns the earliest first. Amounts are base units
 * (bonds GEN, everything else NEX); records are RLP lists of fixed fields.
 */
const P = 'enc/';
const h8 = (n: number) => toKey(u64be(n));
export const Keys = {
  node: (a: Uint8Array) => `${P}node/${toKey(a)}`,
  nodes: `${P}node/`,
  nodeCount: `${P}node_count`,
  /** A node that left: its record as it left (its history: jobs done, missed, lies, jail, its last receipt), taken up again if it registers again. */
  past: (a: Uint8Array) => `${P}past/${toKey(a)}`,
  job: (id: Uint8Array) => `${P}job/${toKey(id)}`,
  jobSeq: `${P}job_seq`,
  /** Jobs newest first: (2^53 − seq) → job id. */
  jobList: (seq: number) => `${P}jobs/${h8(Number.MAX_SAFE_INTEGER - seq)}`,
  jobs: `${P}jobs/`,
  /** A node's running assignments: node ‖ job → lease end height. */
  assigned: (node: Uint8Array, job: Uint8Array) => `${P}assigned/${toKey(node)}${toKey(job)}`,
  assignedOf: (node: Uint8Array) => `${P}assigned/${toKey(node)}`,
  /** Leases by end height: height ‖ job ‖ node. */
  lease: (h: number, job: Uint8Array, node: Uint8Array) => `${P}lease/${h8(h)}${toKey(job)}${toKey(node)}`,
  leases: `${P}lease/`,
  /** Jobs by deadline height: height ‖ job. */
  deadline: (h: number, job: Uint8Array) => `${P}deadline/${h8(h)}${toKey(job)}`,
  deadlines: `${P}deadline/`,
  /** Jobs waiting for nodes, first in first out: seq ‖ job. */
  queue: (seq: number, job: Uint8Array) => `${P}queue/${h8(seq)}${toKey(job)}`,
  queued: `${P}queue/`,
  queueSeq: `${P}queue_seq`,
  queueCount: `${P}queue_count`,
  /** Disputes to settle by re-execution, first in first out: seq ‖ job. */
  dispute: (seq: number, job: Uint8Array) => `${P}dispute/${h8(seq)}${toKey(job)}`,
  disputes: `${P}dispute/`,
  disputeSeq: `${P}dispute_seq`,
  /** Jobs whose challenge window ends at a height: height ‖ job. */
  settle: (h: number, job: Uint8Array) => `${P}settle/${h8(h)}${toKey(job)}`,
  settles: `${P}settle/`,
  /** Nodes whose unbonding completes at a height: height ‖ node. */
  unbond: (h: number, node: Uint8Array) => `${P}unbond/${h8(h)}${toKey(node)}`,
  unbonds: `${P}unbond/`,
  /** An accepted receipt: job ‖ node → [receipt, output, height, index in its block's log]. */
  receipt: (job: Uint8Array, node: Uint8Array) => `${P}receipt/${toKey(job)}${toKey(node)}`,
  /** How many receipts the block being executed accepted so far (removed by its end-block). */
  blockReceipts: `${P}block_receipts`,
  /** The i-th receipt hash the block being executed accepted (removed by its end-block). */
  blockReceipt: (i: number) => `${P}block_receipt/${h8(i)}`,
  /** A block's LogBlock: the Merkle root of the receipt hashes it accepted, and the hashes. */
  logBlock: (h: number) => `${P}logblock/${h8(h)}`,
  pool: `${P}pool`,
} as const;

/** The height at the front of an index key (lease/, deadline/, settle/, unbond/) after its prefix. */
export const keyHeight = (key: string, prefix: string): number => {
  let n = 0;
  for (let i = 0; i < 8; i++) n = n * 256 + key.charCodeAt(prefix.length + i);
  return n;
};
/** The bytes of a key from `start`, `length` of them. */
export const keyBytes = (key: string, start: number, length: number): Uint8Array => fromKey(key.slice(start, start + length));

export const NodeStatus = { Active: 0, Jailed: 1, Unbonding: 2 } as const;
export type NodeStatus = (typeof NodeStatus)[keyof typeof NodeStatus];
export const NODE_STATUS_NAMES = ['active', 'jailed', 'unbonding'] as const;

export interface NodeRecord {
  slots: number;
  memoryKiB: number;
  price: bigint;
  /** GEN bonded (slashable). */
  bond: bigint;
  /** NEX locked from its payments (the fee split's reserve share), returned when it leaves; slashable like the bond. */
  reserve: bigint;
  status: NodeStatus;
  jailedUntil: number;
  /** When its unbonding completes (0 when it is not unbonding). */
  unbondAt: number;
  slotsUsed: number;
  memoryUsed: number;
  /** Jobs placed on it that are not yet settled (it may not leave while any remain). */
  pending: number;
  done: number;
  missed: number;
  lied: number;
  /** GEN slashed from it, in total. */
  slashed: bigint;
  /** The hash of its last accepted receipt (its receipt hash chain); empty before its first. */
  lastReceipt: Uint8Array;
  registeredAt: number;
}

const u = uintBytes;
export const encodeNode = (n: NodeRecord): Uint8Array =>
  rlpEncode([n.slots, n.memoryKiB, u(n.price), u(n.bond), u(n.reserve), n.status, n.jailedUntil, n.unbondAt, n.slotsUsed, n.memoryUsed, n.pending, n.done, n.missed, n.lied, u(n.slashed), n.lastReceipt, n.registeredAt]);
export function decodeNode(b: Uint8Array): NodeRecord {
  const f = decodeList(rlpDecode(b, 'enc node'), 17, 'enc node');
  const n = (i: number, w: string) => asSafeUint(f[i], w);
  const status = n(5, 'status');
  if (status > 2) throw new RangeError(`enc node status ${status} is unknown`);
  const last = asBytes(f[15], 'lastReceipt');
  if (last.length !== 0 && last.length !== 32) throw new RangeError('enc node lastReceipt must be empty or 32 bytes');
  return {
    slots: n(0, 'slots'), memoryKiB: n(1, 'memoryKiB'), price: asBigint(f[2], 'price'), bond: asBigint(f[3], 'bond'), reserve: asBigint(f[4], 'reserve'), status: status as NodeStatus,
    jailedUntil: n(6, 'jailedUntil'), unbondAt: n(7, 'unbondAt'), slotsUsed: n(8, 'slotsUsed'), memoryUsed: n(9, 'memoryUsed'), pending: n(10, 'pending'), done: n(11, 'done'), missed: n(12, 'missed'), lied: n(13, 'lied'),
    slashed: asBigint(f[14], 'slashed'), lastReceipt: last, registeredAt: n(16, 'registeredAt'),
  };
}

/** What became of one replica of a job. */
export const AssignmentState = { Running: 0, Submitted: 1, Missed: 2, Lied: 3, Paid: 4, Unpaid: 5 } as const;
export type AssignmentState = (typeof AssignmentState)[keyof typeof AssignmentState];
export const ASSIGNMENT_STATE_NAMES = ['running', 'submitted', 'missed', 'lied', 'paid', 'unpaid'] as const;

export interface Assignment {
  node: Uint8Array;
  /** The node's price when it was placed (what it is paid per unit of fuel). */
  price: bigint;
  placedAt: number;
  leaseUntil: number;
  state: AssignmentState;
  /** Its receipt's hash (empty until it is in). */
  receipt: Uint8Array;
  fuelUsed: number;
  /** NEX it was paid from escrow (before the fee split) and minted to it as the reward. */
  paid: bigint;
  reward: bigint;
}

export const JobState = { Queued: 0, Placed: 1, Executed: 2, Disputed: 3, Settled: 4, Expired: 5, Unresolved: 6 } as const;
export type JobState = (typeof JobState)[keyof typeof JobState];
export const JOB_STATE_NAMES = ['queued', 'placed', 'executed', 'disputed', 'settled', 'expired', 'unresolved'] as const;

/** One placement decision, kept so that anyone can see why (enc placement query). */
export interface PlacementRound {
  height: number;
  /** How many nodes passed the filter. */
  candidates: number;
  /** The best candidates in order (at most PLACEMENT_SHOWN): node, score, tie-break hash. */
  ranked: { node: Uint8Array; score: bigint; tiebreak: Uint8Array }[];
  chosen: Uint8Array[];
}
export const PLACEMENT_SHOWN = 8;
/** How many placement rounds a job keeps (the newest). */
export const PLACEMENT_HISTORY = 8;

export interface DisputeVerdict {
  node: Uint8Array;
  claimed: Uint8Array;
  lied: boolean;
  /** GEN slashed from its bond and NEX from its reserve. */
  slashedGen: bigint;
  slashedNex: bigint;
  /** The first result field that differs from the re-execution ('' when none). */
  field: string;
}
export interface Dispute {
  /** Requested at (challenge or mismatching receipts) and resolved at (0 while open). */
  openedAt: number;
  resolvedAt: number;
  /** The challenger (empty for a dispute the chain opened on mismatching receipts). */
  challenger: Uint8Array;
  /** The challenged node (empty: every receipt of the job). */
  node: Uint8Array;
  bond: bigint;
  /** The re-execution's receipt hash (empty while open, or when the job was over disputeFuel). */
  actual: Uint8Array;
  verdicts: DisputeVerdict[];
  /** 'open', 'upheld' (someone lied), 'rejected' (every receipt matched), 'unresolved' (not re-executable). */
  outcome: string;
}

export interface JobCapsRecord {
  fuelCap: number;
  maxInputBytes: number;
  maxOutputBytes: number;
  maxLogBytes: number;
  maxLogLines: number;
}

export interface JobRecord {
  client: Uint8Array;
  program: Uint8Array;
  /** The program's instrumented hash (what receipts carry). */
  programHash: Uint8Array;
  input: Uint8Array;
  fuel: number;
  maxPrice: bigint;
  replicas: number;
  /** KiB of memory a replica holds on its node (the program's maximum memory). */
  memoryKiB: number;
  submittedAt: number;
  /** The height by which every receipt must be in. */
  deadline: number;
  /** The job's clock: the timestamp of the block that included it (ms). */
  clock: bigint;
  caps: JobCapsRecord;
  /** NEX held for it: maxPrice × fuel × replicas, less what has been paid or refunded. */
  escrow: bigint;
  state: JobState;
  /** Replicas still to place. */
  needed: number;
  /** Its queue key while it waits for nodes ('' otherwise). */
  queueKey: string;
  assignments: Assignment[];
  executedAt: number;
  settleAt: number;
  settledAt: number;
  refunded: bigint;
  placements: PlacementRound[];
  disputes: Dispute[];
  seq: number;
}

const encAssignment = (a: Assignment): RlpInput[] => [a.node, u(a.price), a.placedAt, a.leaseUntil, a.state, a.receipt, a.fuelUsed, u(a.paid), u(a.reward)];
function decAssignment(item: RlpItem): Assignment {
  const f = decodeList(item, 9, 'enc assignment');
  const state = asSafeUint(f[4], 'state');
  if (state > 5) throw new RangeError(`enc assignment state ${state} is unknown`);
  return { node: asBytes(f[0], 'node', ADDRESS_LENGTH), price: asBigint(f[1], 'price'), placedAt: asSafeUint(f[2], 'placedAt'), leaseUntil: asSafeUint(f[3], 'leaseUntil'), state: state as AssignmentState, receipt: asBytes(f[5], 'receipt'), fuelUsed: asSafeUint(f[6], 'fuelUsed'), paid: asBigint(f[7], 'paid'), reward: asBigint(f[8], 'reward') };
}
const encRound = (r: PlacementRound): RlpInput[] => [r.height, r.candidates, r.ranked.map((x) => [x.node, u(x.score), x.tiebreak]), r.chosen];
function decRound(item: RlpItem): PlacementRound {
  const f = decodeList(item, 4, 'enc placement');
  return {
    height: asSafeUint(f[0], 'height'),
    candidates: asSafeUint(f[1], 'candidates'),
    ranked: asList(f[2], 'ranked').map((x) => {
      const g = decodeList(x, 3, 'enc ranked');
      return { node: asBytes(g[0], 'node', ADDRESS_LENGTH), score: asBigint(g[1], 'score'), tiebreak: asBytes(g[2], 'tiebreak', 32) };
    }),
    chosen: asList(f[3], 'chosen').map((x) => asBytes(x, 'chosen', ADDRESS_LENGTH)),
  };
}
const encDispute = (d: Dispute): RlpInput[] => [d.openedAt, d.resolvedAt, d.challenger, d.node, u(d.bond), d.actual, d.verdicts.map((v) => [v.node, v.claimed, v.lied ? 1 : 0, u(v.slashedGen), u(v.slashedNex), v.field]), d.outcome];
function decDispute(item: RlpItem): Dispute {
  const f = decodeList(item, 8, 'enc dispute');
  return {
    openedAt: asSafeUint(f[0], 'openedAt'),
    resolvedAt: asSafeUint(f[1], 'resolvedAt'),
    challenger: asBytes(f[2], 'challenger'),
    node: asBytes(f[3], 'node'),
    bond: asBigint(f[4], 'bond'),
    actual: asBytes(f[5], 'actual'),
    verdicts: asList(f[6], 'verdicts').map((x) => {
      const g = decodeList(x, 6, 'enc verdict');
      return { node: asBytes(g[0], 'node', ADDRESS_LENGTH), claimed: asBytes(g[1], 'claimed', 32), lied: asSafeUint(g[2], 'lied') === 1, slashedGen: asBigint(g[3], 'slashedGen'), slashedNex: asBigint(g[4], 'slashedNex'), field: asString(g[5], 'field', 64) };
    }),
    outcome: asString(f[7], 'outcome', 16),
  };
}

export function encodeJob(j: JobRecord): Uint8Array {
  const c = j.caps;
  return rlpEncode([
    j.client, j.program, j.programHash, j.input, j.fuel, u(j.maxPrice), j.replicas, j.memoryKiB, j.submittedAt, j.deadline, u(j.clock),
    [c.fuelCap, c.maxInputBytes, c.maxOutputBytes, c.maxLogBytes, c.maxLogLines],
    u(j.escrow), j.state, j.needed, j.queueKey, j.assignments.map(encAssignment), j.executedAt, j.settleAt, j.settledAt, u(j.refunded), j.placements.map(encRound), j.disputes.map(encDispute), j.seq,
  ]);
}
export function decodeJob(b: Uint8Array): JobRecord {
  const f = decodeList(rlpDecode(b, 'enc job'), 24, 'enc job');
  const n = (i: number, w: string) => asSafeUint(f[i], w);
  const c = decodeList(f[11]!, 5, 'enc job caps').map((x, i) => asSafeUint(x, `caps[${i}]`));
  const state = n(13, 'state');
  if (state > 6) throw new RangeError(`enc job state ${state} is unknown`);
  return {
    client: asBytes(f[0], 'client', ADDRESS_LENGTH), program: asBytes(f[1], 'program', 32), programHash: asBytes(f[2], 'programHash', 32), input: asBytes(f[3], 'input'), fuel: n(4, 'fuel'), maxPrice: asBigint(f[5], 'maxPrice'),
    replicas: n(6, 'replicas'), memoryKiB: n(7, 'memoryKiB'), submittedAt: n(8, 'submittedAt'), deadline: n(9, 'deadline'), clock: asBigint(f[10], 'clock', 8),
    caps: { fuelCap: c[0]!, maxInputBytes: c[1]!, maxOutputBytes: c[2]!, maxLogBytes: c[3]!, maxLogLines: c[4]! },
    escrow: asBigint(f[12], 'escrow'), state: state as JobState, needed: n(14, 'needed'), queueKey: asString(f[15], 'queueKey', 128),
    assignments: asList(f[16], 'assignments').map(decAssignment), executedAt: n(17, 'executedAt'), settleAt: n(18, 'settleAt'), settledAt: n(19, 'settledAt'), refunded: asBigint(f[20], 'refunded'),
    placements: asList(f[21], 'placements').map(decRound), disputes: asList(f[22], 'disputes').map(decDispute), seq: n(23, 'seq'),
  };
}

export interface StoredReceipt {
  receipt: Uint8Array;
  output: Uint8Array;
  height: number;
  /** Its place among the receipts its block accepted (its leaf in the block's LogBlock). */
  index: number;
}
export const encodeStoredReceipt = (r: StoredReceipt): Uint8Array => rlpEncode([r.receipt, r.output, r.height, r.index]);
export function decodeStoredReceipt(b: Uint8Array): StoredReceipt {
  const f = decodeList(rlpDecode(b, 'enc receipt'), 4, 'enc receipt');
  return { receipt: asBytes(f[0], 'receipt'), output: asBytes(f[1], 'output'), height: asSafeUint(f[2], 'height'), index: asSafeUint(f[3], 'index') };
}

/** [height, [hash…]]: the receipts accepted so far in the block at `height`. */
export const encodeHashes = (height: number, hashes: readonly Uint8Array[]): Uint8Array => rlpEncode([height, [...hashes]]);
export function decodeHashes(b: Uint8Array): { height: number; hashes: Uint8Array[] } {
  const f = decodeList(rlpDecode(b, 'enc hashes'), 2, 'enc hashes');
  return { height: asSafeUint(f[0], 'height'), hashes: asList(f[1], 'hashes').map((x) => asBytes(x, 'hash', 32)) };
}

/** What the ENC account holds, by purpose, and what ENC has created and destroyed (the invariants' other side). */
export interface Pool {
  /** NEX escrowed for jobs not yet settled or refunded. */
  escrow: bigint;
  /** NEX locked in nodes' reserves. */
  reserves: bigint;
  /** NEX posted as challenge bonds of open disputes. */
  challengeBonds: bigint;
  /** GEN bonded by execution nodes. */
  bonds: bigint;
  /** NEX minted as proof-of-execution rewards. */
  minted: bigint;
  /** NEX burned (slashed reserves, lost challenge bonds) and GEN burned (slashed bonds). */
  burnedNex: bigint;
  burnedGen: bigint;
}
export const EMPTY_POOL: Pool = { escrow: 0n, reserves: 0n, challengeBonds: 0n, bonds: 0n, minted: 0n, burnedNex: 0n, burnedGen: 0n };
export const encodePool = (p: Pool): Uint8Array => rlpEncode([p.escrow, p.reserves, p.challengeBonds, p.bonds, p.minted, p.burnedNex, p.burnedGen].map(u));
export function decodePool(b: Uint8Array): Pool {
  const f = decodeList(rlpDecode(b, 'enc pool'), 7, 'enc pool').map((x, i) => asBigint(x, `pool[${i}]`));
  return { escrow: f[0]!, reserves: f[1]!, challengeBonds: f[2]!, bonds: f[3]!, minted: f[4]!, burnedNex: f[5]!, burnedGen: f[6]! };
}
