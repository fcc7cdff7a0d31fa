import type { Libp2p, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Logger } from 'pino';

export interface DialerOptions {
  bootstrap: string[];
  redialMinMs: number;
  redialMaxMs: number;
  dialTimeoutMs: number;
}

interface Target {
  addr: Multiaddr;
  peer: PeerId;
  delay: number;
  timer?: NodeJS.Timeout;
}

/**
 * Keeps this node connected to its bootstrap peers: dials each one until it connects (exponential
 * backoff with jitter, capped at redialMaxMs), and starts again as soon as it disconnects. So a
 * validator network forms whatever the start order, and heals after restarts.
 */
export class BootstrapDialer {
  /** By peer id. */
  private readonly targets = new Map<string, Target>();
  private running = false;
  private readonly onDisconnect = (evt: CustomEvent<PeerId>) => {
    const t = this.targets.get(evt.detail.toString());
    if (t === undefined || !this.running) return;
    // The delay is not reset here: a peer that keeps dropping us (or banning us) is redialled with
    // growing backoff; it is reset once a connection has stayed up for redialMaxMs.
    const wait = this.jitter(t.delay);
    this.deps.logger.info({ peer: t.peer.toString(), retryMs: wait }, 'bootstrap peer disconnected; redialling');
    this.schedule(t, wait);
  };

  constructor(
    private readonly opts: DialerOptions,
    private readonly deps: { libp2p: Libp2p; logger: Logger },
  ) {
    for (const a of opts.bootstrap) this.add(multiaddr(a));
  }

  start(): void {
    this.running = true;
    this.deps.libp2p.addEventListener('peer:disconnect', this.onDisconnect);
    for (const t of this.targets.values()) this.schedule(t, 0);
  }

  stop(): void {
    this.running = false;
    this.deps.libp2p.removeEventListener('peer:disconnect', this.onDisconnect);
    for (const t of this.targets.values()) clearTimeout(t.timer);
  }

  /**
   * Keeps `addr` (which ends in /p2p/<peerId>) connected from now on, as a bootstrap peer (a new
   * address for a peer already kept replaces the old one). This node's own address is skipped.
   */
  add(addr: Multiaddr): void {
    const peer = peerIdFromString(addr.getPeerId()!);
    if (peer.equals(this.deps.libp2p.peerId)) return;
    const id = peer.toString();
    clearTimeout(this.targets.get(id)?.timer);
    const t: Target = { addr, peer, delay: this.opts.redialMinMs };
    this.targets.set(id, t);
    if (this.running) this.schedule(t, 0);
  }

  /** Stops keeping `peer` connected (does not hang up). Returns whether it was kept. */
  remove(peer: string): boolean {
    const t = this.targets.get(peer);
    if (t === undefined) return false;
    clearTimeout(t.timer);
    this.targets.delete(peer);
    return true;
  }

  /** Whether `peer` is being kept connected. */
  has(peer: string): boolean {
    return this.targets.has(peer);
  }

  private jitter(ms: number): number {
    return Math.round(ms * (0.75 + Math.random() * 0.5));
  }

  private schedule(t: Target, ms: number): void {
    clearTimeout(t.timer);
    if (!this.running || this.targets.get(t.peer.toString()) !== t) return;
    t.timer = setTimeout(() => void this.attempt(t), ms);
  }

  private async attempt(t: Target): Promise<void> {
    if (!this.running || this.targets.get(t.peer.toString()) !== t) return;
    if (this.deps.libp2p.getConnections(t.peer).length > 0) {
      // Connected (perhaps by the peer's own dial) and stable: reset the backoff, check again later.
      t.delay = this.opts.redialMinMs;
      this.schedule(t, this.opts.redialMaxMs);
      return;
    }
    try {
      await this.deps.libp2p.dial(t.addr, { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) });
      this.deps.logger.info({ peer: t.peer.toString(), addr: t.addr.toString() }, 'connected to bootstrap peer');
      t.delay = Math.min(t.delay * 2, this.opts.redialMaxMs);
      this.schedule(t, this.opts.redialMaxMs);
    } catch (e) {
      if (!this.running || this.targets.get(t.peer.toString()) !== t) return;
      const wait = this.jitter(t.delay);
      this.deps.logger.debug({ peer: t.peer.toString(), addr: t.addr.toString(), err: (e as Error).message, retryMs: wait }, 'bootstrap dial failed');
      t.delay = Math.min(t.delay * 2, this.opts.redialMaxMs);
      this.schedule(t, wait);
    }
  }
}
