import { pino, type Logger } from 'pino';
import { BlsKey, Ed25519Key, type Block, type ValidatorUpdate } from '../../../../chain/index.js';
import { Blockchain } from '../../../../consensus/blockchain.js';
import { IbftEngine, MemorySignLog, type IbftOptions, type MsgType, type SignLog } from '../../../../consensus/ibft/index.js';
import { ValidatorKey } from '../../../../consensus/keys.js';
import { Mempool, TxRelay } from '../../../../consensus/mempool/index.js';
import { BlockSync, type SyncOptions } from '../../../../consensus/sync.js';
import type { GenesisDoc } from '../../../../genesis/index.js';
import { ChainStore, MemoryKV, type BatchOp, type KVController, type KVReadView } from '../../../../storage/index.js';
import { ModuleRegistry, StateMachine, type Module } from '../../../../vm/index.js';
import { createModules } from '../../../../vm/modules/index.js';
import { endBlockModule } from '../../fixtures.js';
import type { SimEndpoint, SimHub } from './network.js';
import { VirtualTimer, type Scheduler } from './scheduler.js';

/** Validator key i of every simulation: fixed secrets, so every run of a seed is identical. */
export function simValidatorKey(i: number): ValidatorKey {
  const ed = new Uint8Array(32).fill(0x31 + i);
  ed[0] = 0x5e;
  const bls = new Uint8Array(32).fill(0x71 + i);
  bls[0] = 0x5e;
  return new ValidatorKey(Ed25519Key.fromSecret(ed), BlsKey.fromSeed(bls));
}

/** Thrown inside a node to model its process dying at that exact point. */
export class SimCrash extends Error {
  constructor(readonly node: string) {
    super(`simulated crash of ${node}`);
    this.name = 'SimCrash';
  }
}

/** A process's hold on its storage: once dead, every access fails, as it would for a killed process. */
interface Fence {
  dead: boolean;
  node: string;
}

/** Storage calls waiting on simulated disk time, which only the clock can end. */
class PendingIo {
  pending = 0;
  private readonly waiters = new Set<() => void>();

  begin(): void {
    this.pending++;
    for (const w of this.waiters) w();
  }

  end(): void {
    this.pending--;
  }

  /**
   * Resolves when `work` does or when a call starts waiting (an engine blocked on it is not going
   * to become idle), whichever is first.
   */
  async race(work: Promise<void>): Promise<void> {
    let started!: () => void;
    const waiting = new Promise<void>((r) => (started = r));
    this.waiters.add(started);
    try {
      await Promise.race([work, waiting]);
    } finally {
      this.waiters.delete(started);
    }
  }
}

/** The node's disk: while `failWrites`, every batch fails as on a full disk (reads still work). */
export interface SimDisk {
  failWrites: boolean;
}

class FencedKV implements KVController {
  constructor(
    private readonly inner: KVController,
    private readonly fence: Fence,
    private readonly disk: SimDisk,
    /** A slow disk: a synced batch waits this much virtual time first (counted as pending I/O). */
    private readonly slowSync?: { ms: number; scheduler: Scheduler; io: PendingIo; armed: boolean },
  ) {}

  private check(): void {
    if (this.fence.dead) throw new SimCrash(this.fence.node);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.check();
    return this.inner.get(key);
  }

  async getAppended(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.check();
    return this.inner.getAppended(key);
  }

  readView(): KVReadView {
    const view = this.inner.readView();
    return {
      get: (key) => {
        this.check();
        return view.get(key);
      },
      getMany: async (keys) => {
        this.check();
        return view.getMany(keys);
      },
      refresh: () => view.refresh(),
    };
  }

  async batch(ops: BatchOp[], opts?: { sync?: boolean }): Promise<void> {
    this.check();
    if (this.disk.failWrites) throw Object.assign(new Error('ENOSPC: no space left on device, write (simulated)'), { code: 'ENOSPC' });
    const slow = this.slowSync;
    if (slow?.armed && opts?.sync) {
      slow.io.begin();
      try {
        await new Promise<void>((r) => slow.scheduler.at(slow.ms, r));
      } finally {
        slow.io.end();
      }
      this.check();
    }
    return this.inner.batch(ops, opts);
  }

  async *entries(range: { gte: Uint8Array; lt: Uint8Array }): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.check();
    yield* this.inner.entries(range);
  }

  async close(): Promise<void> {}
}

/** Decides whether the process dies right after a record is durable (before the message is sent). */
export type CrashTrigger = (height: number, round: number, type: MsgType) => boolean;

/** One signature a validator made, in the order it made them (across all its incarnations). */
export interface SignRecord {
  height: number;
  round: number;
  type: MsgType;
  at: number;
  incarnation: number;
}

