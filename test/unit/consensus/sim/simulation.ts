import {
  ValidatorSet,
  addressFromPublicKey,
  equalBytes,
  toHex,
  type Block,
  type CommitCertificate,
  type ValidatorUpdate,
} from '../../../../chain/index.js';
import { decodeEnvelope, type IbftOptions, type MsgType } from '../../../../consensus/ibft/index.js';
import type { SyncOptions } from '../../../../consensus/sync.js';
import { encodeTxBatch } from '../../../../consensus/mempool/index.js';
import { buildGenesis, devAccountKey, type GenesisDoc } from '../../../../genesis/index.js';
import { getNonce } from '../../../../vm/index.js';
import { TRANSFER_KIND, encodeTransfer } from '../../../../vm/modules/bank/index.js';
import { ProposerPriorities, Transaction, proposerAt } from '../../../../chain/index.js';
import { Topic } from '../../../../p2p/network.js';
import { ByzantineCoalition } from './byzantine.js';
import { findDoubleSigns, journalProblems, type DoubleSign } from './invariants.js';
import { RELIABLE, SimHub, type LinkFaults } from './network.js';
import { SimCrash, SimNode, simValidatorKey } from './node.js';
import { Prng } from './prng.js';
import { Scheduler } from './scheduler.js';

export const SIM_CHAIN_ID = 'metanode-sim';
export const SIM_GENESIS_TIME = new Date('2026-01-01T00:00:00.000Z');

/** Consensus timing for simulations: short, so runs need few events; virtual, so it costs nothing. */
export const SIM_IBFT: Partial<IbftOptions> = { roundTimeoutMs: 2_000, maxRoundTimeoutMs: 16_000, emptyBlockIntervalMs: 1_000 };
export const SIM_SYNC: Partial<SyncOptions> = { pollIntervalMs: 2_000, batchSize: 16 };

export interface SimOptions {
  n: number;
  seed: number;
  /** Voting power of each validator (default 1 each). */
  powers?: bigint[];
  faults?: LinkFaults;
  ibft?: Partial<IbftOptions>;
  sync?: Partial<SyncOptions>;
  /** Funded dev accounts that traffic sends from. */
  accounts?: number;
  /** Node indices run by the byzantine (equivocating) coalition. */
  byzantine?: number[];
  /** Print node logs at this pino level (debugging only). */
  printLevel?: string;
  /** Virtual time a node's durable block commit (a synced batch) takes: a slow disk. */
  commitDelayMs?: (node: string) => number;
  /** Validator updates returned by the end-block hook of these heights (each the set of height + 2). */
  validatorUpdates?: ReadonlyMap<number, readonly ValidatorUpdate[]>;
}

/** The validator set of an n-node simulation (what its genesis holds). */
export function simValidatorSet(n: number, powers?: bigint[]): ValidatorSet {
  return new ValidatorSet(
    Array.from({ length: n }, (_, i) => simValidatorKey(i)).map((k, i) => ({ address: k.address, publicKey: k.ed25519.publicKey, blsPublicKey: k.bls.publicKey, power: powers?.[i] ?? 1n })),
  );
}

/** The index of the node that proposes (height, round) in an n-node simulation. */
export function simProposer(n: number, height: number, round: number): number {
  const set = simValidatorSet(n);
  const addr = proposerAt(() => set, height, round).address;
  return Array.from({ length: n }, (_, i) => simValidatorKey(i)).findIndex((k) => equalBytes(k.address, addr));
}

/** A committed block as some node saw it. */
export interface CommitRecord {
  node: string;
  height: number;
  hash: string;
  round: number;
  txs: number;
  at: number;
}

/** A consensus message as it went on the wire: who sent it, and what it is. */
export interface WireMessage {
  from: string;
  at: number;
  height: number;
  round: number;
  type: MsgType;
}

/** A property that every run must keep; a violation fails the run at once. */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

/**
 * A seeded, deterministic network of n validators. One event queue in virtual time holds every
 * message delivery, timer and request; after each event every engine drains, so nothing runs
 * concurrently with the clock. Safety (no two blocks at one height, every certificate valid) is
 * checked on every commit.
 */
export class Simulation {
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly hub: SimHub;
  readonly nodes: SimNode[];
  readonly genesis: GenesisDoc;
  readonly valset: ValidatorSet;
  readonly coalition: ByzantineCoalition | undefined;
  /** height → hash of the first block any correct node committed there. */
  readonly canonical = new Map<number, string>();
  readonly commits: CommitRecord[] = [];
  readonly violations: string[] = [];
  private readonly verifiedCerts = new Set<string>();
  private readonly wireIndex: WireMessage[] = [];
  private readonly nonces = new Map<number, bigint>();
  private trafficSeq = 0;
  private traffic: unknown;
  txSubmitted = 0;
  txRejected = 0;

