import { Topic, Verdict, type BlockRangeProvider, type GossipHandler, type Network, type PeerInfo, type StatusProvider } from '../../../../p2p/network.js';
import type { Prng } from './prng.js';
import type { Scheduler } from './scheduler.js';

/** How the links misbehave. Every decision is drawn from the hub's seeded PRNG. */
export interface LinkFaults {
  /** Probability that a message (or a request, or a response) is lost. */
  drop: number;
  /** Probability that a delivered message is delivered a second time (with its own latency). */
  duplicate: number;
  /** One-way latency, uniform in [min, max] ms; distinct latencies reorder messages. */
  minLatencyMs: number;
  maxLatencyMs: number;
}

export const RELIABLE: LinkFaults = { drop: 0, duplicate: 0, minLatencyMs: 5, maxLatencyMs: 50 };

/**
 * Rewrites what a (byzantine) sender puts on the wire: given the payload and one recipient, the
 * payloads that recipient gets instead (possibly none, possibly several).
 */
export type Interceptor = (topic: Topic, data: Uint8Array, to: string) => Uint8Array[];

/**
 * A targeted rule for one gossiped message on one link, consulted before the random faults:
 * 'drop' loses it, a number delivers it after exactly that many ms, undefined leaves it to the faults.
 */
export type LinkRule = (from: string, to: string, topic: Topic, data: Uint8Array) => 'drop' | number | undefined;

/** A consensus payload as it left a node, for after-the-fact checks. */
export interface WireRecord {
  at: number;
  from: string;
  data: Uint8Array;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Gossip that a recipient's handler rejected (invalid or from a non-validator), by sender. */
  rejectedFrom: Map<string, number>;
  requests: number;
  /** Network.ban calls: who banned whom, for how long, why. */
  bans: { by: string; peer: string; ms: number; reason: string }[];
}

const REQUEST_TIMEOUT_MS = 3_000;

/** Thrown (as a rejection) when a simulated request gets no answer. */
export class SimRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimRequestError';
  }
}

/**
 * The simulated wire: a full mesh between node ids, over the shared scheduler. Nodes can be
 * partitioned into groups; a node that is down has no endpoint. A message in flight is lost if,
 * when it arrives, the recipient is down, restarted (another endpoint) or partitioned away.
 */
export class SimHub {
  private readonly endpoints = new Map<string, SimEndpoint>();
  private groupOf = new Map<string, number>();
  private readonly interceptors = new Map<string, Interceptor>();
  private _faults: LinkFaults = RELIABLE;
  private rule: LinkRule | undefined;
  /** Every consensus payload any node put on the wire, in order. */
  readonly wire: WireRecord[] = [];
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, rejectedFrom: new Map(), requests: 0, bans: [] };
  /** Links cut by a ban, until a virtual time: `${a}|${b}` with a < b. */
  private readonly bannedUntil = new Map<string, number>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    readonly ids: readonly string[],
  ) {}

  get faults(): LinkFaults {
    return this._faults;
  }

  setFaults(f: LinkFaults): void {
    if (f.minLatencyMs < 0 || f.maxLatencyMs < f.minLatencyMs) throw new RangeError('latency range is empty');
    this._faults = { ...f };
  }

  /** Splits the nodes into groups that cannot reach each other; ids not named form one more group. */
  partition(groups: string[][]): void {
    this.groupOf = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.groupOf.set(id, i + 1)));
  }

  heal(): void {
    this.groupOf = new Map();
  }

  /** Installs (or, with undefined, removes) a targeted rule for gossip. */
  setRule(rule: LinkRule | undefined): void {
    this.rule = rule;
  }

  setInterceptor(id: string, fn: Interceptor | undefined): void {
    if (fn) this.interceptors.set(id, fn);
    else this.interceptors.delete(id);
  }

  /** A new endpoint for a node (re)starting; any previous endpoint of that node goes dead. */
  attach(id: string): SimEndpoint {
    if (!this.ids.includes(id)) throw new RangeError(`unknown node ${id}`);
    this.endpoints.get(id)?.kill();
    const ep = new SimEndpoint(id, this);
    this.endpoints.set(id, ep);
    return ep;
  }

  /** The node went down: its endpoint goes dead. */
  detach(id: string): void {
    this.endpoints.get(id)?.kill();
    this.endpoints.delete(id);
  }

  isUp(id: string): boolean {
    return this.endpoints.has(id);
  }

  /** Both up, in the same partition group, and neither banning the other. */
  reachable(a: string, b: string): boolean {
    return a !== b && this.endpoints.has(a) && this.endpoints.has(b) && (this.groupOf.get(a) ?? 0) === (this.groupOf.get(b) ?? 0) && !this.banned(a, b);
  }

  /** `by` bans `peer`: their link is cut both ways for `ms` of virtual time (as P2PNetwork hangs up and refuses it). */
  ban(by: string, peer: string, ms: number, reason: string): void {
    this.stats.bans.push({ by, peer, ms, reason });
    const key = by < peer ? `${by}|${peer}` : `${peer}|${by}`;
    this.bannedUntil.set(key, Math.max(this.bannedUntil.get(key) ?? 0, this.scheduler.now + ms));
  }

  private banned(a: string, b: string): boolean {
    if (this.bannedUntil.size === 0) return false;
    const until = this.bannedUntil.get(a < b ? `${a}|${b}` : `${b}|${a}`);
    return until !== undefined && until > this.scheduler.now;
  }

  // ------------------------------------------------------------------ used by endpoints

  peersOf(id: string): PeerInfo[] {
    return this.ids.filter((p) => this.reachable(id, p)).map((p) => ({ id: p }));
  }

  publish(from: SimEndpoint, topic: Topic, data: Uint8Array): void {
    const icpt = this.interceptors.get(from.peerId);
    for (const to of this.ids) {
      if (!this.reachable(from.peerId, to)) continue;
      const payloads = icpt ? icpt(topic, data, to) : [data];
      for (const p of payloads) {
        if (topic === Topic.Consensus) this.wire.push({ at: this.scheduler.now, from: from.peerId, data: p });
        const arrive = () => this.endpoints.get(to)?.deliver(topic, p, from.peerId);
        const ruled = this.rule?.(from.peerId, to, topic, p);
        if (ruled === 'drop') {
          this.stats.sent++;
          this.stats.dropped++;
        } else if (typeof ruled === 'number') {
          this.stats.sent++;
          this.deliverAfter(from.peerId, to, ruled, arrive);
        } else {
          this.transmit(from.peerId, to, arrive);
        }
      }
    }
  }

  /**
   * Sends one message over the link from → to: maybe dropped, else delivered after a random
   * latency (maybe twice). `arrive` runs only if the recipient is still the same live, reachable endpoint.
   */
  transmit(from: string, to: string, arrive: () => void, duplicable = true): void {
    const f = this._faults;
    this.stats.sent++;
    if (this.prng.chance(f.drop)) {
      this.stats.dropped++;
      return;
    }
    const copies = duplicable && this.prng.chance(f.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) this.deliverAfter(from, to, this.prng.int(f.minLatencyMs, f.maxLatencyMs), arrive);
  }

  /** Runs `arrive` after `ms` if the recipient is then the same live endpoint and still reachable. */
  private deliverAfter(from: string, to: string, ms: number, arrive: () => void): void {
    const target = this.endpoints.get(to);
    this.scheduler.at(ms, () => {
      if (!target || this.endpoints.get(to) !== target || !this.reachable(from, to)) return;
      this.stats.delivered++;
      arrive();
    });
  }

  request<T>(from: SimEndpoint, to: string, serve: (ep: SimEndpoint) => Promise<T> | undefined): Promise<T> {
    this.stats.requests++;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timeout = this.scheduler.at(REQUEST_TIMEOUT_MS, () => {
        if (settled) return;
        settled = true;
        reject(new SimRequestError(`request from ${from.peerId} to ${to} timed out`));
      });
      const answer = (outcome: () => void) => {
        if (settled || !from.alive) return;
        settled = true;
        this.scheduler.cancel(timeout);
        outcome();
      };
      if (!this.reachable(from.peerId, to)) return; // times out
      this.transmit(
        from.peerId,
        to,
        () => {
          const server = this.endpoints.get(to)!;
          const pending = serve(server);
          if (!pending) return; // no handler: times out
          pending.then(
            (v) => this.transmit(to, from.peerId, () => answer(() => resolve(v)), false),
            (e: unknown) => this.transmit(to, from.peerId, () => answer(() => reject(e as Error)), false),
          );
        },
        false,
      );
    });
  }
}

