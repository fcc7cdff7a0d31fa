import { JSONRPCErrorException } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import type { AuditEntry } from '../storage/index.js';
import { grants, type Grant, type JwtAuth } from './auth.js';
import type { RpcBackend } from './backend.js';
import { RpcError, RpcErrorCode } from './errors.js';
import type { BatchAnswer, CallContext, MethodSpec } from './method.js';
import type { RpcMetrics } from './metrics.js';
import type { MethodGroup, RpcOptions } from './options.js';
import { parseParams } from './params.js';
import { LoopBudget, WorkGate, type RateLimiter } from './limits.js';

type Id = number | string | null;

/** A result that is JSON text already (rpc.discover's document, serialised once). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Where accepted write requests and admin actions are recorded (storage/auditlog.ts). */
export interface AuditSink {
  append(entry: AuditEntry): Promise<void>;
}

/** A message's answer: the JSON text (null: nothing to answer), and the HTTP status that fits it. */
export interface Dispatched {
  body: string | null;
  status: number;
  /** When the message was refused by a rate limit: how long to wait (HTTP Retry-After). */
  retryAfterMs?: number;
}

/** One call of a message, as it goes through the checks. */
interface Call {
  /** undefined: a notification (nothing is answered). */
  id: Id | undefined;
  spec?: MethodSpec;
  args?: unknown[];
  cost: number;
  error?: { code: number; message: string; data?: unknown };
  /** The answer's JSON text, once known. */
  answer?: string;
  /** What the call did, for the audit log (write and admin calls that succeeded). */
  result?: unknown;
}

const isId = (v: unknown): v is Id => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function errorJson(id: Id, code: number, message: string, data?: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } });
}

