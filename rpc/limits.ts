import { METHOD_GROUPS, type MethodGroup, type RateLimit } from './options.js';

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms, monotonic). */
  at: number;
}

/**
 * Token buckets per client address and method group (CometBFT and Besu limit connections and
 * bodies; this adds what an exposed gateway needs: a per-client budget of work). A bucket holds
 * up to `burst` units and refills at `rate` a second; a call takes its cost from it. At most
 * `maxClients` addresses are tracked: the least recently active one is forgotten first (a
 * forgotten client starts again with a full bucket, so the table is bounded however many
 * addresses a flood comes from).
 */
export class RateLimiter {
  private readonly clients = new Map<string, Partial<Record<MethodGroup, Bucket>>>();

  constructor(
    private readonly limits: Record<MethodGroup, RateLimit>,
    private readonly maxClients: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const g of METHOD_GROUPS) {
      const l = limits[g];
      if (!(Number.isFinite(l.rate) && l.rate >= 0 && Number.isFinite(l.burst) && l.burst > 0)) throw new RangeError(`rate limit ${g} must have rate >= 0 and burst > 0`);
    }
  }

  /**
   * Takes `cost` units of `group` for `client`: 0 if they were there, or else the milliseconds
   * until they will be (nothing is taken then). A cost above the burst can never be paid: Infinity.
   */
  take(client: string, group: MethodGroup, cost: number): number {
    const limit = this.limits[group];
    if (limit.rate === 0) return 0;
    const now = this.now();
    let buckets = this.clients.get(client);
    if (buckets === undefined) {
      if (this.clients.size >= this.maxClients) this.clients.delete(this.clients.keys().next().value!);
      buckets = {};
    } else {
      this.clients.delete(client); // re-inserted below: the Map's order is least recently active first
    }
    this.clients.set(client, buckets);
    let b = buckets[group];
    if (b === undefined) b = buckets[group] = { tokens: limit.burst, at: now };
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) * limit.rate) / 1000);
    b.at = now;
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return 0;
    }
    if (cost > limit.burst) return Infinity;
    return Math.ceil(((cost - b.tokens) * 1000) / limit.rate);
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.clients.size;
  }
}

/**
 * At most `maxActive` messages are worked on at once, node-wide (the event loop gains nothing
 * from more, and each holds its answer in memory); the others wait in order, up to `maxQueuedBytes`
 * of request bodies, past which a message is refused at once. Bounds what a flood of clients,
 * each within its own rate limit, can make the node hold. (The dispatcher keeps two: messages
 * that only write or administer do not wait behind reads.)
 */
export class WorkGate {
  private active = 0;
  private queuedBytes = 0;
  private readonly waiting: { bytes: number; go: () => void }[] = [];

  constructor(
    private readonly maxActive: number,
    private readonly maxQueuedBytes: number,
  ) {
    if (!(maxActive >= 1 && maxQueuedBytes >= 0)) throw new RangeError('a work gate needs maxActive >= 1 and maxQueuedBytes >= 0');
  }

  /** Resolves when the message may run (call release() after); false: refused, the queue is full. */
  async enter(bytes: number): Promise<boolean> {
    if (this.active < this.maxActive && this.waiting.length === 0) {
      this.active++;
      return true;
    }
    if (this.queuedBytes + bytes > this.maxQueuedBytes) return false;
    this.queuedBytes += bytes;
    await new Promise<void>((go) => this.waiting.push({ bytes, go }));
    return true;
  }

  release(): void {
    const next = this.waiting.shift();
    if (!next) {
      this.active--;
      return;
    }
    this.queuedBytes -= next.bytes;
    next.go(); // the slot passes to it
  }

  get queued(): number {
    return this.waiting.length;
  }
}

type Elu = typeof performance.eventLoopUtilization;

/**
 * Read work gives way to the rest of the node (consensus above all). Before each slice of a read
 * or subscribe message, the node looks at how busy its event loop was over the last sample
 * (`performance.eventLoopUtilization`, every `sampleMs`): above `maxUtilization`, the slice waits
 * for the next sample. One waiting slice goes ahead per sample whatever the load, so reads slow
 * down under load but never starve. maxUtilization 1: no limit.
 */
export class LoopBudget {
  private last: ReturnType<Elu>;
  private lastAt: number;
  private utilization = 0;
  private readonly waiting: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Slices that waited for a sample (a metric's source). */
  deferred = 0;

  constructor(
    private readonly maxUtilization: number,
    private readonly sampleMs = 20,
    private readonly elu: Elu = performance.eventLoopUtilization.bind(performance),
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(maxUtilization > 0 && maxUtilization <= 1)) throw new RangeError('rpc.maxLoopUtilization must be in (0, 1]');
    this.last = this.elu();
    this.lastAt = this.now();
  }

  /** undefined: go on now; a promise: the slice may run once it resolves. */
  wait(): Promise<void> | undefined {
    if (this.maxUtilization >= 1) return undefined;
    this.sample(false);
    if (this.waiting.length === 0 && this.utilization <= this.maxUtilization) return undefined;
    this.deferred++;
    return new Promise<void>((go) => {
      this.waiting.push(go);
      this.arm();
    });
  }

  /** The event loop's utilisation over the last sample (0…1). */
  get busy(): number {
    return this.utilization;
  }

  private sample(force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastAt < this.sampleMs) return;
    const cur = this.elu();
    this.utilization = this.elu(cur, this.last).utilization;
    this.last = cur;
    this.lastAt = now;
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sample(true);
      const n = this.utilization <= this.maxUtilization ? this.waiting.length : 1;
      for (const go of this.waiting.splice(0, n)) go();
      if (this.waiting.length) this.arm();
    }, this.sampleMs);
  }
}
