import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createJSONRPCErrorResponse } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { RpcError, RpcErrorCode } from './errors.js';
import type { Dispatched } from './dispatch.js';
import type { CallContext, ClientInfo } from './method.js';
import type { RpcMetrics, WsCloseReason } from './metrics.js';
import type { RpcOptions } from './options.js';
import type { Subscriber, SubscriptionFilter, SubscriptionHub, SubscriptionKind, SubscriptionSession } from './subscriptions.js';

/** Runs one JSON-RPC message (a call or a batch): the HTTP server's dispatcher. */
export type Dispatch = (json: unknown, ctx: CallContext) => Promise<Dispatched>;

/** Close codes (RFC 6455): 1008 policy violation (send queue overflow), 1001 going away. */
export const WsCloseCode = { GoingAway: 1001, PolicyViolation: 1008 } as const;

interface WsDeps {
  dispatch: Dispatch;
  hub: SubscriptionHub;
  metrics: RpcMetrics;
  logger: Logger;
}

/**
 * JSON-RPC over WebSocket on the RPC server's port: the same methods as HTTP, plus subscriptions.
 * Every connection's unsent data is bounded in bytes and in messages; a client that does not
 * read is closed instead of growing the node's memory, and one that stops answering pings is
 * dropped.
 */
export class WsRpc {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<WsConnection>();
  private pinger: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: RpcOptions,
    private readonly deps: WsDeps,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxBodyBytes, perMessageDeflate: false, clientTracking: false });
  }

  get connections(): number {
    return this.conns.size;
  }

  start(): void {
    this.pinger = setInterval(() => {
      for (const c of this.conns) c.heartbeat();
    }, this.opts.wsPingIntervalMs);
    this.pinger.unref();
  }

  /** Takes over an HTTP upgrade request (the server's 'upgrade' event). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, client: ClientInfo): void {
    if (this.conns.size >= this.opts.wsMaxConnections) {
      this.deps.metrics.refused('wsMaxConnections');
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nthis node already serves ${this.conns.size} WebSocket connections; retry later\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new WsConnection(ws, client, this.opts, this.deps, () => this.conns.delete(conn));
      this.conns.add(conn);
      this.deps.metrics.wsOpened();
    });
  }

  /** Closes every connection (1001) and stops accepting new ones. */
  close(): void {
    clearInterval(this.pinger);
    for (const c of this.conns) c.shutdown();
    this.conns.clear();
    this.wss.close();
  }
}

class WsConnection implements Subscriber, SubscriptionSession {
  private readonly subs = new Set<string>();
  /** Messages handed to the socket and not yet written out. */
  private unsent = 0;
  /** Requests being processed; at the limit the connection stops reading. */
  private inFlight = 0;
  private closing = false;
  /** Why it ends, once decided (counted then); a close that nobody decided here is the client's. */
  private reason: WsCloseReason | undefined;
  private alive = true;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly ctx: CallContext;

  constructor(
    private readonly ws: WebSocket,
    client: ClientInfo,
    private readonly opts: RpcOptions,
    private readonly deps: WsDeps,
    onClosed: () => void,
  ) {
    this.ctx = { client, session: this };
    ws.on('message', (data) => void this.onMessage(data));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (err) => this.deps.logger.debug({ err: err.message }, 'WebSocket error'));
    ws.on('close', () => {
      clearTimeout(this.killTimer);
      this.deps.hub.removeAll(this);
      this.subs.clear();
      if (!this.reason) this.deps.metrics.wsDisconnect('client');
      this.deps.metrics.wsClosed();
      onClosed();
    });
  }

  subscribe(kind: SubscriptionKind, filter: SubscriptionFilter): string {
    if (this.subs.size >= this.opts.wsMaxSubscriptions) {
      throw new RpcError(RpcErrorCode.LimitExceeded, `this connection holds ${this.subs.size} subscriptions, the most allowed; unsubscribe from one first`);
    }
    const id = this.deps.hub.add(this, kind, filter);
    this.subs.add(id);
    return id;
  }

  unsubscribe(id: string): boolean {
    if (!this.subs.delete(id)) return false;
    return this.deps.hub.remove(id, this);
  }

  notify(subscription: string, resultJson: string): void {
    this.send(`{"jsonrpc":"2.0","method":"subscription","params":{"subscription":"${subscription}","result":${resultJson}}}`);
  }

  heartbeat(): void {
    if (this.closing) return;
    if (!this.alive) {
      this.reason = 'unresponsive';
      this.deps.metrics.wsDisconnect('unresponsive');
      this.deps.logger.info('closing a WebSocket client that did not answer a ping');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  shutdown(): void {
    this.drop('shutdown', WsCloseCode.GoingAway, 'node shutting down');
    this.ws.terminate();
  }

  private async onMessage(data: RawData): Promise<void> {
    if (this.closing) return;
    let json: unknown;
    try {
      json = JSON.parse(rawToString(data));
    } catch (e) {
      this.send(JSON.stringify(createJSONRPCErrorResponse(null, RpcErrorCode.ParseError, `parse error: ${(e as Error).message}`)));
      return;
    }
    if (++this.inFlight >= this.opts.wsMaxInFlight) this.ws.pause();
    try {
      const out = await this.deps.dispatch(json, this.ctx);
      if (out.body !== null) this.send(out.body);
    } catch (err) {
      this.deps.logger.error({ err }, 'WebSocket request failed');
      this.send(JSON.stringify(createJSONRPCErrorResponse(null, RpcErrorCode.InternalError, 'internal error')));
    } finally {
      if (--this.inFlight < this.opts.wsMaxInFlight && this.ws.isPaused) this.ws.resume();
    }
  }

  /** Queues a message unless that would pass the connection's bounds, which closes it instead. */
  private send(text: string): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    const buffered = this.ws.bufferedAmount;
    const overflow = buffered > 0 && buffered + Buffer.byteLength(text) > this.opts.wsMaxBufferedBytes;
    if (overflow || this.unsent >= this.opts.wsMaxQueuedMessages) {
      this.deps.logger.warn({ buffered, unsent: this.unsent }, 'closing a WebSocket client that does not read what it is sent');
      this.drop('slow', WsCloseCode.PolicyViolation, `send queue full (${buffered} bytes, ${this.unsent} messages unsent): read faster or subscribe to less`);
      return;
    }
    this.unsent++;
    this.ws.send(text, () => this.unsent--);
  }

  /**
   * Stops sending and reading, and starts the close handshake; the close frame waits behind
   * what is already queued, so a client that never reads is cut off after the grace period.
   */
  private drop(reason: WsCloseReason, code: number, message: string): void {
    if (this.closing) return;
    this.closing = true;
    this.reason = reason;
    this.deps.metrics.wsDisconnect(reason);
    this.deps.hub.removeAll(this);
    this.subs.clear();
    this.ws.close(code, message.slice(0, 123));
    if (this.ws.isPaused) this.ws.resume(); // to read the client's close frame; its requests are ignored now
    this.killTimer = setTimeout(() => this.ws.terminate(), this.opts.wsCloseGraceMs);
    this.killTimer.unref();
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
