import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why a WebSocket connection ended. */
export type WsCloseReason = 'client' | 'slow' | 'unresponsive' | 'shutdown';

/** What the RPC server reports; the no-op default lets tests construct a server without any. */
export interface RpcMetrics {
  /** A method call finished (over HTTP or WebSocket). */
  request(method: string, seconds: number, ok: boolean): void;
  wsOpened(): void;
  wsClosed(): void;
  /** Why a connection ends, counted when that is decided (a slow client's socket may linger a little). */
  wsDisconnect(reason: WsCloseReason): void;
  /** Live subscriptions over all connections. */
  wsSubscriptions(count: number): void;
  /** A request, call or connection refused by a limit (named as its setting: maxRequestCost, rateLimits.read, …). */
  refused(limit: string): void;
  /** A slice of read work waited because the event loop was busy (rpc.maxLoopUtilization). */
  deferred(): void;
}

export const noopRpcMetrics: RpcMetrics = {
  request: () => undefined,
  wsOpened: () => undefined,
  wsClosed: () => undefined,
  wsDisconnect: () => undefined,
  wsSubscriptions: () => undefined,
  refused: () => undefined,
  deferred: () => undefined,
};

export class PromRpcMetrics implements RpcMetrics {
  private readonly requests: Counter<'method' | 'status'>;
  private readonly latency: Histogram<'method'>;
  private readonly connections: Gauge;
  private readonly closes: Counter<'reason'>;
  private readonly subscriptions: Gauge;
  private readonly refusals: Counter<'limit'>;
  private readonly deferrals: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({ name: 'metanode_rpc_requests_total', help: 'JSON-RPC calls by method and outcome (ok or error)', labelNames: ['method', 'status'], registers });
    this.latency = new Histogram({
      name: 'metanode_rpc_request_duration_seconds',
      help: 'JSON-RPC call latency by method',
      labelNames: ['method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.connections = new Gauge({ name: 'metanode_rpc_ws_connections', help: 'Open WebSocket connections', registers });
    this.closes = new Counter({
      name: 'metanode_rpc_ws_disconnects_total',
      help: 'Closed WebSocket connections by reason: client (it closed), slow (its send queue overflowed), unresponsive (no pong), shutdown',
      labelNames: ['reason'],
      registers,
    });
    this.subscriptions = new Gauge({ name: 'metanode_rpc_ws_subscriptions', help: 'Live WebSocket subscriptions', registers });
    this.refusals = new Counter({
      name: 'metanode_rpc_refused_total',
      help: 'Requests, calls and connections refused, by the limit that refused them (its rpc.* setting, or origin, host, connections)',
      labelNames: ['limit'],
      registers,
    });
    this.deferrals = new Counter({
      name: 'metanode_rpc_deferred_slices_total',
      help: 'Slices of read work that waited for the event loop to be less busy than rpc.maxLoopUtilization',
      registers,
    });
  }

  deferred(): void {
    this.deferrals.inc();
  }

  refused(limit: string): void {
    this.refusals.inc({ limit });
  }

  request(method: string, seconds: number, ok: boolean): void {
    this.requests.inc({ method, status: ok ? 'ok' : 'error' });
    this.latency.observe({ method }, seconds);
  }

  wsOpened(): void {
    this.connections.inc();
  }

  wsClosed(): void {
    this.connections.dec();
  }

  wsDisconnect(reason: WsCloseReason): void {
    this.closes.inc({ reason });
  }

  wsSubscriptions(count: number): void {
    this.subscriptions.set(count);
  }
}
