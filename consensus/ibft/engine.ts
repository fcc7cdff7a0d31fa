import type { Logger } from 'pino';
import { decodeBlock, toHex, type Block } from '../../chain/index.js';
import { Topic, Verdict, type Network } from '../../p2p/network.js';
import type { Blockchain } from '../blockchain.js';
import type { ValidatorKey } from '../keys.js';
import type { Mempool } from '../mempool/index.js';
import { MempoolError, RejectReason } from '../mempool/index.js';
import type { Timer } from '../timer.js';
import { IbftCore, type IbftEvent } from './core.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './messages.js';
import type { IbftOptions } from './options.js';
import type { SignLog } from './signlog.js';

type QueueItem = IbftEvent | { kind: 'import'; block: Block; done: (err?: Error) => void };

/** Mempool rejections that say nothing bad about the peer that relayed the transaction. */
const HARMLESS = new Set<string>([RejectReason.Duplicate, RejectReason.NonceTooLow, RejectReason.NonceTooHigh, RejectReason.ReplacementUnderpriced, RejectReason.MempoolFull, RejectReason.InsufficientFeeFunds]);

/**
 * Runs an IbftCore: one input queue for peer messages, own messages, timers and imported
 * blocks, processed strictly one at a time, so a timer can never fire in the middle of a block
 * import. Binds the core to the network's consensus, transaction and block topics.
 */
export class IbftEngine {
  readonly core: IbftCore;
  private readonly queue: QueueItem[] = [];
  private draining: Promise<void> | undefined;
  private readonly timers = new Set<unknown>();
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    opts: Partial<IbftOptions>,
    private readonly deps: { chain: Blockchain; key: ValidatorKey; signLog: SignLog; mempool: Mempool; network: Network; timer: Timer; logger: Logger },
  ) {
    const { chain, key, signLog, mempool, network, timer, logger } = deps;
    this.core = new IbftCore(opts, {
      chain,
      key,
      signLog,
      txs: mempool,
      logger,
      env: {
        now: () => timer.now(),
        schedule: (ms, ev) => {
          const h = timer.setTimeout(() => {
            this.timers.delete(h);
            this.push(ev);
          }, ms);
          this.timers.add(h);
        },
        broadcast: (env) => void network.publish(Topic.Consensus, encodeEnvelope(env)).catch((e: unknown) => logger.warn({ err: e }, 'publishing a consensus message failed')),
        committed: (block, proposedHere) => {
          if (proposedHere) void network.publish(Topic.Blocks, block.serialize()).catch(() => undefined);
        },
      },
    });
  }

  async start(): Promise<void> {
    const { network, mempool } = this.deps;
    this.running = true;
    network.subscribe(Topic.Consensus, (data, from) => this.onConsensusGossip(data, from));
    network.subscribe(Topic.Transactions, (data) => this.onTxGossip(data));
    network.subscribe(Topic.Blocks, (data) => this.onBlockGossip(data));
    mempool.onAdded(() => this.push({ kind: 'txs' }));
    await this.core.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const h of this.timers) this.deps.timer.clearTimeout(h);
    this.timers.clear();
    await this.draining;
  }

  /** Imports a committed block (from sync or gossip) through the queue; resolves once committed. */
  importBlock(block: Block): Promise<void> {
    return new Promise((resolve, reject) => this.push({ kind: 'import', block, done: (e) => (e ? reject(e) : resolve()) }));
  }

  /** Resolves when the queue is empty (simulations step on it). */
  idle(): Promise<void> {
    if (!this.draining && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private push(item: QueueItem): void {
    if (!this.running) return;
    this.queue.push(item);
    if (!this.draining) this.draining = this.drain();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const item = this.queue.shift()!;
      try {
        if (item.kind === 'import') await this.doImport(item.block).then(() => item.done(), (e: Error) => item.done(e));
        else if (this.running) await this.core.handle(item);
      } catch (e) {
        this.deps.logger.error({ err: e, event: item.kind }, 'consensus event failed');
      }
    }
    this.draining = undefined;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async doImport(block: Block): Promise<void> {
    const { chain, mempool } = this.deps;
    if (block.height <= chain.height) return;
    if (!block.certificate) throw new Error(`block ${block.height} has no commit certificate`);
    block.certificate.verify(chain.chainId, chain.validatorSet(block.height), block.height, block.hash());
    const executed = chain.validate(block, mempool.isVerified);
    await chain.commit(executed, block.certificate);
    mempool.update(block.transactions);
    await this.core.onExternalCommit();
  }

  private onConsensusGossip(data: Uint8Array, from: string): Verdict {
    let env: Envelope;
    try {
      env = decodeEnvelope(data);
    } catch (e) {
      this.deps.logger.warn({ from, err: (e as Error).message }, 'malformed consensus message');
      return Verdict.Reject;
    }
    const { height } = env.message.body;
    const current = this.core.currentHeight;
    if (height < current || height > current + this.core.opts.maxFutureHeights) return Verdict.Ignore;
    const valset = this.deps.chain.validatorSet(Math.max(current, this.deps.chain.height + 1));
    if (!env.message.verify(this.deps.chain.chainId, valset)) {
      this.deps.logger.warn({ from, msg: env.message.describe() }, 'consensus message with a bad signature or from a non-validator');
      return Verdict.Reject;
    }
    this.push({ kind: 'message', envelope: env, from });
    return Verdict.Accept;
  }

  private onTxGossip(data: Uint8Array): Verdict {
    try {
      this.deps.mempool.addRaw(data);
      return Verdict.Accept;
    } catch (e) {
      if (e instanceof MempoolError && HARMLESS.has(e.reason)) return Verdict.Ignore;
      return Verdict.Reject;
    }
  }

  private onBlockGossip(data: Uint8Array): Verdict {
    let block: Block;
    try {
      block = decodeBlock(data);
    } catch {
      return Verdict.Reject;
    }
    const { chain } = this.deps;
    if (block.height <= chain.height) return Verdict.Ignore;
    if (block.height > chain.height + 1 || !block.certificate) return Verdict.Ignore; // block sync catches up
    try {
      block.certificate.verify(chain.chainId, chain.validatorSet(block.height), block.height, block.hash());
    } catch {
      return Verdict.Reject;
    }
    this.importBlock(block).catch((e: unknown) => this.deps.logger.debug({ height: block.height, hash: toHex(block.hash()), err: (e as Error).message }, 'gossiped block not imported'));
    return Verdict.Accept;
  }
}
