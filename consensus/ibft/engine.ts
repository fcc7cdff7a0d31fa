import type { Logger } from 'pino';
import { decodeBlock, equalBytes, type Block, type DuplicateVoteEvidence } from '../../chain/index.js';
import { Topic, Verdict, type Network } from '../../p2p/network.js';
import type { Blockchain } from '../blockchain.js';
import { ConsensusError, ConsensusErrorCode } from '../errors.js';
import type { ValidatorKey } from '../keys.js';
import type { GossipRejectReason, IbftMetrics } from '../metrics.js';
import type { Mempool } from '../mempool/index.js';
import type { Timer } from '../timer.js';
import { IbftCore, type IbftEvent } from './core.js';
import {
  decodeBlockAnnouncementHead,
  decodeBlockAnnouncementRest,
  decodeEnvelopeHead,
  decodeEnvelopeRest,
  encodeBlockAnnouncement,
  encodeEnvelope,
  type BlockAnnouncement,
  type Envelope,
  type EnvelopeHead,
} from './messages.js';
import type { IbftOptions } from './options.js';
import type { SignLog } from './signlog.js';

type QueueItem =
  | IbftEvent
  | { kind: 'import'; block: Block; done: (err?: Error) => void }
  | { kind: 'start'; done: (err?: Error) => void }
  | { kind: 'announced'; announcement: BlockAnnouncement; from: string };

/**
 * Runs an IbftCore: one input queue for peer messages, own messages, timers and imported
 * blocks, processed strictly one at a time, so a timer can never fire in the middle of a block
 * import. Binds the core to the network's consensus and block topics (transactions: TxRelay).
 */
