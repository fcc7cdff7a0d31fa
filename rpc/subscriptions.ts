import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { formatAddress, toHex, type Transaction } from '../chain/index.js';
import type { CommittedBlock } from '../consensus/index.js';
import type { RpcBackend } from './backend.js';
import { blockEventsToJson, headerToJson, receiptToJson, txToJson } from './format.js';
import type { RpcMetrics } from './metrics.js';

export const SUBSCRIPTION_KINDS = ['newHeads', 'receipts', 'pendingTransactions', 'blockEvents'] as const;
export type SubscriptionKind = (typeof SUBSCRIPTION_KINDS)[number];

/** Narrows `receipts`, `pendingTransactions` and `blockEvents`: both conditions must hold when both are given. */
export interface SubscriptionFilter {
  /** The sender, or an account the transaction's module names (a transfer's recipient); for block events, an account an event names. */
  address?: Uint8Array;
  /** The module the transaction calls (`bank` for `bank.transfer`) or that emitted one of its events; for block events, the module that emitted it. */
  module?: string;
}

/** Where notifications go: a WebSocket connection. `result` is already JSON. */
export interface Subscriber {
  notify(subscription: string, resultJson: string): void;
}

/** What a method handler may do on a connection that can receive notifications. */
export interface SubscriptionSession {
  subscribe(kind: SubscriptionKind, filter: SubscriptionFilter): string;
  unsubscribe(subscription: string): boolean;
}

interface Subscription {
  id: string;
  kind: SubscriptionKind;
  /** address: hex; named: the same address as events spell it (bech32). */
  filter: { address?: string; named?: string; module?: string };
  subscriber: Subscriber;
}

/**
 * Fans chain and mempool events out to subscriptions. A block is published after the commit
 * that emitted it has returned (setImmediate, in commit order), so subscribers never slow
 * consensus down; each result is turned into JSON once, whatever the number of subscribers.
 */
export class SubscriptionHub {
  private readonly byKind = new Map<SubscriptionKind, Map<string, Subscription>>(SUBSCRIPTION_KINDS.map((k) => [k, new Map()]));
  private running = false;
  private mempoolHooked = false;

  constructor(private readonly deps: { backend: RpcBackend; metrics: RpcMetrics; logger: Logger }) {}

  get size(): number {
    let n = 0;
    for (const m of this.byKind.values()) n += m.size;
    return n;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.deps.backend.chain.on('committed', this.onCommitted);
    if (!this.mempoolHooked) {
      this.mempoolHooked = true; // the mempool has no way to remove a listener: this one checks `running`
      this.deps.backend.mempool.onAdded((tx) => this.onPending(tx));
    }
  }

  stop(): void {
    this.running = false;
    this.deps.backend.chain.off('committed', this.onCommitted);
    for (const m of this.byKind.values()) m.clear();
    this.deps.metrics.wsSubscriptions(0);
  }

  add(subscriber: Subscriber, kind: SubscriptionKind, filter: SubscriptionFilter): string {
    const id = toHex(randomBytes(16));
    const match = { ...(filter.address ? { address: toHex(filter.address), named: formatAddress(filter.address) } : {}), ...(filter.module !== undefined ? { module: filter.module } : {}) };
    this.byKind.get(kind)!.set(id, { id, kind, filter: match, subscriber });
    this.deps.metrics.wsSubscriptions(this.size);
    return id;
  }

  /** Removes a subscription of `subscriber`; false if it has none with that id. */
  remove(id: string, subscriber: Subscriber): boolean {
    for (const m of this.byKind.values()) {
      if (m.get(id)?.subscriber === subscriber) {
        m.delete(id);
        this.deps.metrics.wsSubscriptions(this.size);
        return true;
      }
    }
    return false;
  }

  removeAll(subscriber: Subscriber): void {
    for (const m of this.byKind.values()) for (const [id, s] of m) if (s.subscriber === subscriber) m.delete(id);
    this.deps.metrics.wsSubscriptions(this.size);
  }

