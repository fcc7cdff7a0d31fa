import { z } from 'zod';
import { ADDRESS_LENGTH, equalBytes, formatAddress, fromKey, merkleRoot, rlpUint, asRlpUint, toHex, type Event } from '../../../chain/index.js';
import { COST_TABLE, DocklockError, DocklockErrorCode, JOB_STATUS_NAMES, decodeReceipt, diffReceipts, inputHash, outputHash, runJob, type DocklockReceipt } from '../../../docklock/index.js';
import { TxError } from '../../errors.js';
import type { ExecContext, Module, QueryContext, QuerySpec, TxContext } from '../../module.js';
import type { ModuleFault } from '../../executor.js';
import { genesisParamsSchema } from '../../params.js';
import type { OrderedReader, StateReader } from '../../state/overlay.js';
import type { BankKeeper } from '../bank/bank.js';
import { BankErrorCode } from '../bank/errors.js';
import { FEE_ASSET, type Asset } from '../bank/genesis.js';
import type { DocklockKeeper } from '../docklock/docklock.js';
import { EncTx, decodeEnc, describeEnc, type ChallengeArgs, type EncArgs, type NodeArgs, type ReceiptArgs, type SubmitArgs } from './codec.js';
import { EncTxErrorCode as E } from './errors.js';
import { JOB_LOG_CAPS, MAX_JOB_KIB, PAGE_KIB, encParamSpace, type EncParams } from './params.js';
import { place, type Candidate } from './placement.js';
import { ENC_QUERIES, encQuery } from './queries.js';
import { encJobSpec } from './spec.js';
import {
  AssignmentState as A, EMPTY_POOL, JOB_STATE_NAMES, JobState as J, Keys, NodeStatus as S, PLACEMENT_HISTORY,
  decodeJob, decodeNode, decodePool, decodeStoredReceipt, encodeHashes, encodeJob, encodeNode, encodePool, encodeStoredReceipt, keyBytes, keyHeight,
  type Assignment, type Dispute, type JobRecord, type NodeRecord, type Pool,
} from './records.js';
import { estimateReward, usageOfReceipt, type RewardParams } from './reward.js';

export const encGenesisSchema = z.object({ params: genesisParamsSchema.optional() }).strict();

export interface EncDeps {
  /** ENC's account (mint for rewards, burn for slashes): escrow, bonds, reserves and challenge bonds are held there. */
  bank: BankKeeper;
  /** Where the treasury share of each payment goes. */
  treasury: Uint8Array;
  /** Deployed programs. */
  docklock: DocklockKeeper;
  /** What an end-block item that failed threw (for the node's log; consensus data gets a stable code). */
  onFault?: (fault: ModuleFault) => void;
}

const GEN = 'GEN' as const;
const NEX = FEE_ASSET;
const ev = (type: string, attributes: [string, string][]): Event => ({ module: 'enc', type, attributes });
const fmt = formatAddress;
const ppmOf = (x: bigint, ppm: bigint) => (x * ppm) / 1_000_000n;

/**
 * ENC: execution nodes that take jobs from the chain, run them in DockLock and are paid by proof
 * of execution (docs/enc.md).
 *
 * - **Registry.** A node registers itself (its account is its identity, its key signs its
 *   receipts) with capacity (slots and memory), a price (NEX base units per unit of fuel) and a GEN
 *   bond; it may update, unregister (slashable for unbondingBlocks, then bond and reserve return)
 *   and, once jailed, unjail after jailBlocks.
 * - **Jobs.** `submit` escrows maxPrice × fuel × replicas and places the job at once, in
 *   transaction order, from the state as it is (placement.ts), or queues it; end-block places
 *   queued jobs, ends leases without receipts (a light slash, the replica placed again), and
 *   expires jobs at their deadline (refund).
 * - **Receipts.** A node hands in its signed DockLock receipt and the output; the chain checks it
 *   describes the job (id, program, input, fuel, clock, caps), its signature and the node's receipt
 *   hash chain, and the output's hash. When every replica is in, matching receipts open the
 *   challenge window and then settle (price × fuel used from escrow, the fee split, the reward
 *   minted, the rest refunded); mismatching ones open a dispute.
 * - **Disputes.** A challenge (with its bond) or mismatching receipts are settled in end-block by
 *   re-executing the job in consensus (up to disputeFuel, disputeBlockFuel a block): a node whose
 *   receipt differs loses slashLiePpm of its bond and reserve and is jailed; an unfounded
 *   challenger loses its bond.
 * - **LogBlock.** Each block's accepted receipt hashes are one Merkle root (enc/logblock).
 */
export class EncModule implements Module {
  readonly name = 'enc';
  readonly methods = Object.values(EncTx);
  readonly params = encParamSpace();
  readonly queries: readonly QuerySpec[] = ENC_QUERIES;

  constructor(readonly deps: EncDeps) {}

  // ---- Genesis ----

  defaultGenesis(): { params: Record<string, string> } {
    return { params: this.params.genesisDefaults() };
  }

  private genesisParams(config: unknown) {
    return this.params.fromGenesis(encGenesisSchema.parse(config ?? {}).params);
  }

  validateGenesis(config: unknown): void {
    const bad = this.params.genesisProblem(this.genesisParams(config));
    if (bad) throw new Error(bad);
  }

  /** A genesis without an enc section writes nothing (its state root stays what it was); the defaults apply. */
  initGenesis(ctx: ExecContext, config: unknown): void {
    if (config === undefined) return;
    this.params.init(ctx, this.genesisParams(config));
  }

  // ---- Records ----

  node(state: StateReader, address: Uint8Array): NodeRecord | undefined {
    const b = state.getRaw(Keys.node(address));
    return b && decodeNode(b);
  }
  job(state: StateReader, id: Uint8Array): JobRecord | undefined {
    const b = state.getRaw(Keys.job(id));
    return b && decodeJob(b);
  }
  pool(state: StateReader): Pool {
    const b = state.getRaw(Keys.pool);
    return b ? decodePool(b) : { ...EMPTY_POOL };
  }
  storedReceipt(state: StateReader, job: Uint8Array, node: Uint8Array) {
    const b = state.getRaw(Keys.receipt(job, node));
    return b && decodeStoredReceipt(b);
  }
  rewardParams(state: StateReader, p: EncParams = this.params.get(state)): RewardParams {
    return {
      weightsPpm: { cpu: p.weightCpuPpm, memory: p.weightMemoryPpm, storage: p.weightStoragePpm, egress: p.weightEgressPpm, receipts: p.weightReceiptsPpm },
      scales: { cpu: p.scaleCpu, memory: p.scaleMemory, storage: p.scaleStorage, egress: p.scaleEgress, receipts: p.scaleReceipts },
      k: p.rewardK,
      aPpm: p.rewardAPpm,
      decimals: this.deps.bank.decimals(state, NEX),
    };
  }