  private constructor(readonly opts: SimOptions) {
    const { n, seed } = opts;
    this.prng = new Prng(seed);
    const keys = Array.from({ length: n }, (_, i) => simValidatorKey(i));
    this.genesis = buildGenesis({
      chainId: SIM_CHAIN_ID,
      genesisTime: SIM_GENESIS_TIME,
      validators: keys.map((k, i) => ({ publicKey: k.ed25519.publicKey, blsPublicKey: k.bls.publicKey, blsProofOfPossession: k.bls.proofOfPossession(), power: opts.powers?.[i] ?? 1n })),
      devAccounts: opts.accounts ?? 4,
    });
    this.valset = simValidatorSet(n, opts.powers);
    this.scheduler = new Scheduler(SIM_GENESIS_TIME.getTime());
    const ids = keys.map((_, i) => `v${i}`);
    this.hub = new SimHub(this.scheduler, this.prng.fork(), ids);
    this.hub.setFaults(opts.faults ?? RELIABLE);
    const env = {
      genesis: this.genesis,
      scheduler: this.scheduler,
      hub: this.hub,
      ibft: { ...SIM_IBFT, ...opts.ibft },
      sync: { ...SIM_SYNC, ...opts.sync },
      onCommitted: (node: SimNode, block: Block) => this.onCommitted(node, block),
      printLevel: opts.printLevel ?? process.env.SIM_LOG,
      ...(opts.validatorUpdates ? { validatorUpdates: opts.validatorUpdates } : {}),
      commitDelayMs: opts.commitDelayMs,
    };
    this.nodes = keys.map((k, i) => new SimNode(i, ids[i]!, k, env));
    const byz = opts.byzantine ?? [];
    if (byz.length > 0) {
      const members = byz.map((i) => this.nodes[i]!);
      const honest = ids.filter((_, i) => !byz.includes(i));
      this.coalition = new ByzantineCoalition(members, honest, this.prng.fork(), SIM_CHAIN_ID);
      for (const m of members) this.hub.setInterceptor(m.id, this.coalition.interceptor(m));
    }
  }

  static async create(opts: SimOptions): Promise<Simulation> {
    const sim = new Simulation(opts);
    for (const node of sim.nodes) await node.start();
    await sim.settle();
    return sim;
  }

  get now(): number {
    return this.scheduler.now - SIM_GENESIS_TIME.getTime();
  }

  get f(): number {
    return Math.floor((this.opts.n - 1) / 3);
  }

  /** Nodes that follow the protocol (byzantine members excluded). */
  get correct(): SimNode[] {
    return this.nodes.filter((n) => !this.coalition?.has(n.id));
  }

  isCorrect(node: SimNode): boolean {
    return !this.coalition?.has(node.id);
  }

  /** The index of the node that proposes (height, round). */
  proposerOf(height: number, round: number): number {
    const addr = this.prioritiesAt(height).proposer(round).address;
    return this.nodes.findIndex((n) => equalBytes(n.key.address, addr));
  }

  heights(nodes: readonly SimNode[] = this.nodes): number[] {
    return nodes.map((n) => n.height);
  }

  // ------------------------------------------------------------------ running