  private readonly onCommitted = (c: CommittedBlock): void => {
    if (this.byKind.get('newHeads')!.size === 0 && this.byKind.get('receipts')!.size === 0 && (this.byKind.get('blockEvents')!.size === 0 || c.blockEvents.length === 0)) return;
    setImmediate(() => this.guard('block', () => this.publishBlock(c)));
  };

  private onPending(tx: Transaction): void {
    const subs = this.byKind.get('pendingTransactions')!;
    if (!this.running || subs.size === 0) return;
    this.guard('pending transaction', () => {
      const registry = this.deps.backend.chain.stateMachine.registry;
      const touched = new Touched(tx, registry);
      let json: string | undefined;
      for (const s of [...subs.values()]) {
        if (!touched.matches(s.filter)) continue;
        json ??= JSON.stringify(txToJson(tx, registry));
        s.subscriber.notify(s.id, json);
      }
    });
  }

  private publishBlock({ block, receipts, blockEvents }: CommittedBlock): void {
    if (!this.running) return;
    const heads = [...this.byKind.get('newHeads')!.values()];
    if (heads.length > 0) {
      const json = JSON.stringify({ ...headerToJson(block.header), transactionCount: block.transactions.length });
      for (const s of heads) s.subscriber.notify(s.id, json);
    }
    this.publishBlockEvents(block, blockEvents);
    const subs = [...this.byKind.get('receipts')!.values()];
    if (subs.length === 0 || block.transactions.length === 0) return;
    const registry = this.deps.backend.chain.stateMachine.registry;
    const blockHash = toHex(block.hash());
    block.transactions.forEach((tx, index) => {
      const receipt = receipts[index]!;
      const touched = new Touched(tx, registry, receipt.events);
      let json: string | undefined;
      for (const s of subs) {
        if (!touched.matches(s.filter)) continue;
        json ??= JSON.stringify({ ...receiptToJson(receipt, { blockHeight: block.height, blockHash, index }), from: touched.from, kind: tx.kind });
        s.subscriber.notify(s.id, json);
      }
    });
  }

  /** Per subscription, the block's events that match its filter, if any: {height, hash, events}. */
  private publishBlockEvents(block: CommittedBlock['block'], events: CommittedBlock['blockEvents']): void {
    const subs = [...this.byKind.get('blockEvents')!.values()];
    if (subs.length === 0 || events.length === 0) return;
    const all = blockEventsToJson(events);
    const hash = toHex(block.hash());
    let everything: string | undefined;
    for (const s of subs) {
      const { module, named } = s.filter;
      const picked = module === undefined && named === undefined ? all : all.filter((e) => (module === undefined || e.module === module) && (named === undefined || Object.values(e.attributes).includes(named)));
      if (picked.length === 0) continue;
      const json = picked === all ? (everything ??= JSON.stringify({ height: block.height, hash, events: all })) : JSON.stringify({ height: block.height, hash, events: picked });
      s.subscriber.notify(s.id, json);
    }
  }

  private guard(what: string, f: () => void): void {
    try {
      f();
    } catch (err) {
      this.deps.logger.error({ err }, `publishing a ${what} to subscribers failed`);
    }
  }
}

/** The accounts and modules a transaction touches, computed once for all filters. */
class Touched {
  readonly from: string;
  private readonly addresses: Set<string>;
  private readonly modules: Set<string>;

  constructor(tx: Transaction, registry: { addressesOf(tx: Transaction): Uint8Array[] }, events: readonly { module: string }[] = []) {
    this.from = formatAddress(tx.from());
    this.addresses = new Set(registry.addressesOf(tx).map(toHex));
    this.modules = new Set([tx.kind.slice(0, Math.max(0, tx.kind.indexOf('.'))), ...events.map((e) => e.module)]);
  }

  matches(f: Subscription['filter']): boolean {
    if (f.address !== undefined && !this.addresses.has(f.address)) return false;
    if (f.module !== undefined && !this.modules.has(f.module)) return false;
    return true;
  }
}
