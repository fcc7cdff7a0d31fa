/**
 * A small JSON-RPC client over WebSocket for the tests (the `ws` package, as a dApp would use):
 * calls matched by id, and each subscription's notifications queued until a test takes them.
 */
import WebSocket from 'ws';
import type { JsonRpcResponse } from './client.js';
import { RpcCallError } from './client.js';

export interface Notification<T = unknown> {
  subscription: string;
  result: T;
}

export class WsClient {
  private nextId = 1;
  private readonly pending = new Map<number, (r: JsonRpcResponse) => void>();
  private readonly queues = new Map<string, unknown[]>();
  private readonly waiters = new Map<string, () => void>();
  /** Every frame received, in order (notifications and answers). */
  readonly received: unknown[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.onMessage(String(data)));
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string): Promise<WsClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new WsClient(ws);
  }

  private onMessage(text: string): void {
    const parsed = JSON.parse(text) as unknown;
    this.received.push(parsed);
    if (Array.isArray(parsed)) {
      for (const r of parsed as JsonRpcResponse[]) if (typeof r.id === 'number') this.pending.get(r.id)?.(r);
      return;
    }
    const m = parsed as JsonRpcResponse & { method?: string; params?: Notification };
    if (m.method === 'subscription' && m.params) {
      const q = this.queues.get(m.params.subscription) ?? [];
      q.push(m.params.result);
      this.queues.set(m.params.subscription, q);
      this.waiters.get(m.params.subscription)?.();
      return;
    }
    if (typeof m.id === 'number') this.pending.get(m.id)?.(m);
  }

  /** Sends raw text (a request, a batch, or garbage). */
  sendRaw(text: string): void {
    this.ws.send(text);
  }

  request<T = unknown>(method: string, params?: unknown): Promise<JsonRpcResponse<T>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, (r) => {
        this.pending.delete(id);
        resolve(r as JsonRpcResponse<T>);
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
    });
  }

  /** A batch over the socket; the answers in the order of `calls`. */
  batch(calls: { method: string; params?: unknown }[]): Promise<JsonRpcResponse[]> {
    const ids = calls.map(() => this.nextId++);
    const answers = ids.map((id) => new Promise<JsonRpcResponse>((resolve) => this.pending.set(id, resolve)));
    this.ws.send(JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: ids[i], method: c.method, ...(c.params === undefined ? {} : { params: c.params }) }))));
    return Promise.all(answers).finally(() => ids.forEach((id) => this.pending.delete(id)));
  }

  async call<T = unknown>(method: string, params?: unknown): Promise<T> {
    const r = await this.request<T>(method, params);
    if (r.error) throw new RpcCallError(method, r.error);
    return r.result as T;
  }

  async subscribe(kind: string, filter?: unknown): Promise<string> {
    const id = await this.call<string>('subscribe', filter === undefined ? [kind] : [kind, filter]);
    this.queues.set(id, this.queues.get(id) ?? []);
    return id;
  }

  /** The next `n` notifications of a subscription (waits up to timeoutMs for them). */
  async take<T = unknown>(subscription: string, n: number, timeoutMs = 20_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const q = this.queues.get(subscription) ?? [];
      if (q.length >= n) return q.splice(0, n) as T[];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`subscription ${subscription}: ${q.length} of ${n} notifications within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.set(subscription, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Notifications already received and not taken. */
  queued<T = unknown>(subscription: string): T[] {
    return (this.queues.get(subscription) ?? []) as T[];
  }

  close(): void {
    this.ws.close();
  }
}