function resultJson(id: Id, result: unknown): string {
  const idText = JSON.stringify(id);
  if (result instanceof RawJson) return `{"jsonrpc":"2.0","id":${idText},"result":${result.text}}`;
  return `{"jsonrpc":"2.0","id":${idText},"result":${JSON.stringify(result ?? null)}}`;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Work done between two turns of the event loop while answering one message, at most (ms). */
const SLICE_MS = 4;

/**
 * Runs JSON-RPC messages (a call or a batch) for both transports, in order of cost: the shape
 * of every call and its parameters, then authorisation, then the message's total cost (refused
 * whole above rpc.maxRequestCost, before anything runs), then the client's rate limits, and only
 * then the calls — yielding to the event loop every few milliseconds, so that consensus messages
 * are handled in between, and stopping once the answer passes rpc.maxResponseBytes. Accepted
 * write and admin calls are recorded in the audit log before they are answered.
 */
export class Dispatcher {
  private readonly methods = new Map<string, MethodSpec>();
  /** Messages that read, and messages that only write or administer: these never wait behind reads. */
  private readonly gates: { read: WorkGate; write: WorkGate };
  private readonly loop: LoopBudget;

  constructor(
    private readonly opts: RpcOptions,
    private readonly deps: { backend: RpcBackend; logger: Logger; metrics: RpcMetrics; limiter: RateLimiter; auth?: JwtAuth; audit?: AuditSink },
    methods: readonly MethodSpec[],
  ) {
    for (const m of methods) this.methods.set(m.name, m);
    this.gates = { read: new WorkGate(opts.maxConcurrentRequests, opts.maxQueuedBytes), write: new WorkGate(opts.maxConcurrentRequests, opts.maxQueuedBytes) };
    this.loop = new LoopBudget(opts.maxLoopUtilization);
  }

  method(name: string): MethodSpec | undefined {
    return this.methods.get(name);
  }

  /** Runs one message (`bytes`: its body's size, what it holds while it waits for its turn). */
  async dispatch(json: unknown, ctx: CallContext, bytes = 0): Promise<Dispatched> {
    const gate = this.writesOnly(json) ? this.gates.write : this.gates.read;
    if (!(await gate.enter(bytes))) {
      const id = !Array.isArray(json) && typeof json === 'object' && json !== null && isId((json as { id?: unknown }).id) ? (json as { id: Id }).id : null;
      return {
        retryAfterMs: 1000,
        ...this.refuse(
        errorJson(id, RpcErrorCode.LimitExceeded, `the node is busy: ${gate.queued} requests wait for their turn (rpc.maxQueuedBytes of them, ${this.opts.maxQueuedBytes} bytes, are queued); retry in a moment`, { limit: 'rpc.maxQueuedBytes', retryAfterMs: 1000 }),
        'maxQueuedBytes',
        503,
      ),
      };
    }
    try {
      return await this.dispatchNow(json, ctx);
    } finally {
      gate.release();
    }
  }

  /** Whether every call of the message is of a write or admin method (they have a gate of their own). */
  private writesOnly(json: unknown): boolean {
    const calls = Array.isArray(json) ? json : [json];
    for (const r of calls) {
      const name = typeof r === 'object' && r !== null ? (r as { method?: unknown }).method : undefined;
      const group = typeof name === 'string' ? this.methods.get(name)?.group : undefined;
      if (group !== 'write' && group !== 'admin') return false;
    }
    return true;
  }

  /** Before a slice of read work: waits while the event loop is busier than rpc.maxLoopUtilization. */
  private async giveWay(c: Call): Promise<void> {
    const group = c.spec?.group ?? 'read';
    if (group === 'write' || group === 'admin') return;
    const wait = this.loop.wait();
    if (!wait) return;
    this.deps.metrics.deferred();
    await wait;
  }

  private async dispatchNow(json: unknown, ctx: CallContext): Promise<Dispatched> {
    const batch = Array.isArray(json);
    if (batch) {
      if (json.length === 0) return { body: errorJson(null, RpcErrorCode.InvalidRequest, 'invalid request: empty batch'), status: 200 };
      if (json.length > this.opts.maxBatch) {
        return this.refuse(errorJson(null, RpcErrorCode.InvalidRequest, `invalid request: batch of ${json.length} exceeds the limit of ${this.opts.maxBatch} (rpc.maxBatch)`, { limit: 'rpc.maxBatch', max: this.opts.maxBatch }), 'maxBatch', 200);
      }
    }
    const calls = (batch ? json : [json]).map((r) => this.prepare(r));
    await this.authorise(calls, ctx);
    for (const c of calls) if (!c.error && c.spec) c.cost = await this.costOf(c);
    const total = calls.reduce((n, c) => n + (c.error ? 0 : c.cost), 0);
    if (total > this.opts.maxRequestCost) {
      const id = batch ? null : (calls[0]!.id ?? null);
      return this.refuse(
        errorJson(id, RpcErrorCode.LimitExceeded, `request costs ${total} units, more than rpc.maxRequestCost (${this.opts.maxRequestCost}); split the batch or ask for less (docs/json-rpc.md lists each method's cost)`, {
          limit: 'rpc.maxRequestCost',
          cost: total,
          max: this.opts.maxRequestCost,
        }),
        'maxRequestCost',
        200,
      );
    }
    let retryAfterMs = 0;
    for (const c of calls) {
      if (c.error || !c.spec) continue;
      const group = c.spec.group ?? 'read';
      const wait = this.deps.limiter.take(ctx.client.address, group, c.cost);
      if (wait === 0) continue;
      const limit = this.opts.rateLimits[group];
      retryAfterMs = Math.max(retryAfterMs, Number.isFinite(wait) ? wait : 1000);
      this.deps.metrics.refused(`rateLimits.${group}`);
      c.error = {
        code: RpcErrorCode.LimitExceeded,
        message: Number.isFinite(wait)
          ? `rate limit: ${ctx.client.address} called ${group} methods faster than rpc.rateLimits.${group} allows (${limit.rate} units/s, burst ${limit.burst}); retry in ${wait} ms`
          : `rate limit: this call costs ${c.cost} units, more than the burst of rpc.rateLimits.${group} (${limit.burst}); ask for less`,
        data: { limit: `rpc.rateLimits.${group}`, retryAfterMs: Number.isFinite(wait) ? wait : null },
      };
    }
    await this.run(calls, ctx);
    await this.recordAudit(calls, ctx);
    const answers = calls.flatMap((c) => (c.id === undefined ? [] : [c.answer ?? errorJson(c.id, c.error!.code, c.error!.message, c.error!.data)]));
    const body = answers.length === 0 ? null : batch ? `[${answers.join(',')}]` : answers[0]!;
    // A single call refused by a gate gets the HTTP status of the gate; a batch is 200 unless every call was rate limited.
    let status = 200;
    const codes = calls.map((c) => c.error?.code);
    if (codes.every((k) => k === RpcErrorCode.LimitExceeded) && retryAfterMs > 0) status = 429;
    else if (!batch && codes[0] === RpcErrorCode.Unauthorized) status = 401;
    return status === 429 ? { body, status, retryAfterMs } : { body, status };
  }

  private refuse(body: string, limit: string, status: number): Dispatched {
    this.deps.metrics.refused(limit);
    return { body, status };
  }

  /** The call's shape, method and parameters. */
  private prepare(r: unknown): Call {
    const req = r as { jsonrpc?: unknown; method?: unknown; params?: unknown; id?: unknown };
    const shaped = typeof r === 'object' && r !== null && !Array.isArray(r);
    // An id that is not a JSON-RPC id (an object, an array, nested 100,000 deep…) is never echoed.
    if (!shaped || req.jsonrpc !== '2.0' || typeof req.method !== 'string' || (req.id !== undefined && !isId(req.id))) {
      const id = shaped && isId(req.id) ? req.id : null;
      return { id, cost: 0, error: { code: RpcErrorCode.InvalidRequest, message: 'invalid request: expected {"jsonrpc":"2.0","method":…,"params":…,"id":…} with a string, number or null id' } };
    }
    const id = req.id as Id | undefined;
    const spec = this.methods.get(req.method);
    if (!spec) return { id, cost: 0, error: { code: RpcErrorCode.MethodNotFound, message: `method not found: "${req.method.slice(0, 100)}"; rpc.discover lists the methods` } };
    try {
      return { id, spec, args: parseParams(spec.params, req.params), cost: 0 };
    } catch (e) {
      const err = e as JSONRPCErrorException;
      this.deps.metrics.request(spec.name, 0, false);
      return { id, spec, cost: 0, error: { code: err.code, message: err.message, data: err.data } };
    }
  }

  /** Protected groups need a token that grants the method; without authentication, admin is loopback-only. */
  private async authorise(calls: Call[], ctx: CallContext): Promise<void> {
    let grant: Grant | JSONRPCErrorException | undefined;
    for (const c of calls) {
      if (c.error || !c.spec) continue;
      const group = c.spec.group ?? 'read';
      const auth = this.deps.auth;
      if (!auth) {
        if (group === 'admin' && !LOOPBACK.test(ctx.client.address)) {
          c.error = { code: RpcErrorCode.Unauthorized, message: `unauthorized: ${c.spec.name} answers loopback clients only while JSON-RPC authentication is off; set rpc.auth.jwtPublicKeyFile and send a bearer token (docs/operations.md)` };
        }
        continue;
      }
      if (!this.opts.auth.protect.includes(group)) continue;
      if (ctx.client.token === undefined) {
        c.error = { code: RpcErrorCode.Unauthorized, message: `unauthorized: ${c.spec.name} (a ${group} method) needs a bearer token: send "Authorization: Bearer <JWT>" (docs/operations.md)` };
        continue;
      }
      if (grant === undefined) grant = await auth.verify(ctx.client.token).catch((e: JSONRPCErrorException) => e);
      // (json-rpc-2.0 resets the prototype of its error class: RpcError is not instanceof-checkable)
      if (grant instanceof JSONRPCErrorException) c.error = { code: grant.code, message: grant.message };
      else if (!grants(grant, group, c.spec.name)) {
        c.error = { code: RpcErrorCode.Unauthorized, message: `unauthorized: the bearer token does not grant ${c.spec.name} (its permissions need "${group}" or "${c.spec.name}")` };
      } else if (grant.subject) ctx.client.subject = grant.subject;
    }
  }

  private async costOf(c: Call): Promise<number> {
    if (!c.spec!.cost) return 1;
    try {
      const n = await c.spec!.cost(this.deps.backend, c.args!);
      return Math.max(1, Math.ceil(n));
    } catch {
      return 1; // the handler will meet the same problem and answer it
    }
  }

  /**
   * Runs the calls that passed every check: calls of a batchable method (tx_send) together,
   * then the others one by one, yielding to the event loop between slices.
   */
  private async run(calls: Call[], ctx: CallContext): Promise<void> {
    const groups = new Map<MethodSpec, Call[]>();
    for (const c of calls) {
      if (c.error || !c.spec || !c.spec.batchHandler || c.id === undefined) continue;
      let g = groups.get(c.spec);
      if (!g) groups.set(c.spec, (g = []));
      g.push(c);
    }
    let bytes = 0;
    for (const [spec, group] of groups) {
      if (group.length === 1) {
        groups.delete(spec); // the plain handler does the same with less ceremony
        continue;
      }
      if (!(await this.auditReady(group))) continue;
      const started = performance.now();
      let answers: BatchAnswer[];
      try {
        answers = await spec.batchHandler!(this.deps.backend, group.map((c) => c.args!));
      } catch (e) {
        this.deps.logger.error({ err: e, method: spec.name }, 'RPC method failed');
        const error = new RpcError(RpcErrorCode.InternalError, `internal error in ${spec.name}`);
        answers = group.map(() => ({ error }));
      }
      const secondsEach = (performance.now() - started) / 1000 / group.length;
      group.forEach((c, i) => {
        const a = answers[i]!;
        this.deps.metrics.request(spec.name, secondsEach, 'result' in a);
        if ('result' in a) {
          c.result = a.result;
          c.answer = resultJson(c.id!, a.result);
        } else c.error = { code: a.error.code, message: a.error.message, data: a.error.data };
        if (c.answer) bytes += c.answer.length;
      });
    }
    let slice = -Infinity;
    for (const c of calls) {
      if (c.error || !c.spec || c.answer !== undefined) continue;
      if (bytes > this.opts.maxResponseBytes) {
        this.deps.metrics.refused('maxResponseBytes');
        c.error = {
          code: RpcErrorCode.LimitExceeded,
          message: `not run: the answer to this batch passed rpc.maxResponseBytes (${this.opts.maxResponseBytes} bytes) before this call; ask for it in another request`,
          data: { limit: 'rpc.maxResponseBytes', max: this.opts.maxResponseBytes },
        };
        continue;
      }
      if (performance.now() - slice >= SLICE_MS) {
        if (slice !== -Infinity) await new Promise((r) => setImmediate(r));
        await this.giveWay(c);
        slice = performance.now();
      }
      if ((c.spec.group === 'write' || c.spec.group === 'admin') && !(await this.auditReady([c]))) continue;
      bytes += await this.call(c, ctx);
    }
  }

  /** Runs one call; returns its answer's length. */
  private async call(c: Call, ctx: CallContext): Promise<number> {
    const spec = c.spec!;
    const started = performance.now();
    let ok = false;
    try {
      const result = await spec.handler(this.deps.backend, c.args!, ctx);
      ok = true;
      c.result = result;
      if (c.id !== undefined) c.answer = resultJson(c.id, result);
    } catch (e) {
      if (e instanceof JSONRPCErrorException) c.error = { code: e.code, message: e.message, data: e.data };
      else {
        this.deps.logger.error({ err: e, method: spec.name }, 'RPC method failed');
        c.error = { code: RpcErrorCode.InternalError, message: `internal error in ${spec.name}` };
      }
    } finally {
      const ms = performance.now() - started;
      this.deps.metrics.request(spec.name, ms / 1000, ok);
      if (this.deps.logger.isLevelEnabled('trace')) this.deps.logger.trace({ method: spec.name, ms }, 'rpc call');
    }
    return c.answer?.length ?? 0;
  }

  private auditFailure: Error | undefined;

  /** A write or admin call runs only while the audit log can record it. */
  private async auditReady(calls: Call[]): Promise<boolean> {
    if (!this.deps.audit || !this.auditFailure) return true;
    for (const c of calls) c.error = { code: RpcErrorCode.AuditFailed, message: `not done: the audit log cannot be written (${this.auditFailure.message}); the node refuses write and admin calls until it is restarted with space to write` };
    return false;
  }

  /** One audit record per method of the message whose write or admin calls succeeded. */
  private async recordAudit(calls: Call[], ctx: CallContext): Promise<void> {
    const audit = this.deps.audit;
    if (!audit) return;
    const byMethod = new Map<MethodSpec, Call[]>();
    for (const c of calls) {
      const group: MethodGroup | undefined = c.spec?.group;
      if (c.error || !c.spec || (group !== 'write' && group !== 'admin')) continue;
      let g = byMethod.get(c.spec);
      if (!g) byMethod.set(c.spec, (g = []));
      g.push(c);
    }
    for (const [spec, done] of byMethod) {
      const entry: AuditEntry = {
        client: ctx.client.address,
        subject: ctx.client.subject ?? '',
        method: spec.name,
        ...(spec.audit ? spec.audit(done.map((c) => ({ args: c.args!, result: c.result }))) : { detail: { calls: done.length } }),
      };
      try {
        await audit.append(entry);
      } catch (e) {
        this.auditFailure = e as Error;
        this.deps.logger.error({ err: (e as Error).message, method: spec.name }, 'the audit log cannot be written: refusing write and admin calls from now on');
        for (const c of done) {
          c.answer = undefined;
          c.error = { code: RpcErrorCode.AuditFailed, message: `done, but its audit record could not be written (${(e as Error).message}); the node refuses write and admin calls from now on` };
        }
      }
    }
  }
}
