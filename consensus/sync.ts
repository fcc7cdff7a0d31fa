import type { Logger } from 'pino';
import { ChainError, ChainErrorCode, decodeBlock, type Block } from '../chain/index.js';
import type { Network } from '../p2p/network.js';
import type { Blockchain } from './blockchain.js';
import { ConsensusError, ConsensusErrorCode } from './errors.js';
import type { Timer } from './timer.js';

export interface SyncOptions {
  /** How often peers are asked for their head (ms). */
  pollIntervalMs: number;
  /** Blocks per request. */
  batchSize: number;
  /**
   * How long a peer is banned (Network.ban) once it proved itself wrong: it served a block that
   * does not verify (certificate, re-execution, encoding, height), or nothing at all for a range
   * it claimed to have.
   */
  banMs: number;
  /**
   * A peer whose block request failed (timeout, error) is asked again only after this long,
   * doubling with each failure in a row up to banMs; it is not banned, since an honest peer can
   * be slow, but the other peers are asked first.
   */
  retryMs: number;
}

export const defaultSyncOptions: SyncOptions = { pollIntervalMs: 1_000, batchSize: 64, banMs: 300_000, retryMs: 2_000 };

interface Claim {
  peer: string;
  height: number;
}

/** What fetching from one peer ended with. */
type Outcome = 'caught-up' | 'failed' | 'banned' | 'stopped';

/**
 * Block sync: asks every peer for its head, and while some are ahead fetches the missing blocks
 * in batches from them, the highest claim first; each block is checked (certificate against the
 * validator set of its height, re-execution) by `importBlock`, which runs through the consensus
 * queue. A claimed height is never trusted by itself: a peer that serves a block that does not
 * verify, or nothing for a range it claimed, is banned and the next peer asked; a peer whose
 * request fails is asked again later, after the others. `syncing` and `bestKnownHeight` count a
 * peer's claim only once blocks it served have verified. Also serves blocks to other peers.
 */
export class BlockSync {
  private readonly opts: SyncOptions;
  private handle: unknown;
  private running = false;
  private busy: Promise<void> | undefined;
  private _syncing = false;
  /** The highest claim of a peer whose blocks verified in the last poll (0: none). */
  private target = 0;
  /** Peers whose last block request failed: failures in a row, and when to ask them again. */
  private readonly resting = new Map<string, { failures: number; until: number }>();

  constructor(
    opts: Partial<SyncOptions>,
    private readonly deps: { chain: Blockchain; network: Network; importBlock: (b: Block) => Promise<void>; timer: Timer; logger: Logger },
  ) {
    this.opts = { ...defaultSyncOptions, ...opts };
  }

  /** True while blocks from a peer two or more heights ahead are verifying. */
  get syncing(): boolean {
    return this._syncing;
  }

  /** The highest head reported by a peer whose blocks verified (or this node's own). */
  get bestKnownHeight(): number {
    return Math.max(this.target, this.deps.chain.height);
  }

  start(): void {
    const { chain, network } = this.deps;
    network.serveStatus(() => ({ height: chain.height, chainId: chain.chainId }));
    network.serveBlocks(async (from, to) => {
      const out: Uint8Array[] = [];
      for (let h = from; h <= Math.min(to, chain.height); h++) {
        const b = await chain.blocks.block(h);
        if (!b) break;
        out.push(b.serialize());
      }
      return out;
    });
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.deps.timer.clearTimeout(this.handle);
    await this.busy;
  }

  private schedule(): void {
    if (!this.running) return;
    this.handle = this.deps.timer.setTimeout(() => {
      this.busy = this.poll().finally(() => {
        this.busy = undefined;
        this.schedule();
      });
    }, this.opts.pollIntervalMs);
  }

  /** The heads of every peer (asked in parallel) that are ahead of this node, on this chain. */
  private async claims(): Promise<Claim[]> {
    const { chain, network } = this.deps;
    const answers = await Promise.allSettled(network.peers().map(async (p) => ({ peer: p.id, status: await network.requestStatus(p.id) })));
    const out: Claim[] = [];
    for (const a of answers) {
      if (a.status !== 'fulfilled') continue; // unreachable peer: the others may do
      const { peer, status } = a.value;
      if (status.chainId === chain.chainId && Number.isSafeInteger(status.height) && status.height > chain.height) out.push({ peer, height: status.height });
    }
    return out;
  }

