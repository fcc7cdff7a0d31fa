import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JSONRPCErrorException, JSONRPCServer, createJSONRPCErrorResponse, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import type { RpcBackend } from './backend.js';
import { RpcError, RpcErrorCode } from './errors.js';
import type { MethodSpec } from './method.js';
import { bankMethods } from './methods/bank.js';
import { chainMethods } from './methods/chain.js';
import { nodeMethods } from './methods/node.js';
import { stateMethods } from './methods/state.js';
import { txMethods } from './methods/tx.js';
import { openRpcDocument } from './openrpc.js';
import { defaultRpcOptions, type RpcOptions } from './options.js';
import { parseParams } from './params.js';

export const allMethods: MethodSpec[] = [...chainMethods, ...stateMethods, ...bankMethods, ...txMethods, ...nodeMethods];

class BodyTooLarge extends Error {}

/** JSON-RPC 2.0 over HTTP: POST / for calls and batches, GET /health for probes. */
export class RpcServer {
  readonly opts: RpcOptions;
  /**
   * Errors thrown by methods are already answered (and unexpected ones logged by `call`); the
   * library's default listener would print every client mistake with a stack trace to stderr.
   */
  private readonly rpc = new JSONRPCServer({ errorListener: () => undefined });
  private server: Server | undefined;

  constructor(
    opts: Partial<RpcOptions>,
    private readonly deps: { backend: RpcBackend; logger: Logger },
  ) {
    this.opts = { ...defaultRpcOptions, ...opts };
    const doc = openRpcDocument(allMethods, deps.backend.version);
    for (const m of allMethods) this.rpc.addMethod(m.name, (params) => this.call(m, params));
    this.rpc.addMethod('rpc.discover', () => doc);
  }

  /** The bound address (after start). */
  get url(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '';
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.deps.logger.error({ err }, 'RPC request failed');
        if (!res.headersSent) send(res, 500, createJSONRPCErrorResponse(null, RpcErrorCode.InternalError, 'internal error'));
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.deps.logger.info({ url: this.url }, 'JSON-RPC listening');
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private async call(m: MethodSpec, params: unknown): Promise<unknown> {
    const started = performance.now();
    try {
      return await m.handler(this.deps.backend, parseParams(m.params, params));
    } catch (e) {
      if (e instanceof JSONRPCErrorException) throw e;
      this.deps.logger.error({ err: e, method: m.name }, 'RPC method failed');
      throw new RpcError(RpcErrorCode.InternalError, `internal error in ${m.name}: ${(e as Error).message}`);
    } finally {
      this.deps.logger.trace({ method: m.name, ms: performance.now() - started }, 'rpc call');
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.opts.corsOrigin) {
      res.setHeader('Access-Control-Allow-Origin', this.opts.corsOrigin);
      res.setHeader('Access-Control-Allow-Headers', 'content-type');
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (req.method === 'GET' && path === '/health') return send(res, 200, { ok: true, height: this.deps.backend.chain.height });
    if (req.method !== 'POST' || path !== '/') {
      return send(res, req.method === 'GET' ? 404 : 405, { error: 'JSON-RPC is served by POST / (and GET /health)' });
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
    const out = await this.dispatch(json);
    if (out === null) return void res.writeHead(204).end();
    send(res, 200, out);
  }

  private async dispatch(json: unknown): Promise<JSONRPCResponse | JSONRPCResponse[] | null> {
    if (Array.isArray(json)) {
      if (json.length === 0) return createJSONRPCErrorResponse(null, RpcErrorCode.InvalidRequest, 'invalid request: empty batch');
      if (json.length > this.opts.maxBatch) {
        return createJSONRPCErrorResponse(null, RpcErrorCode.InvalidRequest, `invalid request: batch of ${json.length} exceeds the limit of ${this.opts.maxBatch}`);
      }
      const all = await Promise.all(json.map((r) => this.single(r)));
      const responses = all.filter((r): r is JSONRPCResponse => r !== null);
      return responses.length ? responses : null;
    }
    return this.single(json);
  }

  private async single(r: unknown): Promise<JSONRPCResponse | null> {
    const req = r as JSONRPCRequest;
    if (typeof r !== 'object' || r === null || req.jsonrpc !== '2.0' || typeof req.method !== 'string') {
      const id = typeof r === 'object' && r !== null && 'id' in r ? ((r as { id: unknown }).id as number | string | null) : null;
      return createJSONRPCErrorResponse(id, RpcErrorCode.InvalidRequest, 'invalid request: expected {"jsonrpc":"2.0","method":…,"params":…,"id":…}');
    }
    if (!this.rpc.hasMethod(req.method)) {
      if (req.id === undefined) return null;
      return createJSONRPCErrorResponse(req.id, RpcErrorCode.MethodNotFound, `method not found: "${req.method}"; rpc.discover lists the methods`);
    }
    return this.rpc.receive(req);
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
