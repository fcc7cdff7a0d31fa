import { ClientError, ClientErrorCode, RpcResponseError } from './errors.js';
import { openSocket, unref, type Socket } from './socket.js';
import { batchBody, checkUrl, settleBatch, settleOne, type Call, type Settled, type Transport } from './transport.js';

/** How to reach a node's JSON-RPC over WebSocket (the same port as HTTP, ws:// or wss://). */
export interface WsTransportOptions {
  url: string;
  /** Per call, and for opening the connection (default 15 s). */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>` on the upgrade (Node.js only: a browser's WebSocket cannot). */
  token?: string;
  /**
   * Reconnect when the connection drops (default true): calls in flight fail with
   * CLIENT_UNREACHABLE, subscriptions are made again and `newHeads` fills the heights it missed.
   */
  reconnect?: boolean;
  /** Longest wait between reconnection attempts (default 5 s; the first is 100 ms, doubling). */
  maxReconnectDelayMs?: number;
  /** Notifications a subscription holds for a reader before it fails with CLIENT_SUBSCRIPTION_OVERFLOW (default 10,000). */
  maxQueued?: number;
}

/** How a subscription is made. */
export interface SubscribeOptions {
  /**
   * newHeads only (default true): after a reconnect, hand over the heads committed while the
   * connection was down, read one by one, before new ones. False: go on from the next new head.
   */
  fillGaps?: boolean;
}

/** Whether WsTransport's connection is open ('live') or dropped ('down'). */
export type ConnectionStatus = 'live' | 'down';

/** What the node's subscriptions notify (docs/json-rpc.md "Subscriptions"). */
export type SubscriptionKind = 'newHeads' | 'receipts' | 'pendingTransactions' | 'blockEvents';
/** Narrows receipts, pendingTransactions and blockEvents: an address (mn1…) and/or a module. */
export interface SubscriptionFilter {
  address?: string;
  module?: string;
}

interface Pending {
  method: string;
  resolve: (json: unknown) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A subscription's notifications as an async iterator: `for await (const head of sub)`. Ending the
 * loop (break, return) unsubscribes; so does `close()`. Notifications wait in a bounded queue for
 * a reader that is behind.
 */
export class Subscription<T = unknown> implements AsyncIterableIterator<T> {
  /** The node's id for it (a new one after a reconnect). */
  id = '';
  private readonly queue: T[] = [];
  /** Readers waiting for the next notification, in the order they asked. */
  private readonly waiters: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private failure: unknown;
  private done = false;
  /** newHeads: the last height handed over, and notifications held while a gap is filled. */
  lastHeight = -1;
  held: T[] | undefined;

  constructor(
    readonly kind: SubscriptionKind,
    readonly filter: SubscriptionFilter | undefined,
    private readonly owner: WsTransport,
    private readonly maxQueued: number,
    /** newHeads: after a reconnect, hand over the heads missed meanwhile (SubscribeOptions.fillGaps). */
    readonly fillGaps = true,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<T>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Unsubscribes (if still connected) and ends the iterator. */
  async close(): Promise<void> {
    if (this.done) return;
    this.end();
    await this.owner.unsubscribe(this as unknown as Subscription<unknown>);
  }

  /** @internal A notification (or a filled-in head) for the reader. */
  push(value: T): void {
    if (this.done) return;
    if (this.kind === 'newHeads') {
      const h = (value as { height?: unknown }).height;
      if (typeof h === 'number') {
        if (h <= this.lastHeight) return;
        this.lastHeight = h;
      }
    }
    const w = this.waiters.shift();
    if (w) {
      w.resolve({ value, done: false });
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.fail(new ClientError(ClientErrorCode.SubscriptionOverflow, `the ${this.kind} subscription holds ${this.maxQueued} notifications nobody read: read faster or raise maxQueued`, { kind: this.kind }));
      void this.owner.unsubscribe(this as unknown as Subscription<unknown>);
      return;
    }
    this.queue.push(value);
  }

  /** @internal Ends the iterator with an error (after what is queued). */
  fail(e: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failure = e;
    for (const w of this.waiters.splice(0)) {
      if (this.queue.length === 0) w.reject(e);
      else w.resolve({ value: this.queue.shift()!, done: false });
    }
  }

  private end(): void {
    this.done = true;
    for (const w of this.waiters.splice(0)) w.resolve({ value: undefined, done: true });
  }

  get closed(): boolean {
    return this.done;
  }
}

/** JSON-RPC 2.0 over one WebSocket: calls, batches and subscriptions; reconnects by itself. */
export class WsTransport implements Transport {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly reconnect: boolean;
  private readonly maxDelayMs: number;
  private readonly maxQueued: number;
  private nextId = 1;
  private ws: Socket | undefined;
  private opening: Promise<Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly subs = new Set<Subscription<unknown>>();
  private readonly byId = new Map<string, Subscription<unknown>>();
  private closed = false;
  private reconnecting: Promise<void> | undefined;
  private backoff: ReturnType<typeof setTimeout> | undefined;
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  /** Notifications for ids not known yet (one can arrive in the same read as its subscribe answer), a few kept briefly. */
  private readonly early = new Map<string, unknown[]>();

  constructor(private readonly opts: WsTransportOptions) {
    this.url = checkUrl(opts.url, ['ws', 'wss']);
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.reconnect = opts.reconnect ?? true;
    this.maxDelayMs = opts.maxReconnectDelayMs ?? 5_000;
    this.maxQueued = opts.maxQueued ?? 10_000;
  }

  async request(method: string, params: unknown[] = []): Promise<unknown> {
    const id = this.nextId++;
    const json = await this.exchange(method, id, { jsonrpc: '2.0', id, method, params });
    const answer = settleOne(method, id, json);
    if (!answer) throw this.notJsonRpc();
    return answer.result;
  }

  async batch(calls: readonly Call[]): Promise<Settled[]> {
    if (calls.length === 0) return [];
    const first = this.nextId;
    this.nextId += calls.length;
    const json = await this.exchange(calls[0]!.method, first, batchBody(calls, first));
    const settled = settleBatch(calls, first, json);
    if (!settled) throw this.notJsonRpc();
    return settled;
  }

  /** Subscribes; the notifications' results, in order, as an async iterator. */
  async subscribe<T = unknown>(kind: SubscriptionKind, filter?: SubscriptionFilter, opts: SubscribeOptions = {}): Promise<Subscription<T>> {
    const sub = new Subscription<T>(kind, filter, this, this.maxQueued, opts.fillGaps ?? true);
    sub.id = (await this.request('subscribe', filter ? [kind, filter] : [kind])) as string;
    const any = sub as unknown as Subscription<unknown>;
    this.subs.add(any);
    this.register(any);
    return sub;
  }

  private register(sub: Subscription<unknown>): void {
    this.byId.set(sub.id, sub);
    const early = this.early.get(sub.id);
    this.early.delete(sub.id);
    // Held too while a newHeads gap is filled: handed over first, a later head would make the
    // reader skip the missed ones (a head at or below the last one handed over is dropped).
    for (const v of early ?? []) {
      if (sub.held) sub.held.push(v);
      else sub.push(v);
    }
  }

  /** @internal */
  async unsubscribe(sub: Subscription<unknown>): Promise<void> {
    this.subs.delete(sub);
    this.byId.delete(sub.id);
    if (this.ws?.open && !this.closed) await this.request('unsubscribe', [sub.id]).catch(() => undefined);
  }

  /** Closes the connection; subscriptions end, calls in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.backoff);
    for (const s of this.subs) s.fail(new ClientError(ClientErrorCode.Closed, 'the client was closed'));
    this.subs.clear();
    const ws = this.ws;
    this.ws = undefined;
    await ws?.close();
  }

  /**
   * Hears the connection come and go: 'live' each time it opens, 'down' each time it drops (not
   * after close()). Subscriptions are made again by themselves when it reopens. Returns a
   * function that stops listening.
   */
  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private setStatus(status: ConnectionStatus): void {
    for (const l of [...this.statusListeners]) {
      try {
        l(status);
      } catch {
        // A listener's failure is its own: the connection and its reconnection go on.
      }
    }
  }

  private async exchange(method: string, id: number, body: unknown): Promise<unknown> {
    const ws = await this.connection();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError(ClientErrorCode.Timeout, `the node at ${this.url} did not answer ${method} within ${Math.round(this.timeoutMs / 1000)} s`, { url: this.url }));
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      ws.send(JSON.stringify(body), (why) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(this.unreachable(why));
      });
    });
  }

  private connection(): Promise<Socket> {
    if (this.closed) return Promise.reject(new ClientError(ClientErrorCode.Closed, 'the client was closed'));
    if (this.ws?.open) return Promise.resolve(this.ws);
    return (this.opening ??= this.open().finally(() => (this.opening = undefined)));
  }

  private async open(): Promise<Socket> {
    let ws: Socket | undefined;
    try {
      ws = await openSocket(
        this.url,
        { timeoutMs: this.timeoutMs, ...(this.opts.token ? { token: this.opts.token } : {}) },
        { message: (text) => this.onMessage(text), close: () => ws && this.onClose(ws) },
      );
    } catch (e) {
      throw typeof e === 'string' ? this.unreachable(e) : e;
    }
    if (this.closed) {
      // close() ran while the socket was opening: it found no socket to close.
      await ws.close();
      throw new ClientError(ClientErrorCode.Closed, 'the client was closed');
    }
    this.ws = ws;
    this.setStatus('live');
    return ws;
  }

  private onMessage(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    if (Array.isArray(json)) {
      const first = json.map((r: { id?: unknown }) => r?.id).filter((id): id is number => typeof id === 'number').sort((a, b) => a - b)[0];
      if (first !== undefined) this.settle(first, json);
      return;
    }
    const m = json as { id?: unknown; method?: unknown; params?: { subscription?: unknown; result?: unknown } };
    if (m.method === 'subscription' && typeof m.params?.subscription === 'string') {
      const sub = this.byId.get(m.params.subscription);
      if (!sub) {
        if (this.early.size < 64) this.early.set(m.params.subscription, [...(this.early.get(m.params.subscription) ?? []), m.params.result].slice(-100));
        return;
      }
      if (sub.held) sub.held.push(m.params.result);
      else sub.push(m.params.result);
      return;
    }
    if (typeof m.id === 'number') this.settle(m.id, json);
    // A whole-batch refusal (id null) names no call: the calls in flight time out.
  }

  private settle(id: number, json: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.resolve(json);
  }

  private onClose(ws: Socket): void {
    const current = this.ws === ws;
    if (current) this.ws = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(this.unreachable(`the connection closed during ${p.method}`));
      this.pending.delete(id);
    }
    if (this.closed) return;
    if (current) this.setStatus('down');
    if (!this.reconnect) {
      for (const s of this.subs) s.fail(this.unreachable('the connection closed'));
      this.subs.clear();
      this.byId.clear();
      return;
    }
    if (this.subs.size > 0) this.reconnecting ??= this.resubscribe().finally(() => (this.reconnecting = undefined));
  }

  /**
   * Reconnects with backoff and makes every subscription again; newHeads fills the heights it
   * missed. Only a connection that fails is tried again: a subscription the node refuses (a limit)
   * ends with the node's error.
   */
  private async resubscribe(): Promise<void> {
    for (let delay = 100; !this.closed; delay = Math.min(delay * 2, this.maxDelayMs)) {
      await new Promise<void>((r) => (this.backoff = unref(setTimeout(r, delay))));
      if (this.closed) return;
      try {
        await this.connection();
        this.byId.clear();
        this.early.clear();
        for (const sub of [...this.subs]) {
          if (sub.closed) {
            this.subs.delete(sub);
            continue;
          }
          const fill = sub.kind === 'newHeads' && sub.fillGaps;
          if (fill) sub.held = [];
          try {
            sub.id = (await this.request('subscribe', sub.filter ? [sub.kind, sub.filter] : [sub.kind])) as string;
          } catch (e) {
            if (!(e instanceof RpcResponseError)) throw e;
            this.subs.delete(sub);
            sub.fail(e);
            continue;
          }
          this.register(sub);
          if (fill) await this.fillHeads(sub);
        }
        return;
      } catch {
        // The node is still away (or went away again): try later.
      }
    }
  }

  /** Hands a newHeads reader the heads committed while it was disconnected, then what arrived meanwhile. */
  private async fillHeads(sub: Subscription<unknown>): Promise<void> {
    try {
      if (sub.lastHeight >= 0) {
        const head = (await this.request('chain_getHead')) as { height: number };
        if (head.height - sub.lastHeight > this.maxQueued) {
          sub.fail(new ClientError(ClientErrorCode.SubscriptionOverflow, `the newHeads subscription missed ${head.height - sub.lastHeight} heights while disconnected, more than maxQueued (${this.maxQueued}): read them with chain_getBlocks`, { kind: sub.kind }));
          this.subs.delete(sub);
          return;
        }
        for (let h = sub.lastHeight + 1; h <= head.height && !sub.closed; h++) {
          const block = (await this.request('chain_getBlockByHeight', [h])) as Record<string, unknown> | null;
          if (!block) break;
          const { transactions: _t, certificate: _c, ...header } = block;
          sub.push(header);
        }
      }
    } finally {
      const held = sub.held ?? [];
      sub.held = undefined;
      for (const v of held) sub.push(v);
    }
  }

  private unreachable(why: string): ClientError {
    return new ClientError(ClientErrorCode.Unreachable, `cannot reach the node at ${this.url}: ${why}`, { url: this.url });
  }

  private notJsonRpc(): ClientError {
    return new ClientError(ClientErrorCode.BadResponse, `${this.url} did not answer with a JSON-RPC response: is it a Metanode node's RPC endpoint?`, { url: this.url });
  }
}
