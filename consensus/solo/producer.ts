import type { Logger } from 'pino';
import { CommitCertificate, commitVoteMessage, toHex } from '../../chain/index.js';
import type { Blockchain } from '../blockchain.js';
import { ConsensusError, ConsensusErrorCode } from '../errors.js';
import type { ValidatorKey } from '../keys.js';
import type { Mempool } from '../mempool/index.js';
import { defaultSoloOptions, type SoloOptions } from './options.js';

export interface Clock {
  now(): number;
}

/**
 * Block production with a single validator: a block as soon as transactions wait (everything
 * that arrived while the previous block was being made goes into the next), an empty block
 * after `emptyBlockIntervalMs` of quiet. Each block carries a commit certificate with the
 * validator's BLS signature, the same format a multi-validator network produces.
 */
export class SoloProducer {
  private readonly opts: SoloOptions;
  private running = false;
  private producing: Promise<void> | undefined;
  private scheduled = false;
  /** Set when the empty-block interval has passed: the next run commits even with no transactions. */
  private due = false;
  private emptyTimer: NodeJS.Timeout | undefined;

  constructor(
    opts: Partial<SoloOptions>,
    private readonly deps: { chain: Blockchain; mempool: Mempool; key: ValidatorKey; clock: Clock; logger: Logger },
  ) {
    this.opts = { ...defaultSoloOptions, ...opts };
  }

  start(): void {
    const valset = this.deps.chain.validatorSet(this.deps.chain.height + 1);
    if (valset.size !== 1 || valset.indexOf(this.deps.key.address) !== 0) {
      throw new ConsensusError(ConsensusErrorCode.NotValidator, 'single-validator block production needs a validator set of exactly this node');
    }
    this.running = true;
    this.deps.mempool.onAdded(() => this.schedule());
    this.armEmptyTimer();
    if (this.deps.mempool.size > 0) this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.emptyTimer);
    await this.producing;
  }

  private schedule(): void {
    if (!this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.run());
  }

  private armEmptyTimer(): void {
    clearTimeout(this.emptyTimer);
    if (!this.running) return;
    this.emptyTimer = setTimeout(() => {
      this.due = true;
      this.schedule();
    }, this.opts.emptyBlockIntervalMs);
  }

  private async run(): Promise<void> {
    if (this.producing) return; // the running loop picks up what arrived
    this.producing = (async () => {
      try {
        let included: number;
        do {
          this.scheduled = false;
          included = await this.produce();
        } while (this.running && included > 0 && this.deps.mempool.size > 0);
      } catch (e) {
        this.deps.logger.error({ err: e }, 'block production failed; retrying');
        setTimeout(() => this.schedule(), 500).unref();
      } finally {
        this.scheduled = false;
        this.producing = undefined;
        this.armEmptyTimer();
      }
    })();
    await this.producing;
  }

  /** Commits one block; returns how many transactions it held (-1: nothing to do yet). */
  private async produce(): Promise<number> {
    const { chain, mempool, key, clock, logger } = this.deps;
    const candidates = mempool.reap(this.opts.maxBlockTxs, this.opts.maxBlockBytes);
    if (candidates.length === 0 && !this.due) return -1;
    const { executed, build } = chain.build(key.address, candidates, clock.now(), mempool.isVerified);
    for (const { tx, reason } of build.excluded) {
      logger.info({ tx: toHex(tx.hash()), reason: reason.message }, 'dropping transaction that cannot be included');
      mempool.evict(tx);
    }
    if (build.included.length === 0 && !this.due) return -1;
    const { block } = executed;
    const signature = key.bls.sign(commitVoteMessage(chain.chainId, block.height, 0, block.hash()));
    const cert = CommitCertificate.aggregate(block.height, 0, block.hash(), 1, [{ index: 0, signature }]);
    await chain.commit(executed, cert);
    mempool.update(block.transactions);
    this.due = false;
    logger.info({ height: block.height, txs: block.transactions.length, hash: toHex(block.hash()) }, 'committed block');
    return block.transactions.length;
  }
}