/** One node incarnation's `Network`. Dead endpoints send nothing and receive nothing. */
export class SimEndpoint implements Network {
  private readonly handlers = new Map<Topic, GossipHandler>();
  private blocksProvider: BlockRangeProvider | undefined;
  private statusProvider: StatusProvider | undefined;
  private _alive = true;

  constructor(
    readonly peerId: string,
    private readonly hub: SimHub,
  ) {}

  get alive(): boolean {
    return this._alive;
  }

  kill(): void {
    this._alive = false;
    this.handlers.clear();
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async publish(topic: Topic, data: Uint8Array): Promise<void> {
    if (this._alive) this.hub.publish(this, topic, data);
  }

  subscribe(topic: Topic, handler: GossipHandler): void {
    if (this._alive) this.handlers.set(topic, handler);
  }

  serveBlocks(provider: BlockRangeProvider): void {
    this.blocksProvider = provider;
  }

  serveStatus(provider: StatusProvider): void {
    this.statusProvider = provider;
  }

  requestBlocks(peer: string, from: number, to: number): Promise<Uint8Array[]> {
    if (!this._alive) return Promise.reject(new SimRequestError(`${this.peerId} is down`));
    return this.hub.request(this, peer, (ep) => ep.blocksProvider?.(from, to));
  }

  requestStatus(peer: string): Promise<{ height: number; chainId: string }> {
    if (!this._alive) return Promise.reject(new SimRequestError(`${this.peerId} is down`));
    return this.hub.request(this, peer, (ep) => (ep.statusProvider ? Promise.resolve(ep.statusProvider()) : undefined));
  }

  peers(): PeerInfo[] {
    return this._alive ? this.hub.peersOf(this.peerId) : [];
  }

  addresses(): string[] {
    return [];
  }

  ban(peer: string, ms: number, reason: string): void {
    if (this._alive) this.hub.ban(this.peerId, peer, ms, reason);
  }

  /** Called by the hub when a gossiped message arrives. */
  deliver(topic: Topic, data: Uint8Array, from: string): void {
    const h = this.handlers.get(topic);
    if (!this._alive || !h) return;
    if (h(data, from) === Verdict.Reject) this.hub.stats.rejectedFrom.set(from, (this.hub.stats.rejectedFrom.get(from) ?? 0) + 1);
  }
}