  private putNode(ctx: ExecContext, a: Uint8Array, n: NodeRecord): void {
    ctx.state.setRaw(Keys.node(a), encodeNode(n));
  }
  private putJob(ctx: ExecContext, id: Uint8Array, j: JobRecord): void {
    ctx.state.setRaw(Keys.job(id), encodeJob(j));
  }
  private updatePool(ctx: ExecContext, f: (p: Pool) => void): void {
    const p = this.pool(ctx.state);
    f(p);
    ctx.state.setRaw(Keys.pool, encodePool(p));
  }
  private counter(state: StateReader, key: string): number {
    const b = state.getRaw(key);
    return b ? Number(asRlpUint(b, key)) : 0;
  }
  private setCounter(ctx: ExecContext, key: string, n: number): void {
    ctx.state.setRaw(key, n === 0 ? null : rlpUint(n));
  }
  /** Every registered node, in address order (at most maxNodes: the registry refuses more). */
  candidates(state: OrderedReader, p: EncParams): Candidate[] {
    return state.scan(Keys.nodes, { limit: Number(p.maxNodes) }).map(([k, v]) => ({ address: keyBytes(k, Keys.nodes.length, ADDRESS_LENGTH), node: decodeNode(v) }));
  }

  // ---- Transactions ----

  decodePayload(method: string, payload: Uint8Array): EncArgs {
    return decodeEnc(method, payload);
  }

  describePayload(method: string, payload: Uint8Array): Record<string, string> | undefined {
    return describeEnc(method, payload);
  }

  addressesOf(_method: string, args: unknown): Uint8Array[] {
    const a = args as EncArgs;
    return a.method === 'challenge' ? [a.args.node] : [];
  }

  deliverTx(ctx: TxContext, _method: string, args: unknown): void {
    const a = args as EncArgs;
    const p = this.params.get(ctx.state);
    switch (a.method) {
      case 'register':
        return this.register(ctx, a.args, p);
      case 'update':
        return this.update(ctx, a.args, p);
      case 'unregister':
        return this.unregister(ctx, p);
      case 'unjail':
        return this.unjail(ctx, p);
      case 'submit':
        return this.submit(ctx, a.args, p);
      case 'receipt':
        return this.receipt(ctx, a.args, p);
      case 'challenge':
        return this.challenge(ctx, a.args, p);
    }
  }

  private checkCapacity(a: NodeArgs, p: EncParams): void {
    if (a.slots < 1 || a.slots > Number(p.maxSlots)) throw new TxError(E.InvalidNode, `slots must be 1 to ${p.maxSlots} (maxSlots), not ${a.slots}`);
    if (a.memoryKiB < PAGE_KIB || a.memoryKiB > MAX_JOB_KIB * a.slots) throw new TxError(E.InvalidNode, `memory must be ${PAGE_KIB} to ${MAX_JOB_KIB * a.slots} KiB (one page to ${MAX_JOB_KIB} KiB a slot), not ${a.memoryKiB}`);
    if (a.price > 10n ** 18n) throw new TxError(E.InvalidNode, 'price must be at most 10^18 NEX base units per unit of fuel');
  }

  private bondIn(ctx: TxContext, amount: bigint): void {
    if (amount === 0n) return;
    this.deps.bank.transfer(ctx, ctx.sender, this.deps.bank.account, GEN, amount);
    this.updatePool(ctx, (q) => (q.bonds += amount));
  }

  private register(ctx: TxContext, a: NodeArgs, p: EncParams): void {
    if (this.node(ctx.state, ctx.sender)) throw new TxError(E.AlreadyRegistered, `${fmt(ctx.sender)} is already a registered execution node: change it with enc.update`);
    const count = this.counter(ctx.state, Keys.nodeCount);
    if (count >= Number(p.maxNodes)) throw new TxError(E.RegistryFull, `the registry holds ${count} execution nodes, its maximum (maxNodes)`);
    this.checkCapacity(a, p);
    if (a.bond < p.minBond) throw new TxError(E.InvalidNode, `the bond of ${a.bond} GEN base units is below minBond ${p.minBond}`);
    this.bondIn(ctx, a.bond);
    this.setCounter(ctx, Keys.nodeCount, count + 1);
    const n: NodeRecord = { slots: a.slots, memoryKiB: a.memoryKiB, price: a.price, bond: a.bond, reserve: 0n, status: S.Active, jailedUntil: 0, unbondAt: 0, slotsUsed: 0, memoryUsed: 0, pending: 0, done: 0, missed: 0, lied: 0, slashed: 0n, lastReceipt: new Uint8Array(0), registeredAt: ctx.block.height };
    // A node that left and comes back keeps its history: its record, an unserved jail term, its receipt hash chain.
    const pastBytes = ctx.state.getRaw(Keys.past(ctx.sender));
    if (pastBytes) {
      const past = decodeNode(pastBytes);
      Object.assign(n, { done: past.done, missed: past.missed, lied: past.lied, slashed: past.slashed, lastReceipt: past.lastReceipt, jailedUntil: past.jailedUntil, status: past.jailedUntil > ctx.block.height ? S.Jailed : S.Active });
      ctx.state.setRaw(Keys.past(ctx.sender), null);
    }
    this.putNode(ctx, ctx.sender, n);
    ctx.emit(ev('registered', [['node', fmt(ctx.sender)], ['slots', String(a.slots)], ['memory_kib', String(a.memoryKiB)], ['price', a.price.toString()], ['bond', a.bond.toString()]]));
  }

  private mine(ctx: TxContext): NodeRecord {
    const n = this.node(ctx.state, ctx.sender);
    if (!n) throw new TxError(E.NotRegistered, `${fmt(ctx.sender)} is not a registered execution node: register it with enc.register`);
    return n;
  }

