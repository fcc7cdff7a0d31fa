import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JSONRPCErrorException, createJSONRPCErrorResponse, createJSONRPCSuccessResponse, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RpcBackend } from './backend.js';
import { RpcError, RpcErrorCode } from './errors.js';
import type { BatchAnswer, CallContext, MethodSpec } from './method.js';
import { bankMethods } from './methods/bank.js';
import { chainMethods } from './methods/chain.js';
import { nodeMethods } from './methods/node.js';
import { stateMethods } from './methods/state.js';
import { subscribeMethods } from './methods/subscribe.js';
import { txMethods } from './methods/tx.js';
import { noopRpcMetrics, type RpcMetrics } from './metrics.js';
import { openRpcDocument } from './openrpc.js';
import { defaultRpcOptions, type RpcOptions } from './options.js';
import { parseParams } from './params.js';
import { EXPLORER_DIR, StaticFiles } from './static.js';
import { SubscriptionHub } from './subscriptions.js';
import { WsRpc } from './ws.js';

export const allMethods: MethodSpec[] = [...chainMethods, ...stateMethods, ...bankMethods, ...txMethods, ...nodeMethods, ...subscribeMethods];

export interface RpcServerDeps {
  backend: RpcBackend;
  logger: Logger;
  /** Defaults to no-ops. */
  metrics?: RpcMetrics;
  /** Served at GET /metrics (Prometheus text format) when given. */
  registry?: Registry;
}

class BodyTooLarge extends Error {}

/**
 * JSON-RPC 2.0 over HTTP (POST / for calls and batches) and over WebSocket on the same port
 * (the same methods, plus subscriptions); GET /health for probes, GET /metrics for Prometheus,
 * and the block explorer's files at GET /.
 */
export class RpcServer {
  readonly opts: RpcOptions;
  /**
   * The method table. Requests are dispatched here directly rather than through json-rpc-2.0's
   * JSONRPCServer, whose per-call promise and generator chain cost more than a tx_send itself
   * (the library still provides the response shapes and the error class).
   */
  private readonly methods = new Map<string, (params: unknown, ctx: CallContext) => Promise<unknown>>();
  /** Methods that answer a batch's calls together (MethodSpec.batchHandler). */
  private readonly batchable = new Map<string, MethodSpec>();
  private readonly metrics: RpcMetrics;
  private readonly hub: SubscriptionHub;
  private readonly ws: WsRpc;
  private files = StaticFiles.empty();
  private server: Server | undefined;

  constructor(
    opts: Partial<RpcOptions>,
    private readonly deps: RpcServerDeps,
  ) {
    this.opts = { ...defaultRpcOptions, ...opts };
    this.metrics = deps.metrics ?? noopRpcMetrics;
    const doc = openRpcDocument(allMethods, deps.backend.version);
    for (const m of allMethods) {
      this.methods.set(m.name, (params, ctx) => this.call(m, params, ctx));
      if (m.batchHandler) this.batchable.set(m.name, m);
    }
    this.methods.set('rpc.discover', async () => doc);
    this.hub = new SubscriptionHub({ backend: deps.backend, metrics: this.metrics, logger: deps.logger });
    this.ws = new WsRpc(this.opts, { dispatch: (json, ctx) => this.dispatch(json, ctx), hub: this.hub, metrics: this.metrics, logger: deps.logger });
  }

  /** The bound address (after start). */
  get url(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '';
  }

