import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { bearerToken, type JwtAuth } from './auth.js';
import type { RpcBackend } from './backend.js';
import { Dispatcher, RawJson, type AuditSink, type Dispatched } from './dispatch.js';
import { RpcErrorCode } from './errors.js';
import { originCheck, clientAddress, hostCheck, type Refusal } from './guard.js';
import { RateLimiter } from './limits.js';
import type { CallContext, MethodSpec } from './method.js';
import { adminMethods } from './methods/admin.js';
import { bankMethods } from './methods/bank.js';
import { encMethods } from './methods/enc.js';
import { chainMethods } from './methods/chain.js';
import { nodeMethods } from './methods/node.js';
import { stateMethods } from './methods/state.js';
import { subscribeMethods } from './methods/subscribe.js';
import { txMethods } from './methods/tx.js';
import { lightMethods } from './methods/light.js';
import { moduleQueryMethod } from './methods/module.js';
import { noopRpcMetrics, type RpcMetrics } from './metrics.js';
import { openRpcDocument } from './openrpc.js';
import { resolveRpcOptions, type RpcOptions } from './options.js';
import { EXPLORER_BUILT, EXPLORER_DIR, StaticFiles } from './static.js';
import { SubscriptionHub } from './subscriptions.js';
import { WsRpc } from './ws.js';

export const allMethods: MethodSpec[] = [...chainMethods, ...lightMethods, ...stateMethods, ...bankMethods, ...encMethods, ...txMethods, ...nodeMethods, ...subscribeMethods, ...adminMethods];

export interface RpcServerDeps {
  backend: RpcBackend;
  logger: Logger;
  /** Defaults to no-ops. */
  metrics?: RpcMetrics;
  /** Served at GET /metrics (Prometheus text format) when given and rpc.metricsOnRpc is set. */
  registry?: Registry;
  /** Verifies bearer tokens; required when rpc.auth.jwtPublicKeyFile is set (JwtAuth.load). */
  auth?: JwtAuth;
  /** Records accepted write requests and admin actions. */
  audit?: AuditSink;
}

class BodyTooLarge extends Error {}

/**
 * JSON-RPC 2.0 over HTTP (POST / for calls and batches) and over WebSocket on the same port
 * (the same methods, plus subscriptions); GET /health for probes and the block explorer's files
 * at GET /. Every request passes the Host check (against DNS rebinding) and the Origin check
 * (browsers: only the allowed origins, and the node's own explorer), then the dispatcher's
 * budgets and rate limits (rpc/dispatch.ts).
 */
export class RpcServer {
  readonly opts: RpcOptions;
  private readonly dispatcher: Dispatcher;
  private readonly metrics: RpcMetrics;
  private readonly hub: SubscriptionHub;
  private readonly ws: WsRpc;
  private files = StaticFiles.empty();
  private server: Server | undefined;

  constructor(
    opts: Parameters<typeof resolveRpcOptions>[0],
    private readonly deps: RpcServerDeps,
  ) {
    this.opts = resolveRpcOptions(opts);
    if (this.opts.auth.jwtPublicKeyFile && !deps.auth) throw new Error('rpc.auth.jwtPublicKeyFile is set but no token verifier was given (load one with JwtAuth.load)');
    this.metrics = deps.metrics ?? noopRpcMetrics;
    // module_query is generated from the chain's modules: their queries are in its description and schema.
    const methods = [...allMethods, moduleQueryMethod(deps.backend.chain.stateMachine.registry)];
    const doc = new RawJson(JSON.stringify(openRpcDocument(methods, deps.backend.version)));
    const discover: MethodSpec = {
      name: 'rpc.discover',
      summary: 'This OpenRPC document.',
      params: [],
      result: { name: 'document', description: 'OpenRPC', schema: { type: 'object' } },
      example: { params: [], result: {} },
      cost: () => doc.text.length / 1024,
      handler: () => doc,
    };
    const limiter = new RateLimiter(this.opts.rateLimits, this.opts.rateLimitClients);
    this.dispatcher = new Dispatcher(this.opts, { backend: deps.backend, logger: deps.logger, metrics: this.metrics, limiter, auth: deps.auth, audit: deps.audit }, [...methods, discover]);
    this.hub = new SubscriptionHub({ backend: deps.backend, metrics: this.metrics, logger: deps.logger });
    this.ws = new WsRpc(this.opts, { dispatch: (json, ctx, bytes) => this.dispatcher.dispatch(json, ctx, bytes), hub: this.hub, metrics: this.metrics, logger: deps.logger });
  }

  /** The bound address (after start). */
  get url(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '';
  }