class FencedSignLog implements SignLog {
  constructor(
    private readonly inner: SignLog,
    private readonly fence: Fence,
    private readonly afterRecord: (height: number, round: number, type: MsgType) => void,
    /** While set, the scans a (re)starting node makes (`atHeight`, `prune`) wait for it: slow disk at startup. */
    private gate: Promise<void> | undefined,
    private readonly io: PendingIo,
  ) {}

  private check(): void {
    if (this.fence.dead) throw new SimCrash(this.fence.node);
  }

  private async stall(): Promise<void> {
    if (this.gate) {
      this.io.begin();
      try {
        await this.gate;
      } finally {
        this.io.end();
      }
    }
    this.gate = undefined;
    this.check();
  }

  async get(height: number, round: number, type: MsgType) {
    this.check();
    return this.inner.get(height, round, type);
  }

  async atHeight(height: number) {
    this.check();
    await this.stall();
    return this.inner.atHeight(height);
  }

  async record(height: number, round: number, type: MsgType, envelope: Uint8Array): Promise<void> {
    this.check();
    await this.inner.record(height, round, type, envelope);
    this.afterRecord(height, round, type);
  }

  async prune(belowHeight: number): Promise<void> {
    this.check();
    await this.stall();
    return this.inner.prune(belowHeight);
  }
}

/** One run of a node's process: everything in memory that a crash loses. */
export interface Life {
  readonly fence: Fence;
  readonly timer: VirtualTimer;
  readonly network: SimEndpoint;
  readonly chain: Blockchain;
  readonly mempool: Mempool;
  readonly engine: IbftEngine;
  readonly sync: BlockSync;
}

export interface NodeEnv {
  genesis: GenesisDoc;
  scheduler: Scheduler;
  hub: SimHub;
  ibft: Partial<IbftOptions>;
  sync: Partial<SyncOptions>;
  /** Called for every block any incarnation of the node commits (consensus or sync). */
  onCommitted: (node: SimNode, block: Block) => void;
  /** Logs at this level and above are printed (SIM_LOG); errors are always recorded. */
  printLevel?: string;
  /** Virtual time a node's durable block commit (a synced batch) takes. */
  commitDelayMs?: (node: string) => number;
  /** Validator updates a module returns from the end-block hook of these heights (the set of height + 2). */
  validatorUpdates?: ReadonlyMap<number, readonly ValidatorUpdate[]>;
}

/** A module that returns the scheduled validator updates from its end-block hook, as staking will. */
function scheduledUpdates(updates: ReadonlyMap<number, readonly ValidatorUpdate[]>): Module {
  return endBlockModule('simvalidators', (ctx) => {
    const u = updates.get(ctx.block.height);
    if (!u) return;
    ctx.emit({ module: 'simvalidators', type: 'updates', attributes: [['count', String(u.length)]] });
    return [...u];
  });
}

/**
 * A validator node: durable storage (chain database and sign log) that survives crashes, and
 * the current process (`life`) — chain, mempool, IBFT engine, block sync — that does not.
 */