  async start(): Promise<void> {
    if (this.opts.explorer) {
      try {
        this.files = await StaticFiles.load(EXPLORER_DIR);
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message, dir: EXPLORER_DIR }, 'block explorer files not found: GET / will answer 404');
      }
    }
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.deps.logger.error({ err }, 'RPC request failed');
        if (!res.headersSent) send(res, 500, createJSONRPCErrorResponse(null, RpcErrorCode.InternalError, 'internal error'));
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 30_000;
    server.on('upgrade', (req, socket, head) => {
      if ((req.url ?? '/').split('?')[0] !== '/') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nWebSocket JSON-RPC is served at /\n');
        return;
      }
      this.ws.handleUpgrade(req, socket, head);
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
    this.deps.logger.info({ url: this.url, ws: this.url.replace(/^http/, 'ws'), explorer: this.files.size > 0 ? `${this.url}/` : null }, 'JSON-RPC listening');
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

  private get traceCalls(): boolean {
    return this.deps.logger.isLevelEnabled('trace');
  }

  private async call(m: MethodSpec, params: unknown, ctx: CallContext): Promise<unknown> {
    const started = performance.now();
    let ok = false;
    try {
      const result = await m.handler(this.deps.backend, parseParams(m.params, params), ctx);
      ok = true;
      return result;
    } catch (e) {
      if (e instanceof JSONRPCErrorException) throw e;
      this.deps.logger.error({ err: e, method: m.name }, 'RPC method failed');
      throw new RpcError(RpcErrorCode.InternalError, `internal error in ${m.name}: ${(e as Error).message}`);
    } finally {
      const ms = performance.now() - started;
      this.metrics.request(m.name, ms / 1000, ok);
      if (this.traceCalls) this.deps.logger.trace({ method: m.name, ms }, 'rpc call');
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.opts.corsOrigin) {
      res.setHeader('Access-Control-Allow-Origin', this.opts.corsOrigin);
      res.setHeader('Access-Control-Allow-Headers', 'content-type');
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (req.method === 'GET' && path === '/health') {
      const health = this.deps.backend.health();
      return send(res, health.ok ? 200 : 503, { ...health, height: this.deps.backend.chain.height });
    }
    if (req.method === 'GET' && path === '/metrics' && this.deps.registry) {
      const text = await this.deps.registry.metrics();
      res.writeHead(200, { 'content-type': this.deps.registry.contentType, 'content-length': Buffer.byteLength(text) });
      return void res.end(text);
    }
    if (req.method === 'GET' && path !== undefined && this.files.serve(path, res)) return;
    if (req.method !== 'POST' || path !== '/') {
      return send(res, req.method === 'GET' ? 404 : 405, { error: 'JSON-RPC is served by POST / and WebSocket at / (and GET /health, GET /metrics)' });
    }
    let body: string;
    try {
      body = await readBody(req, this.opts.maxBodyBytes);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        res.setHeader('Connection', 'close');
        return send(res, 413, createJSONRPCErrorResponse(null, RpcErrorCode.InvalidRequest, `request body exceeds ${this.opts.maxBodyBytes} bytes; split the batch`));
      }
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (e) {
      return send(res, 200, createJSONRPCErrorResponse(null, RpcErrorCode.ParseError, `parse error: ${(e as Error).message}`));
    }
    const out = await this.dispatch(json, {});
    if (out === null) return void res.writeHead(204).end();
    send(res, 200, out);
  }

  private async dispatch(json: unknown, ctx: CallContext): Promise<JSONRPCResponse | JSONRPCResponse[] | null> {
    if (Array.isArray(json)) {
      if (json.length === 0) return createJSONRPCErrorResponse(null, RpcErrorCode.InvalidRequest, 'invalid request: empty batch');
      if (json.length > this.opts.maxBatch) {
        return createJSONRPCErrorResponse(null, RpcErrorCode.InvalidRequest, `invalid request: batch of ${json.length} exceeds the limit of ${this.opts.maxBatch}`);
      }
      const all = await this.batch(json, ctx);
      const responses = all.filter((r): r is JSONRPCResponse => r !== null);
      return responses.length ? responses : null;
    }
    return this.single(json, ctx);
  }

  /**
   * A batch: calls of methods with a batchHandler (with valid params and an id) are answered
   * together, one call per method; everything else as single calls. Answers keep request order.
   */
  private async batch(requests: unknown[], ctx: CallContext): Promise<(JSONRPCResponse | null)[]> {
    const groups = new Map<MethodSpec, { at: number; id: number | string | null; args: unknown[] }[]>();
    const out: Promise<JSONRPCResponse | null>[] = requests.map((r, at) => {
      const req = r as JSONRPCRequest;
      const spec = typeof r === 'object' && r !== null && req.jsonrpc === '2.0' && typeof req.method === 'string' && req.id !== undefined ? this.batchable.get(req.method) : undefined;
      if (spec) {
        try {
          const args = parseParams(spec.params, req.params);
          let g = groups.get(spec);
          if (!g) groups.set(spec, (g = []));
          g.push({ at, id: req.id!, args });
          return Promise.resolve(null); // answered below
        } catch {
          // invalid params: the single path gives the usual error answer
        }
      }
      return this.single(r, ctx);
    });
    for (const [spec, calls] of groups) {
      const started = performance.now();
      let answers: BatchAnswer[];
      try {
        answers = await spec.batchHandler!(this.deps.backend, calls.map((c) => c.args));
      } catch (e) {
        this.deps.logger.error({ err: e, method: spec.name }, 'RPC method failed');
        const error = new RpcError(RpcErrorCode.InternalError, `internal error in ${spec.name}: ${(e as Error).message}`);
        answers = calls.map(() => ({ error }));
      }
      const secondsEach = (performance.now() - started) / 1000 / calls.length;
      calls.forEach((c, i) => {
        const a = answers[i]!;
        this.metrics.request(spec.name, secondsEach, 'result' in a);
        out[c.at] = Promise.resolve('result' in a ? createJSONRPCSuccessResponse(c.id, a.result) : createJSONRPCErrorResponse(c.id, a.error.code, a.error.message, a.error.data));
      });
    }
    return Promise.all(out);
  }

  private async single(r: unknown, ctx: CallContext): Promise<JSONRPCResponse | null> {
    const req = r as JSONRPCRequest;
    if (typeof r !== 'object' || r === null || req.jsonrpc !== '2.0' || typeof req.method !== 'string') {
      const id = typeof r === 'object' && r !== null && 'id' in r ? ((r as { id: unknown }).id as number | string | null) : null;
      return createJSONRPCErrorResponse(id, RpcErrorCode.InvalidRequest, 'invalid request: expected {"jsonrpc":"2.0","method":…,"params":…,"id":…}');
    }
    const method = this.methods.get(req.method);
    if (!method) {
      if (req.id === undefined) return null;
      return createJSONRPCErrorResponse(req.id, RpcErrorCode.MethodNotFound, `method not found: "${req.method}"; rpc.discover lists the methods`);
    }
    // A request without an id is a notification: it runs, and nothing is answered.
    try {
      const result = await method(req.params, ctx);
      return req.id === undefined ? null : createJSONRPCSuccessResponse(req.id, result);
    } catch (e) {
      if (req.id === undefined) return null;
      if (e instanceof JSONRPCErrorException) return createJSONRPCErrorResponse(req.id, e.code, e.message, e.data);
      return createJSONRPCErrorResponse(req.id, RpcErrorCode.InternalError, 'internal error');
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
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
