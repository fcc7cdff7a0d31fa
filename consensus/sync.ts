import type { Logger } from 'pino';
import { decodeBlock, type Block } from '../chain/index.js';
import type { Network } from '../p2p/network.js';
import type { Blockchain } from './blockchain.js';
import type { Timer } from './timer.js';

export interface SyncOptions {
  /** How often peers are asked for their head (ms). */
  pollIntervalMs: number;
  /** Blocks per request. */
  batchSize: number;
}

export const defaultSyncOptions: SyncOptions = { pollIntervalMs: 1_000, batchSize: 64 };

/**
 * Block sync: asks peers for their heads, and when one is ahead fetches the missing blocks in
 * batches; each is checked (certificate against the validator set of its height, re-execution)
 * by `importBlock`, which runs through the consensus queue. Also serves blocks to other peers.
 */
export class BlockSync {
  private readonly opts: SyncOptions;
  private handle: unknown;
  private running = false;
  private busy: Promise<void> | undefined;
  private _syncing = false;
  private target = 0;

  constructor(
    opts: Partial<SyncOptions>,
    private readonly deps: { chain: Blockchain; network: Network; importBlock: (b: Block) => Promise<void>; timer: Timer; logger: Logger },
  ) {
    this.opts = { ...defaultSyncOptions, ...opts };
  }

  get syncing(): boolean {
    return this._syncing;
  }

  /** The highest head a peer reported. */
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

  /** One round: find the best peer; while it is ahead, fetch and import. */
  async poll(): Promise<void> {
    const { chain, network, logger } = this.deps;
    let best: { peer: string; height: number } | undefined;
    for (const p of network.peers()) {
      try {
        const s = await network.requestStatus(p.id);
        if (s.chainId === chain.chainId && (!best || s.height > best.height)) best = { peer: p.id, height: s.height };
      } catch {
        // unreachable peer: try the others
      }
    }
    if (!best || best.height <= chain.height) {
      this._syncing = false;
      return;
    }
    this.target = best.height;
    // One block behind is normal while consensus finishes a height; two or more is lagging.
    this._syncing = best.height > chain.height + 1;
    const startHeight = chain.height;
    while (this.running && chain.height < best.height) {
      const from = chain.height + 1;
      const to = Math.min(best.height, from + this.opts.batchSize - 1);
      let raw: Uint8Array[];
      try {
        raw = await network.requestBlocks(best.peer, from, to);
      } catch (e) {
        logger.warn({ peer: best.peer, from, to, err: (e as Error).message }, 'block request failed');
        return;
      }
      if (raw.length === 0) return;
      for (const bytes of raw) {
        let block: Block;
        try {
          block = decodeBlock(bytes);
        } catch (e) {
          logger.warn({ peer: best.peer, err: (e as Error).message }, 'peer sent a malformed block');
          return;
        }
        if (block.height <= chain.height) continue;
        if (block.height !== chain.height + 1) return;
        try {
          await this.deps.importBlock(block);
        } catch (e) {
          logger.warn({ peer: best.peer, height: block.height, err: (e as Error).message }, 'a synced block did not verify; dropping this batch');
          return;
        }
      }
      // Nothing new (only blocks we already have): asking again would get the same answer forever.
      if (chain.height < from) {
        logger.warn({ peer: best.peer, from, to }, 'peer answered a block request with no new block');
        return;
      }
      logger.info({ height: chain.height, target: best.height, peer: best.peer }, 'block sync progress');
    }
    if (chain.height > startHeight) logger.info({ height: chain.height, fetched: chain.height - startHeight }, 'block sync caught up');
    this._syncing = false;
  }
}