  /** Lets every pending microtask and engine queue finish: nothing runs while the clock moves. */
  async settle(): Promise<void> {
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((r) => setImmediate(r));
      await Promise.all(this.nodes.map((n) => n.idle()));
    }
  }

  /** Runs events until `done()` holds or virtual time passes `now + maxMs`; returns `done()`. */
  async runUntil(done: () => boolean, maxMs: number): Promise<boolean> {
    const deadline = this.scheduler.now + maxMs;
    while (!done()) {
      const t = this.scheduler.peekTime();
      if (t === undefined || t > deadline) {
        this.scheduler.advanceTo(deadline);
        break;
      }
      this.scheduler.step();
      await this.settle();
      this.throwOnViolation();
    }
    return done();
  }

  async runFor(ms: number): Promise<void> {
    await this.runUntil(() => false, ms);
  }

  /** Runs until every node in `nodes` (default: the correct ones that are up) has committed `height`. */
  async runUntilHeight(height: number, maxMs: number, nodes?: readonly SimNode[]): Promise<boolean> {
    const who = nodes ?? this.correct.filter((n) => n.up);
    return this.runUntil(() => who.every((n) => n.height >= height), maxMs);
  }

  // ------------------------------------------------------------------ faults

  setFaults(f: LinkFaults): void {
    this.hub.setFaults(f);
  }

  crash(i: number): void {
    this.nodes[i]!.crash();
  }

  /**
   * Restarts a crashed node over its storage. With `stallMs`, its startup sign-log scans take that
   * long in virtual time and this returns at once: the run goes on (and delivers to the node) meanwhile.
   */
  async restart(i: number, opts: { stallMs?: number } = {}): Promise<void> {
    const started = this.nodes[i]!.start(opts);
    if (opts.stallMs === undefined) await started;
    else started.catch((e: unknown) => e instanceof SimCrash || this.violations.push(`${this.nodes[i]!.id} failed to restart: ${(e as Error).message}`));
    await this.settle();
  }

  partition(groups: number[][]): void {
    this.hub.partition(groups.map((g) => g.map((i) => this.nodes[i]!.id)));
  }

  heal(): void {
    this.hub.heal();
  }

  // ------------------------------------------------------------------ traffic

  /** Every `periodMs` (jittered), a random live node receives a signed bank transfer and gossips it. */
  startTraffic(periodMs: number): void {
    const tick = () => {
      this.submitTx();
      this.traffic = this.scheduler.at(this.prng.int(periodMs / 2, (3 * periodMs) / 2), tick);
    };
    this.traffic = this.scheduler.at(periodMs, tick);
  }

  stopTraffic(): void {
    this.scheduler.cancel(this.traffic);
  }

  submitTx(): void {
    const live = this.nodes.filter((n) => n.up);
    if (live.length === 0) return;
    const node = this.prng.pick(live);
    const accounts = this.opts.accounts ?? 4;
    const a = this.prng.int(0, accounts - 1);
    const from = devAccountKey(a);
    const to = addressFromPublicKey(devAccountKey((a + 1) % accounts).publicKey);
    const life = node.life!;
    const committed = getNonce(life.chain.state, addressFromPublicKey(from.publicKey));
    let nonce = this.nonces.get(a) ?? 0n;
    // A transaction that never made it into a block (lost with a crashed node) blocks later
    // nonces: after a gap of 4, resend from the committed nonce with a higher fee.
    if (nonce < committed || nonce - committed >= 4n) nonce = committed;
    this.nonces.set(a, nonce + 1n);
    const tx = Transaction.sign(
      { chainId: SIM_CHAIN_ID, nonce, sender: from.publicKey, fee: 1_000n + BigInt(this.trafficSeq++), kind: TRANSFER_KIND, payload: encodeTransfer({ to, asset: 'GEN', amount: 1n }) },
      from,
    );
    try {
      life.mempool.add(tx);
      this.txSubmitted++;
      void life.network.publish(Topic.Transactions, encodeTxBatch([tx.serialize()]));
    } catch {
      this.txRejected++;
    }
  }

  // ------------------------------------------------------------------ invariants

  /** Records a block a node committed and checks it against every other commit (public for the checker's own tests). */
  onCommitted(node: SimNode, block: Block): void {
    const height = block.height;
    const hash = toHex(block.hash());
    const cert = block.certificate;
    this.commits.push({ node: node.id, height, hash, round: cert?.round ?? -1, txs: block.transactions.length, at: this.now });
    if (!this.isCorrect(node)) return;
    const prior = this.canonical.get(height);
    if (prior === undefined) this.canonical.set(height, hash);
    else if (prior !== hash) this.violations.push(`FORK at height ${height}: ${node.id} committed ${hash}, another node committed ${prior}`);
    const problem = this.certificateProblem(block, cert);
    if (problem) this.violations.push(`${node.id} committed block ${height} (${hash}) with a bad certificate: ${problem}`);
  }

  private certificateProblem(block: Block, cert: CommitCertificate | undefined): string | undefined {
    if (!cert) return 'no certificate';
    const key = `${toHex(block.hash())}/${toHex(cert.serialize())}`;
    if (this.verifiedCerts.has(key)) return undefined;
    try {
      cert.verify(SIM_CHAIN_ID, this.valsetAt(block.height), block.height, block.hash());
    } catch (e) {
      return (e as Error).message;
    }
    this.verifiedCerts.add(key);
    return undefined;
  }

  /**
   * The set that must have certified height `height`, from the schedule alone (a reference the
   * nodes' own bookkeeping is checked against): the genesis set with the updates of every block
   * up to height − 2 applied (a block's updates that cannot apply change nothing).
   */
  /** The proposer priorities of `height`, from the reference sets (valsetAt), computed once per height. */
  private readonly priorities: ProposerPriorities[] = [];
  prioritiesAt(height: number): ProposerPriorities {
    if (this.priorities.length === 0) this.priorities.push(ProposerPriorities.initial(1, this.valsetAt(1)));
    while (this.priorities.length < height) this.priorities.push(this.priorities[this.priorities.length - 1]!.next(this.valsetAt(this.priorities.length + 1)));
    return this.priorities[height - 1]!;
  }

  valsetAt(height: number): ValidatorSet {
    let set = this.valset;
    const scheduled = [...(this.opts.validatorUpdates ?? new Map<number, readonly ValidatorUpdate[]>())].sort(([a], [b]) => a - b);
    for (const [h, updates] of scheduled) {
      if (h + 2 > height) continue;
      try {
        set = set.apply(updates);
      } catch {
        // updates that cannot apply are refused as a whole: the set stays
      }
    }
    return set;
  }

  throwOnViolation(): void {
    if (this.violations.length > 0) throw new InvariantViolation(`seed ${this.opts.seed}: ${this.violations.join('; ')}`);
  }

  /** Every consensus message put on the wire so far, decoded once (one entry per recipient). */
  sent(): readonly WireMessage[] {
    const wire = this.hub.wire;
    for (let i = this.wireIndex.length; i < wire.length; i++) {
      const { from, at, data } = wire[i]!;
      const { height, round, type } = decodeEnvelope(data).message.body;
      this.wireIndex.push({ from, at, height, round, type });
    }
    return this.wireIndex;
  }

  /** How many copies of a (height, round, type) message node `i` put on the wire. */
  sentBy(i: number, height: number, round: number, type: MsgType): number {
    const id = this.nodes[i]!.id;
    return this.sent().filter((m) => m.from === id && m.height === height && m.round === round && m.type === type).length;
  }

  /** Every signed message that appeared on the wire, checked for two different bodies at one (signer, height, round, type). */
  doubleSigns(): DoubleSign[] {
    return findDoubleSigns(this.hub.wire.map((w) => w.data));
  }

  /**
   * End-of-run checks: no violation seen; every correct node's stored chain matches the
   * canonical hashes; no correct validator signed two different messages of one kind at one
   * height and round, signed anything twice, or went back to a round below one it left; no
   * correct node logged an error.
   */
  /** `expectedErrors`: error logs a test provoked on purpose (matched by message), not violations. */
  async checkAll(expectedErrors?: RegExp): Promise<void> {
    this.throwOnViolation();
    for (const node of this.correct) {
      const life = node.life;
      if (!life) continue;
      for (let h = 1; h <= life.chain.height; h++) {
        const b = await life.chain.blocks.block(h);
        if (!b) throw new InvariantViolation(`seed ${this.opts.seed}: ${node.id} has no block ${h} below its head ${life.chain.height}`);
        const hash = toHex(b.hash());
        if (this.canonical.get(h) !== hash) throw new InvariantViolation(`seed ${this.opts.seed}: ${node.id} stores ${hash} at ${h}, canonical is ${this.canonical.get(h)}`);
        const problem = this.certificateProblem(b, b.certificate);
        if (problem) throw new InvariantViolation(`seed ${this.opts.seed}: ${node.id}'s stored block ${h}: ${problem}`);
      }
    }
    const correctAddrs = new Set(this.correct.map((n) => toHex(n.key.address)));
    const doubles = this.doubleSigns().filter((d) => correctAddrs.has(d.signer));
    if (doubles.length > 0) throw new InvariantViolation(`seed ${this.opts.seed}: correct validators signed conflicting messages: ${doubles.map((d) => d.describe).join('; ')}`);
    const signing = this.correct.flatMap((n) => journalProblems(n.id, n.journal));
    if (signing.length > 0) throw new InvariantViolation(`seed ${this.opts.seed}: ${signing.join('; ')}`);
    const errors = this.correct.flatMap((n) => n.errors.filter((e) => !expectedErrors?.test(e)).map((e) => `${n.id}: ${e}`));
    if (errors.length > 0) throw new InvariantViolation(`seed ${this.opts.seed}: correct nodes logged errors: ${errors.join('; ')}`);
  }

  /** A one-line digest of the run (for determinism checks and failure messages). */
  trace(): string {
    const heads = this.nodes.map((n) => `${n.id}@${n.height}`).join(',');
    const blocks = [...this.canonical.entries()].map(([h, x]) => `${h}:${x.slice(2, 10)}`).join(',');
    return `t=${this.now} events=${this.scheduler.fired} wire=${this.hub.wire.length} heads=${heads} blocks=${blocks}`;
  }
}