export class SimNode {
  readonly kv = new MemoryKV();
  /** Set `failWrites` to make the chain database's writes fail (a full disk); the sign log is elsewhere and keeps working. */
  readonly disk: SimDisk = { failWrites: false };
  /** Durable, like the chain database; replaced only by `forgetSignLog` (a deliberately broken node). */
  signLog = new MemorySignLog();
  life: Life | undefined;
  incarnations = 0;
  /** Error-level logs of live incarnations: any of them is a bug. */
  readonly errors: string[] = [];
  /** Warning messages, counted. */
  readonly warnings = new Map<string, number>();
  /** Storage calls waiting on simulated disk time: the engine may be busy until the clock moves. */
  readonly io = new PendingIo();
  /** Every signature this validator made, in order, across incarnations. */
  readonly journal: SignRecord[] = [];
  /** Blocks imported through BlockSync (as opposed to consensus or block gossip). */
  syncImports = 0;
  private crashTrigger: CrashTrigger | undefined;
  private onCrash: (() => void) | undefined;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly key: ValidatorKey,
    private readonly env: NodeEnv,
  ) {}

  get up(): boolean {
    return this.life !== undefined;
  }

  /** The committed height of the running process (or of the store, seen by the last process). */
  get height(): number {
    return this.life?.chain.height ?? this.lastHeight;
  }

  private lastHeight = 0;

  /**
   * Starts a new process over the node's durable storage. With `stallMs`, the sign-log scans of
   * startup take that much virtual time (a slow disk), and the simulation keeps delivering
   * messages meanwhile.
   */
  async start(opts: { stallMs?: number } = {}): Promise<void> {
    if (this.life) throw new Error(`${this.id} is already running`);
    const { genesis, scheduler, hub } = this.env;
    const fence: Fence = { dead: false, node: this.id };
    const incarnation = ++this.incarnations;
    const logger = this.logger(fence, incarnation);
    // Armed once the chain is open: genesis is written before the clock runs.
    const delay = this.env.commitDelayMs?.(this.id) ?? 0;
    const slowSync = delay > 0 ? { ms: delay, scheduler, io: this.io, armed: false } : undefined;
    const store = await ChainStore.open(new FencedKV(this.kv, fence, this.disk, slowSync));
    const made = createModules();
    const { bank, consensus } = made;
    const registry = this.env.validatorUpdates ? new ModuleRegistry([...made.registry.modules, scheduledUpdates(this.env.validatorUpdates)]) : made.registry;
    const sm = new StateMachine({ chainId: genesis.chainId }, { registry, fees: bank });
    // A crash fails the store's writes with SimCrash: a dead process retries nothing.
    const chain = await Blockchain.open(genesis, { store, sm, logger: logger.child({ module: 'chain' }), blockLimits: (s) => consensus.limits(s) }, { writeRetries: 0 });
    if (slowSync) slowSync.armed = true;
    chain.on('committed', ({ block }) => {
      if (!fence.dead) this.env.onCommitted(this, block);
    });
    const mempool = new Mempool({}, { chainId: genesis.chainId, registry, fees: bank, state: () => chain.state, logger: logger.child({ module: 'mempool' }) });
    const timer = new VirtualTimer(scheduler);
    const network = hub.attach(this.id);
    const gate = opts.stallMs === undefined ? undefined : new Promise<void>((r) => scheduler.at(opts.stallMs!, r));
    const signLog = new FencedSignLog(this.signLog, fence, (h, r, t) => {
      this.journal.push({ height: h, round: r, type: t, at: scheduler.now, incarnation });
      if (this.crashTrigger?.(h, r, t)) {
        this.crashTrigger = undefined;
        const after = this.onCrash;
        this.crash();
        after?.();
        throw new SimCrash(this.id);
      }
    }, gate, this.io);
    const engine = new IbftEngine(this.env.ibft, { chain, key: this.key, signLog, mempool, network, timer, logger: logger.child({ module: 'ibft' }) });
    const sync = new BlockSync(this.env.sync, {
      chain,
      network,
      timer,
      logger: logger.child({ module: 'sync' }),
      importBlock: async (b) => {
        await engine.importBlock(b);
        this.syncImports++;
      },
    });
    // Receives transaction batches; the simulation publishes its own (encodeTxBatch), on its clock.
    new TxRelay({}, { mempool, network, logger: logger.child({ module: 'relay' }) }).start({ receive: true });
    this.life = { fence, timer, network, chain, mempool, engine, sync };
    await engine.start();
    sync.start();
  }

  /** The process dies now: its timers, network endpoint and storage handles are gone. */
  crash(): void {
    const life = this.life;
    if (!life) return;
    this.lastHeight = life.chain.height;
    life.fence.dead = true;
    life.timer.kill();
    life.network.kill();
    this.env.hub.detach(this.id);
    void life.engine.stop();
    void life.sync.stop();
    this.life = undefined;
  }

  /**
   * Arms a crash right after the sign log durably records a matching message, before the
   * message is sent: the strictest test of "write, then send". `then` runs after the crash.
   */
  crashAfterSigning(trigger: CrashTrigger, then?: () => void): void {
    this.crashTrigger = trigger;
    this.onCrash = then;
  }

  /** Loses every sign-log record (a node whose sign log is not durable): restarts then may double-sign. */
  forgetSignLog(): void {
    this.signLog = new MemorySignLog();
  }

  /** Resolves when the engine's queue is drained; at once if it waits on simulated disk time (which only the clock can end). */
  async idle(): Promise<void> {
    if (this.io.pending === 0 && this.life) await this.io.race(this.life.engine.idle());
  }

  private logger(fence: Fence, incarnation: number): Logger {
    const print = this.env.printLevel;
    const id = this.id;
    const stream = {
      write: (line: string) => {
        const rec = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
        if (print) process.stderr.write(`[${id}#${incarnation}] ${line}`);
        if (fence.dead) return;
        if (rec.level >= 50) this.errors.push(`${rec.msg}${rec.err?.message ? `: ${rec.err.message}` : ''}`);
        else if (rec.level >= 40) this.warnings.set(rec.msg, (this.warnings.get(rec.msg) ?? 0) + 1);
      },
    };
    return pino({ level: print ?? 'warn', base: undefined, timestamp: false }, stream);
  }
}