  private update(ctx: TxContext, a: NodeArgs, p: EncParams): void {
    const n = this.mine(ctx);
    if (n.status === S.Unbonding) throw new TxError(E.WrongStatus, 'the node is unbonding: it cannot change');
    this.checkCapacity(a, p);
    if (a.slots < n.slotsUsed || a.memoryKiB < n.memoryUsed) throw new TxError(E.InvalidNode, `the node runs ${n.slotsUsed} jobs holding ${n.memoryUsed} KiB now: it cannot shrink below that`);
    if (a.bond > 0n) this.bondIn(ctx, a.bond);
    Object.assign(n, { slots: a.slots, memoryKiB: a.memoryKiB, price: a.price, bond: n.bond + a.bond });
    this.putNode(ctx, ctx.sender, n);
    ctx.emit(ev('updated', [['node', fmt(ctx.sender)], ['slots', String(a.slots)], ['memory_kib', String(a.memoryKiB)], ['price', a.price.toString()], ['bond', n.bond.toString()]]));
  }

  private unregister(ctx: TxContext, p: EncParams): void {
    const n = this.mine(ctx);
    if (n.status === S.Unbonding) throw new TxError(E.WrongStatus, `the node is already unbonding (until height ${n.unbondAt})`);
    n.status = S.Unbonding;
    n.unbondAt = ctx.block.height + Number(p.unbondingBlocks);
    this.putNode(ctx, ctx.sender, n);
    ctx.state.setRaw(Keys.unbond(n.unbondAt, ctx.sender), new Uint8Array([1]));
    ctx.emit(ev('unbonding', [['node', fmt(ctx.sender)], ['completes', String(n.unbondAt)]]));
  }

  private unjail(ctx: TxContext, p: EncParams): void {
    const n = this.mine(ctx);
    if (n.status !== S.Jailed) throw new TxError(E.WrongStatus, 'the node is not jailed');
    if (ctx.block.height < n.jailedUntil) throw new TxError(E.StillJailed, `the node is jailed until height ${n.jailedUntil}`);
    if (n.bond < p.minBond) throw new TxError(E.InvalidNode, `the bond of ${n.bond} GEN base units is below minBond ${p.minBond}: add to it with enc.update first`);
    n.status = S.Active;
    this.putNode(ctx, ctx.sender, n);
    ctx.emit(ev('unjailed', [['node', fmt(ctx.sender)]]));
  }

  private submit(ctx: TxContext, a: SubmitArgs, p: EncParams): void {
    const program = this.deps.docklock.program(ctx.state, a.program);
    if (!program) throw new TxError(E.UnknownProgram, `no program ${toHex(a.program)} is deployed: deploy it with docklock.deploy first`);
    if (a.fuel < 1 || a.fuel > Number(p.maxJobFuel)) throw new TxError(E.OverCap, `fuel must be 1 to ${p.maxJobFuel} (maxJobFuel), not ${a.fuel}`);
    if (a.input.length > Number(p.maxInputBytes)) throw new TxError(E.OverCap, `the input is ${a.input.length} bytes; at most ${p.maxInputBytes} are allowed (maxInputBytes)`);
    if (a.replicas < 1 || a.replicas > Number(p.maxReplicas)) throw new TxError(E.OverCap, `replicas must be 1 to ${p.maxReplicas} (maxReplicas), not ${a.replicas}`);
    if (a.deadline < 1 || a.deadline > Number(p.maxDeadline)) throw new TxError(E.OverCap, `the deadline must be 1 to ${p.maxDeadline} blocks (maxDeadline), not ${a.deadline}`);
    if (a.maxPrice > 10n ** 18n) throw new TxError(E.OverCap, 'maxPrice must be at most 10^18 NEX base units per unit of fuel');
    const nodes = this.candidates(ctx.state, p);
    const able = nodes.filter((c) => c.node.status === S.Active && c.node.bond >= p.minBond && c.node.price <= a.maxPrice).length;
    if (able > 0 && able < a.replicas) throw new TxError(E.PriceTooLow, `only ${able} active execution node(s) ask ${a.maxPrice} or less per unit of fuel; the job asks for ${a.replicas} replicas on distinct nodes`);
    if (able === 0) {
      const prices = nodes.filter((c) => c.node.status === S.Active).map((c) => c.node.price);
      const least = prices.length ? prices.reduce((x, y) => (y < x ? y : x)) : undefined;
      throw new TxError(E.PriceTooLow, least === undefined ? 'no execution node is active: the job could not be placed' : `no active execution node asks ${a.maxPrice} or less per unit of fuel (the lowest asks ${least})`);
    }
    const memoryKiB = this.deps.docklock.loaded(ctx.state, a.program).instrumented.memory.maximum * PAGE_KIB;
    const escrow = a.maxPrice * BigInt(a.fuel) * BigInt(a.replicas);
    try {
      if (escrow > 0n) this.deps.bank.transfer(ctx, ctx.sender, this.deps.bank.account, NEX, escrow);
    } catch (e) {
      if (e instanceof TxError && e.code === BankErrorCode.InsufficientFunds) throw new TxError(E.EscrowUnfunded, `the job's maximum cost (maxPrice × fuel × replicas = ${escrow} ${NEX} base units) cannot be escrowed: ${e.message}`);
      throw e;
    }
    this.updatePool(ctx, (q) => (q.escrow += escrow));
    const id = ctx.tx.hash();
    const seq = this.counter(ctx.state, Keys.jobSeq) + 1;
    this.setCounter(ctx, Keys.jobSeq, seq);
    ctx.state.setRaw(Keys.jobList(seq), id);
    const h = ctx.block.height;
    const job: JobRecord = {
      client: ctx.sender, program: a.program, programHash: program.instrumentedHash, input: a.input, fuel: a.fuel, maxPrice: a.maxPrice, replicas: a.replicas, memoryKiB,
      submittedAt: h, deadline: h + a.deadline, clock: BigInt(ctx.block.timestamp),
      caps: { fuelCap: Number(p.maxJobFuel), maxInputBytes: Number(p.maxInputBytes), maxOutputBytes: Number(p.maxOutputBytes), ...JOB_LOG_CAPS },
      escrow, state: J.Queued, needed: a.replicas, queueKey: '', assignments: [], executedAt: 0, settleAt: 0, settledAt: 0, refunded: 0n, placements: [], disputes: [], seq,
    };
    ctx.emit(ev('submitted', [['job', toHex(id)], ['client', fmt(ctx.sender)], ['program', toHex(a.program)], ['fuel', String(a.fuel)], ['max_price', a.maxPrice.toString()], ['replicas', String(a.replicas)], ['deadline', String(job.deadline)], ['escrow', escrow.toString()]]));
    if (!this.tryPlace(ctx, id, job, p, nodes, true)) {
      const queued = this.counter(ctx.state, Keys.queueCount);
      if (queued >= Number(p.maxQueue)) throw new TxError(E.QueueFull, `no node has room for the job now and the queue holds ${queued} jobs (maxQueue): send it again later`);
      this.enqueue(ctx, id, job);
    }
    ctx.state.setRaw(Keys.deadline(job.deadline, id), new Uint8Array([1]));
    this.putJob(ctx, id, job);
  }