  async start(): Promise<void> {
    if (this.opts.explorer) {
      try {
        this.files = await StaticFiles.load(EXPLORER_DIR, EXPLORER_BUILT);
        if (this.files.missing.length) this.deps.logger.warn({ missing: this.files.missing }, 'the explorer\'s JSON-RPC client bundle is missing (npm run build makes it): its pages will not load');
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message, dir: EXPLORER_DIR }, 'block explorer files not found (run npm run build): GET / will answer 404');
      }
    }
    if (this.opts.corsOrigin !== undefined) {
      this.deps.logger.warn({ corsOrigin: this.opts.corsOrigin }, 'rpc.corsOrigin is no longer used: list the origins allowed to call from a browser in rpc.corsOrigins (default: none)');
    }
    // Node checks the headers and request timeouts every connectionsCheckingInterval (30 s by default).
    // A connection that never sends a byte has no request for those timeouts to time out: it gets
    // headersTimeoutMs to start one, or is closed (a keep-alive connection idle between requests
    // is keepAliveTimeoutMs's).
    const spoke = new WeakSet<object>();
    const server = createServer({ connectionsCheckingInterval: Math.min(1000, this.opts.headersTimeoutMs) }, (req, res) => {
      spoke.add(req.socket);
      this.handle(req, res).catch((err: unknown) => {
        this.deps.logger.error({ err }, 'RPC request failed');
        if (!res.headersSent) send(res, 500, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: RpcErrorCode.InternalError, message: 'internal error' } }));
        else res.destroy();
      });
    });
    server.maxConnections = this.opts.maxConnections;
    server.headersTimeout = this.opts.headersTimeoutMs;
    server.requestTimeout = this.opts.requestTimeoutMs;
    server.keepAliveTimeout = this.opts.keepAliveTimeoutMs;
    server.on('connection', (socket) => {
      const silent = setTimeout(() => spoke.has(socket) || socket.destroy(), this.opts.headersTimeoutMs);
      silent.unref();
      socket.once('close', () => clearTimeout(silent));
    });
    server.on('drop', () => this.metrics.refused('maxConnections'));
    server.on('upgrade', (req, socket, head) => {
      spoke.add(socket);
      // The socket is ours from here: a client that resets it while we answer must not take the
      // process down with an unhandled 'error' event.
      socket.on('error', (err) => this.deps.logger.debug({ err: err.message }, 'upgrade socket error'));
      const refusal = hostCheck(req, this.opts) ?? originCheck(req, this.opts).refusal;
      if (refusal) {
        this.metrics.refused(refusal.limit);
        socket.end(`HTTP/1.1 ${refusal.status} ${refusal.status === 403 ? 'Forbidden' : 'Not Found'}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${refusal.message}\n`);
        return;
      }
      if ((req.url ?? '/').split('?')[0] !== '/') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nWebSocket JSON-RPC is served at /\n');
        return;
      }
      this.ws.handleUpgrade(req, socket, head, { address: clientAddress(req), transport: 'ws', token: bearerToken(req.headers.authorization) });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.hub.start();
    this.ws.start();
    this.deps.logger.info(
      { url: this.url, ws: this.url.replace(/^http/, 'ws'), explorer: this.files.size > 0 ? `${this.url}/` : null, auth: this.deps.auth ? this.opts.auth.protect : null, corsOrigins: this.opts.corsOrigins },
      'JSON-RPC listening',
    );
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    this.ws.close();
    this.hub.stop();
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const host = hostCheck(req, this.opts);
    if (host) return this.refuse(res, host);
    const origin = originCheck(req, this.opts);
    if (origin.refusal) return this.refuse(res, origin.refusal);
    if (origin.allow) {
      res.setHeader('Access-Control-Allow-Origin', origin.allow);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'content-type, authorization');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (req.method === 'GET' && path === '/health') {
      const health = this.deps.backend.health();
      return send(res, health.ok ? 200 : 503, JSON.stringify({ ...health, height: this.deps.backend.chain.height }));
    }
    if (req.method === 'GET' && path === '/metrics' && this.opts.metricsOnRpc && this.deps.registry) {
      const text = await this.deps.registry.metrics();
      res.writeHead(200, { 'content-type': this.deps.registry.contentType, 'content-length': Buffer.byteLength(text) });
      return void res.end(text);
    }
    if (req.method === 'GET' && path !== undefined && this.files.serve(path, res)) return;
    if (req.method !== 'POST' || path !== '/') {
      return send(res, req.method === 'GET' ? 404 : 405, JSON.stringify({ error: 'JSON-RPC is served by POST / and WebSocket at / (and GET /health)' }));
    }
    let body: string;
    try {
      body = await readBody(req, this.opts.maxBodyBytes);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        this.metrics.refused('maxBodyBytes');
        res.setHeader('Connection', 'close');
        const message = `request body exceeds ${this.opts.maxBodyBytes} bytes (rpc.maxBodyBytes); split the batch`;
        return send(res, 413, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: RpcErrorCode.InvalidRequest, message, data: { limit: 'rpc.maxBodyBytes', max: this.opts.maxBodyBytes } } }));
      }
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (e) {
      return send(res, 200, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: RpcErrorCode.ParseError, message: `parse error: ${(e as Error).message}` } }));
    }
    const ctx: CallContext = { client: { address: clientAddress(req), transport: 'http', token: bearerToken(req.headers.authorization) } };
    const out = await this.dispatcher.dispatch(json, ctx, body.length);
    reply(res, out);
  }

  private refuse(res: ServerResponse, r: Refusal): void {
    this.metrics.refused(r.limit);
    send(res, r.status, JSON.stringify({ error: r.message }));
  }
}

function reply(res: ServerResponse, out: Dispatched): void {
  if (out.body === null) return void res.writeHead(204).end();
  if (out.retryAfterMs !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(out.retryAfterMs / 1000))));
  send(res, out.status, out.body);
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      return reject(new BodyTooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
