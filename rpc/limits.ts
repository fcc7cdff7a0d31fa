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