  private enqueue(ctx: ExecContext, id: Uint8Array, job: JobRecord, announce = true): void {
    if (job.queueKey !== '') return;
    const seq = this.counter(ctx.state, Keys.queueSeq) + 1;
    this.setCounter(ctx, Keys.queueSeq, seq);
    this.setCounter(ctx, Keys.queueCount, this.counter(ctx.state, Keys.queueCount) + 1);
    job.queueKey = Keys.queue(seq, id);
    ctx.state.setRaw(job.queueKey, new Uint8Array([1]));
    if (announce) ctx.emit(ev('queued', [['job', toHex(id)], ['needed', String(job.needed)]]));
  }

  private dequeue(ctx: ExecContext, job: JobRecord): void {
    if (job.queueKey === '') return;
    ctx.state.setRaw(job.queueKey, null);
    this.setCounter(ctx, Keys.queueCount, this.counter(ctx.state, Keys.queueCount) - 1);
    job.queueKey = '';
  }

  /**
   * Places the job's missing replicas (all of them or none) on the best eligible nodes, reserving
   * their capacity; `nodes` is updated in place (the next placement of the block sees it).
   * `record`: keep the round even when it chose nobody (the first attempt, so the queue's reason is shown).
   */
  private tryPlace(ctx: ExecContext, id: Uint8Array, job: JobRecord, p: EncParams, nodes: Candidate[], record: boolean): boolean {
    const h = ctx.block.height;
    const round = place(nodes, { id, maxPrice: job.maxPrice, memoryKiB: job.memoryKiB, exclude: job.assignments.map((x) => x.node) }, job.needed, p.minBond, h);
    const placed = round.chosen.length > 0;
    if (placed || record) job.placements = [...job.placements, round].slice(-PLACEMENT_HISTORY);
    if (!placed) return false;
    const leaseUntil = Math.min(h + Number(p.leaseBlocks), job.deadline);
    for (const address of round.chosen) {
      const c = nodes.find((x) => equalBytes(x.address, address))!;
      c.node.slotsUsed += 1;
      c.node.memoryUsed += job.memoryKiB;
      c.node.pending += 1;
      this.putNode(ctx, address, c.node);
      job.assignments.push({ node: address, price: c.node.price, placedAt: h, leaseUntil, state: A.Running, receipt: new Uint8Array(0), fuelUsed: 0, paid: 0n, reward: 0n });
      ctx.state.setRaw(Keys.assigned(address, id), rlpUint(leaseUntil));
      ctx.state.setRaw(Keys.lease(leaseUntil, id, address), new Uint8Array([1]));
      ctx.emit(ev('placed', [['job', toHex(id)], ['node', fmt(address)], ['price', c.node.price.toString()], ['lease_until', String(leaseUntil)]]));
    }
    job.needed = 0;
    job.state = J.Placed;
    this.dequeue(ctx, job);
    return true;
  }

