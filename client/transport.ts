import * as z from 'zod';
import { ClientError, ClientErrorCode, RpcResponseError } from './errors.js';

/** How to reach a node's JSON-RPC over HTTP. */
export interface HttpTransportOptions {
  url: string;
  /** Per request, connection included (default 15 s). */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>` (a node with JSON-RPC authentication). */
  token?: string;
  /** Default: the global fetch. */
  fetch?: typeof globalThis.fetch;
}

const errorSchema = z.object({ code: z.number(), message: z.string(), data: z.unknown().optional() });
const responseSchema = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: z.union([z.number(), z.string(), z.null()]), result: z.unknown() }),
  z.object({ jsonrpc: z.literal('2.0'), id: z.union([z.number(), z.string(), z.null()]), error: errorSchema }),
]);
type Response = z.infer<typeof responseSchema>;

/** One call of a batch: the method and its positional parameters. */
export interface Call {
  method: string;
  params?: unknown[];
}

/** A batch call's outcome: its result, or the RpcResponseError the node answered it with. */
export type Settled = { ok: true; result: unknown } | { ok: false; error: RpcResponseError };

/** What MetanodeClient calls through: JSON-RPC over HTTP (HttpTransport) or WebSocket (WsTransport). */
export interface Transport {
  readonly url: string;
  request(method: string, params?: unknown[]): Promise<unknown>;
  batch(calls: readonly Call[]): Promise<Settled[]>;
}

/** A single call's answer: its result, RpcResponseError, or undefined if `json` is not its JSON-RPC response. */
export function settleOne(method: string, id: number, json: unknown): { result: unknown } | undefined {
  const r = responseSchema.safeParse(json);
  if (!r.success || r.data.id !== id) return undefined;
  if ('error' in r.data) throw new RpcResponseError(method, r.data.error);
  return { result: r.data.result };
}

/** A batch's answers in call order (ids first … first + n − 1), or undefined if `json` is not its response. */
export function settleBatch(calls: readonly Call[], first: number, json: unknown): Settled[] | undefined {
  // A batch refused whole (too large, too dear) is answered with one error object.
  const whole = responseSchema.safeParse(json);
  if (whole.success && 'error' in whole.data) {
    const e = new RpcResponseError(calls[0]!.method, whole.data.error);
    return calls.map(() => ({ ok: false, error: e }));
  }
  const list = z.array(responseSchema).safeParse(json);
  if (!list.success) return undefined;
  const byId = new Map<unknown, Response>(list.data.map((r) => [r.id, r]));
  const out: Settled[] = [];
  for (const [i, c] of calls.entries()) {
    const r = byId.get(first + i);
    if (!r) return undefined;
    out.push('error' in r ? { ok: false, error: new RpcResponseError(c.method, r.error) } : { ok: true, result: r.result });
  }
  return out;
}

/** `url` checked to be a URL of one of two schemes (e.g. http/https); ClientError BadArgument if not. */
export function checkUrl(url: string, schemes: readonly [string, string]): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ClientError(ClientErrorCode.BadArgument, `"${url}" is not a URL: pass one like ${schemes[0]}://127.0.0.1:8545`);
  }
  if (!schemes.includes(u.protocol.slice(0, -1))) throw new ClientError(ClientErrorCode.BadArgument, `"${url}" must start with ${schemes[0]}:// or ${schemes[1]}://`);
  return url;
}

/** The request objects of a batch whose first id is `first`. */
export const batchBody = (calls: readonly Call[], first: number) => calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params ?? [] }));

/** JSON-RPC 2.0 over HTTP POST (docs/json-rpc.md): single calls and batches; every failure is a ClientError. */
export class HttpTransport implements Transport {
  readonly url: string;
  private nextId = 1;
  private readonly timeoutMs: number;
  private readonly fetch: typeof globalThis.fetch;

  constructor(private readonly opts: HttpTransportOptions) {
    this.url = checkUrl(opts.url, ['http', 'https']);
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    // Not `globalThis.fetch` itself: called as this.fetch(…), a browser's fetch throws "Illegal invocation".
    this.fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** One call; its result, or RpcResponseError. */
  async request(method: string, params: unknown[] = []): Promise<unknown> {
    const id = this.nextId++;
    const answer = settleOne(method, id, await this.post({ jsonrpc: '2.0', id, method, params }));
    if (!answer) throw this.notJsonRpc();
    return answer.result;
  }

  /** Several calls in one message (one HTTP round trip); one outcome per call, in order. */
  async batch(calls: readonly Call[]): Promise<Settled[]> {
    if (calls.length === 0) return [];
    const first = this.nextId;
    this.nextId += calls.length;
    const json = await this.post(batchBody(calls, first));
    const settled = settleBatch(calls, first, json);
    if (!settled) throw this.notJsonRpc();
    return settled;
  }

  private async post(body: unknown): Promise<unknown> {
    let text: string;
    try {
      const res = await this.fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      const name = (e as { name?: string })?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new ClientError(ClientErrorCode.Timeout, `the node at ${this.url} did not answer within ${Math.round(this.timeoutMs / 1000)} s`, { url: this.url });
      }
      throw new ClientError(ClientErrorCode.Unreachable, `cannot reach the node at ${this.url}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`, { url: this.url });
    }
    try {
      return JSON.parse(text);
    } catch {
      throw this.notJsonRpc();
    }
  }

  private notJsonRpc(): ClientError {
    return new ClientError(ClientErrorCode.BadResponse, `${this.url} did not answer with a JSON-RPC response: is it a Metanode node's RPC endpoint?`, { url: this.url });
  }
}