export class IbftEngine {
  readonly core: IbftCore;
  private readonly queue: QueueItem[] = [];
  private draining: Promise<void> | undefined;
  private readonly timers = new Set<unknown>();
  private running = false;
  private txsQueued = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    opts: Partial<IbftOptions>,
    private readonly deps: {
      chain: Blockchain;
      key: ValidatorKey;
      signLog: SignLog;
      mempool: Mempool;
      network: Network;
      timer: Timer;
      logger: Logger;
      metrics?: IbftMetrics;
      /** Two conflicting messages from one validator (node/duties.ts sends them as evidence). */
      onEquivocation?: (evidence: DuplicateVoteEvidence) => void;
    },
  ) {
    const { chain, key, signLog, mempool, network, timer, logger } = deps;
    this.core = new IbftCore(opts, {
      chain,
      key,
      signLog,
      txs: mempool,
      logger,
      metrics: deps.metrics,
      env: {
        now: () => timer.now(),
        schedule: (ms, ev) => {
          if (ms <= 0) return this.push(ev); // next in the queue, after the event being handled
          const h = timer.setTimeout(() => {
            this.timers.delete(h);
            this.push(ev);
          }, ms);
          this.timers.add(h);
        },
        broadcast: (env, encoded) => {
          logger.trace({ message: env.message.describe() }, 'consensus message sent');
          void network.publish(Topic.Consensus, encoded ?? encodeEnvelope(env)).catch((e: unknown) => logger.warn({ err: e }, 'publishing a consensus message failed'));
        },
        equivocation: (e) => deps.onEquivocation?.(e),
        committed: (block, proposedHere) => {
          if (proposedHere && block.certificate) void network.publish(Topic.Blocks, encodeBlockAnnouncement(block.header, block.certificate)).catch(() => undefined);
        },
      },
    });
  }

  async start(): Promise<void> {
    const { network, mempool } = this.deps;
    this.running = true;
    // The core starts through the queue, ahead of anything that arrives while it reads the sign
    // log: a message handled before it has resumed its round could make it sign in a round it
    // already left (after a ROUND-CHANGE), which breaks the safety of prepared certificates.
    const started = new Promise<void>((resolve, reject) => this.push({ kind: 'start', done: (e) => (e ? reject(e) : resolve()) }));
    network.subscribe(Topic.Consensus, (data, from) => this.onConsensusGossip(data, from));
    network.subscribe(Topic.Blocks, (data, from) => this.onBlockGossip(data, from));
    // One pending 'txs' event stands for any number of admissions: under load, thousands of
    // transactions arrive between two turns of the queue, and the proposer only needs to wake once.
    mempool.onAdded(() => {
      if (this.txsQueued) return;
      this.txsQueued = true;
      this.push({ kind: 'txs' });
    });
    await started;
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
    if (!this.running) {
      // A caller awaiting this import (block sync) must not wait forever on a stopped engine.
      if (item.kind === 'import') item.done(new Error(`consensus is stopped: block ${item.block.height} was not imported`));
      return;
    }
    this.queue.push(item);
    if (!this.draining) this.draining = this.drain();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const item = this.queue.shift()!;
      if (item.kind === 'txs') this.txsQueued = false;
      try {
        if (item.kind === 'import') await this.doImport(item.block).then(() => item.done(), (e: Error) => item.done(e));
        else if (item.kind === 'start') await this.core.start().then(() => item.done(), (e: Error) => item.done(e));
        else if (item.kind === 'announced') await this.onAnnounced(item.announcement, item.from);
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
    if (!block.certificate) throw new ConsensusError(ConsensusErrorCode.InvalidProposal, `block ${block.height} has no commit certificate`, { height: block.height });
    // Blockchain.commit verifies the certificate against the validator set of the height.
    const executed = chain.validate(block, mempool.isVerified);
    await chain.commit(executed, block.certificate);
    mempool.update(block.transactions);
    await this.core.onExternalCommit();
  }

  /** A block's transactions that are in the mempool are taken from it, not decoded again. */
  private readonly pooled = (hashKey: string) => this.deps.mempool.pooled(hashKey);

  private rejectGossip(topic: 'consensus' | 'blocks', reason: GossipRejectReason): Verdict {
    this.deps.metrics?.gossipRejected?.(topic, reason);
    return Verdict.Reject;
  }

  /**
   * A consensus message, checked in order of cost (its size was checked by the network): the
   * signed message alone is decoded, its height window checked, then that its sender is a
   * validator and the signature theirs; only then are its block and justification decoded.
   */
  private onConsensusGossip(data: Uint8Array, from: string): Verdict {
    const { chain, logger } = this.deps;
    let head: EnvelopeHead;
    try {
      head = decodeEnvelopeHead(data);
    } catch (e) {
      logger.warn({ from, err: (e as Error).message }, 'malformed consensus message');
      return this.rejectGossip('consensus', 'malformed');
    }
    const { message } = head;
    const { height } = message.body;
    const current = this.core.currentHeight;
    if (height < current || height > current + this.core.opts.maxFutureHeights) return Verdict.Ignore;
    // Checked against the set of the message's height (known two blocks ahead; beyond, the newest
    // known): a sender outside it at a later height may be a validator by then, so it is ignored, not punished.
    const valset = chain.validatorSet(Math.max(height, chain.height + 1));
    if (height > current && !valset.has(message.sender)) return Verdict.Ignore;
    const problem = message.authenticate(chain.chainId, valset);
    if (problem !== undefined) {
      logger.warn({ from, message: message.describe(), reason: problem }, 'consensus message with a bad signature or from a non-validator');
      return this.rejectGossip('consensus', problem);
    }
    let env: Envelope;
    try {
      env = decodeEnvelopeRest(head, this.pooled);
    } catch (e) {
      logger.warn({ from, message: message.describe(), err: (e as Error).message }, 'malformed consensus message');
      return this.rejectGossip('consensus', 'malformed');
    }
    logger.trace({ from, message: message.describe() }, 'consensus message received');
    this.push({ kind: 'message', envelope: env, from, verified: true });
    return Verdict.Accept;
  }

  /** Heights whose announced block is being fetched (one fetch per height). */
  private readonly fetching = new Set<number>();

  /**
   * A block announcement (header and certificate): a node that has not committed that height yet
   * commits the block with that certificate if it executed it as a proposal, or else fetches it
   * from the peer that delivered the announcement and imports it.
   */
  private onBlockGossip(data: Uint8Array, from: string): Verdict {
    const { chain, logger } = this.deps;
    // In order of cost: the certificate's fields, the height they name, the header, then the
    // certificate's signature (a BLS aggregate check); the block is fetched only after that.
    let ann: BlockAnnouncement;
    try {
      const head = decodeBlockAnnouncementHead(data);
      const { height, blockHash } = head.certificate;
      if (height !== chain.height + 1) return Verdict.Ignore; // committed already, or block sync catches up
      if (this.core.isCommitting(height, blockHash)) return Verdict.Ignore; // with its own quorum's certificate
      ann = decodeBlockAnnouncementRest(head);
    } catch (e) {
      logger.debug({ from, err: (e as Error).message }, 'malformed block announcement');
      return this.rejectGossip('blocks', 'malformed');
    }
    const { height } = ann.header;
    try {
      ann.certificate.verify(chain.chainId, chain.validatorSet(height), height, ann.certificate.blockHash);
    } catch (e) {
      logger.debug({ from, height, err: (e as Error).message }, 'block announcement with an invalid certificate');
      return this.rejectGossip('blocks', 'bad_certificate');
    }
    this.push({ kind: 'announced', announcement: ann, from });
    return Verdict.Accept;
  }

  /** In the queue: the certificate commits the proposal this node holds, or the block is fetched. */
  private async onAnnounced(ann: BlockAnnouncement, from: string): Promise<void> {
    const { chain, network, logger } = this.deps;
    const { height } = ann.header;
    if (height !== chain.height + 1) return;
    if (this.running && (await this.core.commitCertified(height, ann.certificate))) return;
    if (this.fetching.has(height)) return;
    this.fetching.add(height);
    void (async () => {
      try {
        const [bytes] = await network.requestBlocks(from, height, height);
        if (!bytes) throw new ConsensusError(ConsensusErrorCode.InvalidProposal, `peer had no block ${height}`, { height });
        const block = decodeBlock(bytes, this.pooled);
        if (!equalBytes(block.hash(), ann.header.hash())) throw new ConsensusError(ConsensusErrorCode.InvalidProposal, `peer sent another block for height ${height}`, { height });
        await this.importBlock(block.certificate ? block : block.withCertificate(ann.certificate));
      } catch (e) {
        logger.debug({ height, from, err: (e as Error).message }, 'announced block not imported');
      } finally {
        this.fetching.delete(height);
      }
    })();
  }
}