  private receipt(ctx: TxContext, a: ReceiptArgs, p: EncParams): void {
    const job = this.job(ctx.state, a.job);
    if (!job) throw new TxError(E.UnknownJob, `no job ${toHex(a.job)} was submitted`);
    const mine = job.assignments.filter((x) => equalBytes(x.node, ctx.sender));
    const as = mine.find((x) => x.state === A.Running);
    const h = ctx.block.height;
    if (!as || h > as.leaseUntil) {
      if (mine.some((x) => x.state === A.Submitted || x.state === A.Paid || x.state === A.Lied || x.state === A.Unpaid)) throw new TxError(E.DuplicateReceipt, `${fmt(ctx.sender)}'s receipt for job ${toHex(a.job)} is already in`);
      const ended = as ?? mine.find((x) => x.state === A.Missed);
      if (ended) throw new TxError(E.LeaseExpired, `${fmt(ctx.sender)}'s lease on job ${toHex(a.job)} ended at height ${ended.leaseUntil} without its receipt`);
      throw new TxError(E.NotAssigned, `job ${toHex(a.job)} is not placed on ${fmt(ctx.sender)}`);
    }
    let r: DocklockReceipt;
    try {
      r = decodeReceipt(a.receipt);
    } catch (e) {
      if (e instanceof DocklockError) throw new TxError(E.BadReceipt, `the receipt does not decode: ${e.message}`);
      throw e;
    }
    if (!r.signed || !equalBytes(r.executorAddress!, ctx.sender) || !r.verifySignature()) throw new TxError(E.BadReceipt, `the receipt is not signed by ${fmt(ctx.sender)}'s key`);
    const node = this.node(ctx.state, ctx.sender)!;
    if (!equalBytes(r.prev, node.lastReceipt)) throw new TxError(E.BrokenChain, `the receipt's prev is ${r.prev.length ? toHex(r.prev) : 'empty'}; the node's last accepted receipt is ${node.lastReceipt.length ? toHex(node.lastReceipt) : 'none (empty prev)'}`);
    const c = job.caps;
    const wrong =
      !equalBytes(r.jobId, a.job) ? 'job id' :
      !equalBytes(r.programHash, job.programHash) ? 'program hash' :
      !equalBytes(r.inputHash, inputHash(job.input)) ? 'input hash' :
      r.fuelLimit !== job.fuel ? 'fuel limit' :
      r.clock !== job.clock ? 'clock' :
      r.caps.fuelCap !== c.fuelCap || r.caps.maxInputBytes !== c.maxInputBytes || r.caps.maxOutputBytes !== c.maxOutputBytes || r.caps.maxLogBytes !== c.maxLogBytes || r.caps.maxLogLines !== c.maxLogLines ? 'caps' : undefined;
    if (wrong) throw new TxError(E.WrongJob, `the receipt's ${wrong} is not the job's`);
    if (a.output.length > c.maxOutputBytes || !equalBytes(outputHash(a.output), r.outputHash)) throw new TxError(E.BadOutput, `the output (${a.output.length} bytes) is not the one the receipt's output hash names`);
    // The usage the reward is computed from must be possible for this job: the output given, at most
    // the program's memory, at most one host call per COST_TABLE.hostCall fuel, the log caps.
    const u = r.usage;
    if (u.outputBytes !== a.output.length || u.memoryPages * PAGE_KIB > job.memoryKiB || u.hostCalls > Math.floor(r.fuelUsed / COST_TABLE.hostCall) || u.logBytes > c.maxLogBytes) throw new TxError(E.BadReceipt, `the receipt's usage (${u.outputBytes} output bytes, ${u.memoryPages} pages, ${u.hostCalls} host calls, ${u.logBytes} log bytes) is not possible for this job and output`);
    const hash = r.hash();
    // The block's LogBlock: this receipt's leaf (the list is made into the root, and removed, by this block's end-block).
    const stored = ctx.state.getRaw(Keys.blockReceipts);
    const index = stored ? Number(asRlpUint(stored, 'enc block receipts')) : 0;
    ctx.state.setRaw(Keys.receipt(a.job, ctx.sender), encodeStoredReceipt({ receipt: a.receipt, output: a.output, height: h, index }));
    ctx.state.setRaw(Keys.blockReceipt(index), hash);
    ctx.state.setRaw(Keys.blockReceipts, rlpUint(index + 1));
    Object.assign(as, { state: A.Submitted, receipt: hash, fuelUsed: r.fuelUsed });
    node.slotsUsed -= 1;
    node.memoryUsed -= job.memoryKiB;
    node.lastReceipt = hash;
    this.putNode(ctx, ctx.sender, node);
    ctx.state.setRaw(Keys.assigned(ctx.sender, a.job), null);
    ctx.state.setRaw(Keys.lease(as.leaseUntil, a.job, ctx.sender), null);
    ctx.emit(ev('receipt', [['job', toHex(a.job)], ['node', fmt(ctx.sender)], ['receipt', toHex(hash)], ['status', JOB_STATUS_NAMES[r.status]], ['fuel_used', String(r.fuelUsed)], ['output_hash', toHex(r.outputHash)]]));
    if (job.needed === 0 && !job.assignments.some((x) => x.state === A.Running)) this.complete(ctx, a.job, job, p);
    this.putJob(ctx, a.job, job);
  }

  /** Every replica is in (or the deadline came): compare the receipts, then open the challenge window or a dispute. */
  private complete(ctx: ExecContext, id: Uint8Array, job: JobRecord, p: EncParams): void {
    const h = ctx.block.height;
    ctx.state.setRaw(Keys.deadline(job.deadline, id), null);
    this.dequeue(ctx, job);
    const ins = job.assignments.filter((x) => x.state === A.Submitted);
    const receipts = ins.map((x) => decodeReceipt(this.storedReceipt(ctx.state, id, x.node)!.receipt));
    if (receipts.some((r) => diffReceipts(r, receipts[0]!).length > 0)) {
      this.openDispute(ctx, id, job, { challenger: new Uint8Array(0), node: new Uint8Array(0), bond: 0n });
      return;
    }
    job.state = J.Executed;
    job.executedAt = h;
    job.settleAt = h + Number(p.challengeWindow);
    ctx.state.setRaw(Keys.settle(job.settleAt, id), new Uint8Array([1]));
    ctx.emit(ev('executed', [['job', toHex(id)], ['receipts', String(ins.length)], ['settles_at', String(job.settleAt)]]));
  }

  private openDispute(ctx: ExecContext, id: Uint8Array, job: JobRecord, d: { challenger: Uint8Array; node: Uint8Array; bond: bigint }): void {
    if (job.state === J.Executed) ctx.state.setRaw(Keys.settle(job.settleAt, id), null);
    job.state = J.Disputed;
    const seq = this.counter(ctx.state, Keys.disputeSeq) + 1;
    this.setCounter(ctx, Keys.disputeSeq, seq);
    ctx.state.setRaw(Keys.dispute(seq, id), new Uint8Array([1]));
    const dispute: Dispute = { openedAt: ctx.block.height, resolvedAt: 0, challenger: d.challenger, node: d.node, bond: d.bond, actual: new Uint8Array(0), verdicts: [], outcome: 'open' };
    job.disputes.push(dispute);
    ctx.emit(ev('dispute_opened', [['job', toHex(id)], ['challenger', d.challenger.length ? fmt(d.challenger) : ''], ['node', d.node.length ? fmt(d.node) : ''], ['bond', d.bond.toString()], ['reason', d.challenger.length ? 'challenge' : 'mismatching_receipts']]));
  }

  private challenge(ctx: TxContext, a: ChallengeArgs, p: EncParams): void {
    const job = this.job(ctx.state, a.job);
    if (!job) throw new TxError(E.UnknownJob, `no job ${toHex(a.job)} was submitted`);
    if (job.state !== J.Executed || ctx.block.height >= job.settleAt) throw new TxError(E.NotChallengeable, `job ${toHex(a.job)} is not in its challenge window (it is ${JOB_STATE_NAMES[job.state]}${job.state === J.Executed ? `, settling at ${job.settleAt}` : ''})`);
    if (!job.assignments.some((x) => equalBytes(x.node, a.node) && x.state === A.Submitted)) throw new TxError(E.NotChallengeable, `job ${toHex(a.job)} has no receipt from ${fmt(a.node)}`);
    if (BigInt(job.fuel) > p.disputeFuel) throw new TxError(E.NotChallengeable, `the job's fuel ${job.fuel} is above disputeFuel ${p.disputeFuel}: the chain does not re-execute it (such jobs rely on replicas ≥ 2)`);
    try {
      if (p.challengeBond > 0n) this.deps.bank.transfer(ctx, ctx.sender, this.deps.bank.account, NEX, p.challengeBond);
    } catch (e) {
      if (e instanceof TxError && e.code === BankErrorCode.InsufficientFunds) throw new TxError(E.BondUnfunded, `the challenge bond of ${p.challengeBond} ${NEX} base units cannot be posted: ${e.message}`);
      throw e;
    }
    this.updatePool(ctx, (q) => (q.challengeBonds += p.challengeBond));
    this.openDispute(ctx, a.job, job, { challenger: ctx.sender, node: a.node, bond: p.challengeBond });
    this.putJob(ctx, a.job, job);
  }