  /**
   * One round: the peers ahead, highest claim first (those resting after a failed request last,
   * and only once their rest is over); fetch from each in turn while it is ahead and serves
   * blocks that verify.
   */
  async poll(): Promise<void> {
    const { chain, logger, timer } = this.deps;
    const now = timer.now();
    const claims = (await this.claims())
      .filter((c) => (this.resting.get(c.peer)?.until ?? 0) <= now)
      .sort((a, b) => (this.resting.get(a.peer)?.failures ?? 0) - (this.resting.get(b.peer)?.failures ?? 0) || b.height - a.height);
    const startHeight = chain.height;
    /** Claims of the peers whose blocks verified in this round (and that were not banned after). */
    const credible = new Map<string, number>();
    const best = () => Math.max(0, ...credible.values());
    for (const claim of claims) {
      if (!this.running) break;
      if (claim.height <= chain.height) continue;
      const before = chain.height;
      const outcome = await this.fetchFrom(claim, () => {
        // A block of this peer verified: its claim counts from now on.
        credible.set(claim.peer, claim.height);
        this.target = Math.max(this.target, claim.height);
        this._syncing = this.target > chain.height + 1;
      });
      if (outcome === 'banned') credible.delete(claim.peer); // its claim was a lie after all
      if (outcome === 'caught-up' && chain.height > before) this.resting.delete(claim.peer);
      this.target = best();
      this._syncing = this.target > chain.height + 1;
      if (outcome === 'stopped') break;
    }
    this.target = best();
    // One block behind is normal while consensus finishes a height; two or more is lagging.
    this._syncing = this.target > chain.height + 1;
    if (chain.height > startHeight) logger.info({ height: chain.height, fetched: chain.height - startHeight }, 'block sync caught up');
  }

  /** Fetches and imports from one peer while it is ahead; `verified` after each block of it that verified. */
  private async fetchFrom(claim: Claim, verified: () => void): Promise<Outcome> {
    const { chain, network, logger } = this.deps;
    const { peer } = claim;
    while (chain.height < claim.height) {
      if (!this.running) return 'stopped';
      const from = chain.height + 1;
      const to = Math.min(claim.height, from + this.opts.batchSize - 1);
      let raw: Uint8Array[];
      try {
        raw = await network.requestBlocks(peer, from, to);
      } catch (e) {
        this.rest(peer);
        logger.warn({ peer, from, to, err: (e as Error).message }, 'block request failed; asking the other peers first');
        return 'failed';
      }
      if (raw.length === 0) return this.ban(peer, `served no block of [${from}, ${to}] although it claimed height ${claim.height}`);
      for (const [i, bytes] of raw.entries()) {
        if (!this.running) return 'stopped';
        let block: Block;
        try {
          block = decodeBlock(bytes);
        } catch (e) {
          return this.ban(peer, `served a malformed block: ${(e as Error).message}`);
        }
        if (block.height !== from + i) return this.ban(peer, `served block ${block.height} where block ${from + i} was asked for`);
        if (block.height <= chain.height) continue; // consensus committed it meanwhile
        if (!block.certificate) return this.ban(peer, `served block ${block.height} without its commit certificate`);
        try {
          await this.deps.importBlock(block);
        } catch (e) {
          if (!peerAtFault(e)) {
            logger.warn({ peer, height: block.height, err: (e as Error).message }, 'a synced block could not be imported');
            return 'stopped';
          }
          return this.ban(peer, `served block ${block.height}, which does not verify: ${(e as Error).message}`);
        }
        if (chain.height < block.height) {
          // Not committed, and not refused either: do not ask for it again and again.
          logger.warn({ peer, height: block.height }, 'a synced block was not imported');
          return 'stopped';
        }
        verified();
      }
      logger.info({ height: chain.height, target: claim.height, peer }, 'block sync progress');
    }
    return 'caught-up';
  }

  private ban(peer: string, reason: string): Outcome {
    this.resting.delete(peer);
    this.deps.logger.warn({ peer, banMs: this.opts.banMs, reason }, 'banning a block sync peer');
    this.deps.network.ban(peer, this.opts.banMs, `block sync: ${reason}`);
    return 'banned';
  }

  private rest(peer: string): void {
    const failures = (this.resting.get(peer)?.failures ?? 0) + 1;
    const ms = Math.min(this.opts.retryMs * 2 ** Math.min(failures - 1, 20), this.opts.banMs);
    this.resting.set(peer, { failures, until: this.deps.timer.now() + ms });
  }
}

/** Whether an import failed because of the block (the peer served it), not because of this node. */
function peerAtFault(e: unknown): boolean {
  if (e instanceof ConsensusError) return e.code === ConsensusErrorCode.InvalidProposal;
  if (e instanceof ChainError) return e.code === ChainErrorCode.InvalidCertificate;
  return false;
}