  // ---- End-block ----

  /**
   * In this order: the block's LogBlock, then, each bounded by maxExpiriesPerBlock (or
   * maxPlacementsPerBlock, disputeBlockFuel) and each item isolated from the others: leases that
   * ended without a receipt, deadlines, queued placements, disputes, settlements, unbondings.
   */
  endBlock(ctx: ExecContext): void {
    const p = this.params.get(ctx.state);
    const h = ctx.block.height;
    const limit = Number(p.maxExpiriesPerBlock);
    const due = (prefix: string, n = limit) => ctx.state.scan(prefix, { limit: n }).filter(([k]) => keyHeight(k, prefix) <= h).map(([k]) => k);
    // The LogBlock first: it only reads what this block's receipts wrote.
    this.logBlock(ctx);
    for (const k of due(Keys.leases)) this.isolated(ctx, 'lease', k, (c) => this.leaseEnded(c, k, p));
    for (const k of due(Keys.deadlines)) this.isolated(ctx, 'deadline', k, (c) => this.deadlineCame(c, k, p));
    this.placeQueued(ctx, p);
    this.resolveDisputes(ctx, p);
    for (const k of due(Keys.settles)) {
      this.isolated(ctx, 'settle', k, (c) => {
        c.state.setRaw(k, null);
        const id = keyBytes(k, Keys.settles.length + 8, 32);
        const job = this.job(c.state, id)!;
        if (job.state !== J.Executed) return;
        this.settle(c, id, job, p);
        this.putJob(c, id, job);
      });
    }
    for (const k of due(Keys.unbonds)) this.isolated(ctx, 'unbond', k, (c) => this.unbonded(c, k, p));
  }

  /**
   * One end-block item (a lease, a deadline, a placement, a dispute, a settlement, an unbonding)
   * on its own: if it throws (a bug, or an engine fault), its writes and events are dropped, its
   * index key is removed so that it does not fail again every block, and an `enc/item_failed`
   * event names it with a stable code. The other items of the block go on.
   */
  private isolated(ctx: ExecContext, kind: string, key: string, fn: (c: ExecContext) => void): void {
    const mark = ctx.state.checkpoint();
    const events: Event[] = [];
    try {
      fn({ block: ctx.block, state: ctx.state, emit: (e) => events.push(e) });
      ctx.state.release(mark);
      for (const e of events) ctx.emit(e);
    } catch (e) {
      ctx.state.revertTo(mark);
      ctx.state.setRaw(key, null);
      const code = e instanceof TxError ? e.code : e instanceof DocklockError ? e.code : 'ENC_ITEM_FAULT';
      ctx.emit(ev('item_failed', [['kind', kind], ['key', toHex(fromKey(key))], ['code', code]]));
      this.deps.onFault?.({ module: this.name, where: `endBlock:${kind}`, height: ctx.block.height, error: e });
    }
  }

  /** The block's LogBlock: the Merkle root of the receipt hashes it accepted, in order. */
  private logBlock(ctx: ExecContext): void {
    const h = ctx.block.height;
    const stored = ctx.state.getRaw(Keys.blockReceipts);
    if (!stored) return;
    const count = Number(asRlpUint(stored, 'enc block receipts'));
    ctx.state.setRaw(Keys.blockReceipts, null);
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      hashes.push(ctx.state.getRaw(Keys.blockReceipt(i))!);
      ctx.state.setRaw(Keys.blockReceipt(i), null);
    }
    if (hashes.length === 0) return;
    const root = merkleRoot(hashes);
    ctx.state.setRaw(Keys.logBlock(h), encodeHashes(h, [root, ...hashes]));
    ctx.emit(ev('logblock', [['height', String(h)], ['root', toHex(root)], ['receipts', String(hashes.length)]]));
  }

  /** A miss slashes the bond; a lie the bond and the reserve, part of the GEN to the challenger who proved it, if any. */
  private slashBond(ctx: ExecContext, address: Uint8Array, n: NodeRecord, ppm: bigint, lie?: { challenger: Uint8Array | undefined; sharePpm: bigint }): { gen: bigint; nex: bigint } {
    const gen = ppmOf(n.bond, ppm);
    const nex = lie ? ppmOf(n.reserve, ppm) : 0n;
    const challenger = lie?.challenger;
    const toChallenger = challenger ? ppmOf(gen, lie.sharePpm) : 0n;
    n.bond -= gen;
    n.reserve -= nex;
    n.slashed += gen;
    if (challenger) this.payOut(ctx, challenger, GEN, toChallenger);
    this.deps.bank.burn(ctx, GEN, gen - toChallenger);
    this.deps.bank.burn(ctx, NEX, nex);
    this.updatePool(ctx, (q) => {
      q.bonds -= gen;
      q.burnedGen += gen - toChallenger;
      q.reserves -= nex;
      q.burnedNex += nex;
    });
    ctx.emit(ev('slashed', [['node', fmt(address)], ['gen', gen.toString()], ['nex', nex.toString()], ['to_challenger', toChallenger.toString()], ['bond', n.bond.toString()]]));
    return { gen, nex };
  }

  private leaseEnded(ctx: ExecContext, key: string, p: EncParams): void {
    const id = keyBytes(key, Keys.leases.length + 8, 32);
    const job = this.job(ctx.state, id)!;
    this.missed(ctx, id, job, job.assignments.find((x) => equalBytes(x.node, keyBytes(key, Keys.leases.length + 40, ADDRESS_LENGTH)) && x.state === A.Running)!, p);
    this.putJob(ctx, id, job);
  }

  /** A lease ended without the node's receipt: a light slash, its capacity freed, the replica placed again while the deadline allows. */
  private missed(ctx: ExecContext, id: Uint8Array, job: JobRecord, as: Assignment, p: EncParams): void {
    const address = as.node;
    as.state = A.Missed;
    ctx.state.setRaw(Keys.lease(as.leaseUntil, id, address), null);
    ctx.state.setRaw(Keys.assigned(address, id), null);
    const n = this.node(ctx.state, address)!;
    n.slotsUsed -= 1;
    n.memoryUsed -= job.memoryKiB;
    n.pending -= 1;
    n.missed += 1;
    ctx.emit(ev('missed', [['job', toHex(id)], ['node', fmt(address)], ['lease_until', String(as.leaseUntil)]]));
    this.slashBond(ctx, address, n, p.slashMissPpm);
    this.putNode(ctx, address, n);
    job.needed += 1;
    // Placed again by the queue while its deadline allows (re-placements are not held to maxQueue: they are bounded by the jobs placed).
    if (ctx.block.height < job.deadline) {
      job.state = J.Queued;
      this.enqueue(ctx, id, job);
    }
  }

  private deadlineCame(ctx: ExecContext, key: string, p: EncParams): void {
    ctx.state.setRaw(key, null);
    const id = keyBytes(key, Keys.deadlines.length + 8, 32);
    const job = this.job(ctx.state, id)!;
    if (job.state !== J.Queued && job.state !== J.Placed) return;
    // Leases end by the deadline; one end-block's bound may have left some for later: they end now.
    for (const x of job.assignments) if (x.state === A.Running) this.missed(ctx, id, job, x, p);
    this.dequeue(ctx, job);
    const ins = job.assignments.filter((x) => x.state === A.Submitted);
    if (ins.length > 0 && ins.length < job.replicas && BigInt(job.fuel) > p.disputeFuel) {
      // Fewer receipts than asked, for a job the chain cannot re-execute: none of them is checked by anyone. Refunded, nobody paid.
      for (const x of ins) this.release(ctx, x, A.Unpaid);
      this.refund(ctx, job, job.escrow);
      job.state = J.Unresolved;
      job.settledAt = ctx.block.height;
      ctx.emit(ev('expired', [['job', toHex(id)], ['refunded', job.refunded.toString()], ['reason', 'too_few_receipts']]));
    } else if (ins.length > 0) {
      job.needed = 0;
      this.complete(ctx, id, job, p);
    } else {
      this.refund(ctx, job, job.escrow);
      job.state = J.Expired;
      job.settledAt = ctx.block.height;
      ctx.emit(ev('expired', [['job', toHex(id)], ['refunded', job.refunded.toString()]]));
    }
    this.putJob(ctx, id, job);
  }

  /** From ENC's account (nothing for 0). */
  private payOut(ctx: ExecContext, to: Uint8Array, asset: Asset, amount: bigint): void {
    if (amount > 0n) this.deps.bank.transfer(ctx, this.deps.bank.account, to, asset, amount);
  }

  private refund(ctx: ExecContext, job: JobRecord, amount: bigint): void {
    this.payOut(ctx, job.client, NEX, amount);
    this.updatePool(ctx, (q) => (q.escrow -= job.escrow));
    job.refunded += amount;
    job.escrow = 0n;
  }

  private placeQueued(ctx: ExecContext, p: EncParams): void {
    const queued = ctx.state.scan(Keys.queued, { limit: Number(p.maxPlacementsPerBlock) });
    if (queued.length === 0) return;
    const nodes = this.candidates(ctx.state, p);
    for (const [k] of queued) {
      const id = keyBytes(k, Keys.queued.length + 8, 32);
      const job = this.job(ctx.state, id)!;
      if (ctx.block.height >= job.deadline) continue;
      this.isolated(ctx, 'placement', k, (c) => {
        if (!this.tryPlace(c, id, job, p, nodes, false)) {
          // To the back of the queue, so that a job no node can take does not hold the others up.
          this.dequeue(c, job);
          this.enqueue(c, id, job, false);
        }
        this.putJob(c, id, job);
      });
    }
  }

  private resolveDisputes(ctx: ExecContext, p: EncParams): void {
    let budget = p.disputeBlockFuel;
    for (const [k] of ctx.state.scan(Keys.disputes, { limit: Number(p.maxExpiriesPerBlock) })) {
      const id = keyBytes(k, Keys.disputes.length + 8, 32);
      const job = this.job(ctx.state, id)!;
      const reExecute = BigInt(job.fuel) <= p.disputeFuel;
      if (reExecute && BigInt(job.fuel) > budget) break;
      if (reExecute) budget -= BigInt(job.fuel);
      this.isolated(ctx, 'dispute', k, (c) => {
        c.state.setRaw(k, null);
        this.resolve(c, id, job, p, reExecute);
        this.putJob(c, id, job);
      });
    }
  }

  private resolve(ctx: ExecContext, id: Uint8Array, job: JobRecord, p: EncParams, reExecute: boolean): void {
    const h = ctx.block.height;
    const d = job.disputes[job.disputes.length - 1]!;
    d.resolvedAt = h;
    const ins = job.assignments.filter((x) => x.state === A.Submitted);
    let actual: DocklockReceipt | undefined;
    if (reExecute) {
      try {
        actual = runJob(this.deps.docklock.loaded(ctx.state, job.program), encJobSpec({ id, ...job })).receipt;
      } catch (e) {
        // An engine fault (which the instrumentation makes impossible) is no verdict on anyone.
        if (!(e instanceof DocklockError && e.code === DocklockErrorCode.EngineFault)) throw e;
      }
    }
    if (!actual) {
      // Not re-executed (above disputeFuel, or an engine fault): nobody is paid, nobody slashed, the client refunded, a challenger's bond returned.
      d.outcome = 'unresolved';
      this.returnBond(ctx, d);
      for (const x of ins) this.release(ctx, x, A.Unpaid);
      this.refund(ctx, job, job.escrow);
      job.state = J.Unresolved;
      job.settledAt = h;
      ctx.emit(ev('dispute_resolved', [['job', toHex(id)], ['outcome', d.outcome], ['actual', ''], ['liars', '0'], ['refunded', job.refunded.toString()]]));
      return;
    }
    d.actual = actual.hash();
    let liars = 0;
    for (const x of ins) {
      const claimed = decodeReceipt(this.storedReceipt(ctx.state, id, x.node)!.receipt);
      const diff = diffReceipts(claimed, actual);
      const verdict = { node: x.node, claimed: x.receipt, lied: diff.length > 0, slashedGen: 0n, slashedNex: 0n, field: diff[0]?.field ?? '' };
      if (verdict.lied) {
        liars += 1;
        const n = this.node(ctx.state, x.node)!;
        const s = this.slashBond(ctx, x.node, n, p.slashLiePpm, { challenger: d.challenger.length ? d.challenger : undefined, sharePpm: p.challengerSharePpm });
        verdict.slashedGen = s.gen;
        verdict.slashedNex = s.nex;
        n.lied += 1;
        n.pending -= 1;
        if (n.status === S.Active) {
          n.status = S.Jailed;
          n.jailedUntil = h + Number(p.jailBlocks);
          ctx.emit(ev('jailed', [['node', fmt(x.node)], ['until', String(n.jailedUntil)]]));
        }
        this.putNode(ctx, x.node, n);
        x.state = A.Lied;
      }
      d.verdicts.push(verdict);
    }
    d.outcome = liars > 0 ? 'upheld' : 'rejected';
    // The bond comes back when the challenge was right, and is burned when it was not.
    if (liars > 0) this.returnBond(ctx, d);
    else if (d.bond > 0n) {
      this.deps.bank.burn(ctx, NEX, d.bond);
      this.updatePool(ctx, (q) => {
        q.challengeBonds -= d.bond;
        q.burnedNex += d.bond;
      });
    }
    ctx.emit(ev('dispute_resolved', [['job', toHex(id)], ['outcome', d.outcome], ['actual', toHex(d.actual)], ['liars', String(liars)], ['claimed', d.verdicts.map((v) => toHex(v.claimed)).join(',')]]));
    this.settle(ctx, id, job, p);
  }

  private returnBond(ctx: ExecContext, d: Dispute): void {
    if (d.bond === 0n) return;
    this.payOut(ctx, d.challenger, NEX, d.bond);
    this.updatePool(ctx, (q) => (q.challengeBonds -= d.bond));
  }

  /** An assignment leaves the node's pending work without being paid. */
  private release(ctx: ExecContext, x: Assignment, state: A): void {
    const n = this.node(ctx.state, x.node)!;
    n.pending -= 1;
    this.putNode(ctx, x.node, n);
    x.state = state;
  }

  /** Pays every receipt still standing (price × fuel used, split), mints its reward, refunds the rest of the escrow. */
  private settle(ctx: ExecContext, id: Uint8Array, job: JobRecord, p: EncParams): void {
    const owner = this.deps.docklock.program(ctx.state, job.program)!.deployer;
    const rp = this.rewardParams(ctx.state, p);
    let paid = 0n;
    let rewards = 0n;
    for (const x of job.assignments) {
      if (x.state !== A.Submitted) continue;
      const r = decodeReceipt(this.storedReceipt(ctx.state, id, x.node)!.receipt);
      const pay = x.price * BigInt(x.fuelUsed);
      const reserve = ppmOf(pay, p.reserveSharePpm);
      const toOwner = ppmOf(pay, p.ownerSharePpm);
      const toTreasury = ppmOf(pay, p.treasurySharePpm);
      const toNode = pay - reserve - toOwner - toTreasury;
      const reward = estimateReward(usageOfReceipt(r, job.input.length), rp).reward;
      this.payOut(ctx, x.node, NEX, toNode);
      this.payOut(ctx, owner, NEX, toOwner);
      this.payOut(ctx, this.deps.treasury, NEX, toTreasury);
      this.deps.bank.mint(ctx, NEX, reward);
      this.payOut(ctx, x.node, NEX, reward);
      const n = this.node(ctx.state, x.node)!;
      n.reserve += reserve;
      n.done += 1;
      n.pending -= 1;
      this.putNode(ctx, x.node, n);
      this.updatePool(ctx, (q) => {
        q.reserves += reserve;
        q.minted += reward;
      });
      Object.assign(x, { state: A.Paid, paid: pay, reward });
      paid += pay;
      rewards += reward;
      ctx.emit(ev('paid', [['job', toHex(id)], ['node', fmt(x.node)], ['payment', pay.toString()], ['to_node', toNode.toString()], ['reserve', reserve.toString()], ['owner', toOwner.toString()], ['treasury', toTreasury.toString()], ['reward', reward.toString()]]));
    }
    this.refund(ctx, job, job.escrow - paid);
    job.state = J.Settled;
    job.settledAt = ctx.block.height;
    ctx.emit(ev('settled', [['job', toHex(id)], ['paid', paid.toString()], ['rewards', rewards.toString()], ['refunded', job.refunded.toString()]]));
  }

  private unbonded(ctx: ExecContext, key: string, p: EncParams): void {
    ctx.state.setRaw(key, null);
    const address = keyBytes(key, Keys.unbonds.length + 8, ADDRESS_LENGTH);
    const n = this.node(ctx.state, address);
    if (!n || n.status !== S.Unbonding) return;
    if (n.pending > 0) {
      // Jobs placed on it are not settled yet: it stays (and stays slashable) a while longer.
      n.unbondAt = ctx.block.height + Number(p.leaseBlocks);
      ctx.state.setRaw(Keys.unbond(n.unbondAt, address), new Uint8Array([1]));
      this.putNode(ctx, address, n);
      ctx.emit(ev('unbonding', [['node', fmt(address)], ['completes', String(n.unbondAt)], ['pending', String(n.pending)]]));
      return;
    }
    this.payOut(ctx, address, GEN, n.bond);
    this.payOut(ctx, address, NEX, n.reserve);
    this.updatePool(ctx, (q) => {
      q.bonds -= n.bond;
      q.reserves -= n.reserve;
    });
    ctx.state.setRaw(Keys.node(address), null);
    ctx.state.setRaw(Keys.past(address), encodeNode({ ...n, bond: 0n, reserve: 0n }));
    this.setCounter(ctx, Keys.nodeCount, this.counter(ctx.state, Keys.nodeCount) - 1);
    ctx.emit(ev('unbonded', [['node', fmt(address)], ['bond', n.bond.toString()], ['reserve', n.reserve.toString()]]));
  }

  // ---- Queries ----

  query(ctx: QueryContext, path: string, params: unknown): unknown {
    return encQuery(this, ctx, path, params);
  }
}
