import { expect } from 'chai';
import { Dispatcher, RateLimiter, RawJson, RpcErrorCode, noopRpcMetrics, resolveRpcOptions, type AuditSink, type CallContext, type MethodSpec, type RpcBackend } from '../../../rpc/index.js';
import type { AuditEntry } from '../../../storage/index.js';
import { silentLogger } from '../fixtures.js';

/** The methods under test never touch the backend. */
const backend = {} as RpcBackend;

const spec = (name: string, extra: Partial<MethodSpec> = {}): MethodSpec => ({
  name,
  summary: name,
  params: [],
  result: { name: 'r', description: 'r', schema: {} },
  example: { params: [], result: null },
  handler: () => name,
  ...extra,
});

class RecordingAudit implements AuditSink {
  readonly entries: AuditEntry[] = [];
  fail = false;
  async append(e: AuditEntry): Promise<void> {
    if (this.fail) throw new Error('ENOSPC: no space left on device');
    this.entries.push(e);
  }
}

interface Answer {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

describe('rpc/dispatch Dispatcher', () => {
  let ran: string[];
  let audit: RecordingAudit;
  const refused: string[] = [];
  const metrics = { ...noopRpcMetrics, refused: (l: string) => void refused.push(l) };

  function dispatcher(opts: Parameters<typeof resolveRpcOptions>[0] = {}) {
    const o = resolveRpcOptions(opts);
    ran = [];
    audit = new RecordingAudit();
    const methods = [
      spec('cheap', { handler: () => (ran.push('cheap'), 'ok') }),
      spec('dear', { cost: () => 600, handler: () => (ran.push('dear'), 'x'.repeat(1000)) }),
      spec('doc', { handler: () => new RawJson('{"a":[1,2]}') }),
      spec('send', { group: 'write', handler: () => (ran.push('send'), { hash: '0x01' }), audit: (calls) => ({ result: calls.map((c) => c.result) }) }),
      spec('admin_x', { group: 'admin', handler: () => (ran.push('admin'), true) }),
      spec('boom', { handler: () => { throw new TypeError('secret internals at /x/y.js:1'); } }),
    ];
    return new Dispatcher(o, { backend, logger: silentLogger(), metrics, limiter: new RateLimiter(o.rateLimits, 100), audit }, methods);
  }
  const ctx = (address = '127.0.0.1', token?: string): CallContext => ({ client: { address, transport: 'http', ...(token ? { token } : {}) } });
  const parse = (body: string | null) => JSON.parse(body!) as Answer | Answer[];

  it('never echoes an id that is not a string, number or null (a nested one would blow the stack)', async () => {
    const d = dispatcher();
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const out = await d.dispatch({ jsonrpc: '2.0', method: 'cheap', id: deep }, ctx());
    expect(out.status).to.equal(200);
    expect(parse(out.body)).to.deep.include({ id: null });
    expect((parse(out.body) as Answer).error!.code).to.equal(RpcErrorCode.InvalidRequest);
    const inf = await d.dispatch({ jsonrpc: '2.0', method: 'cheap', id: Infinity }, ctx());
    expect((parse(inf.body) as Answer).error!.code).to.equal(RpcErrorCode.InvalidRequest);
    expect(ran).to.deep.equal([]);
  });

  it('refuses a batch whose cost passes rpc.maxRequestCost before running any of it', async () => {
    const d = dispatcher({ maxRequestCost: 1000 });
    const out = await d.dispatch([1, 2].map((id) => ({ jsonrpc: '2.0', method: 'dear', id })).concat([{ jsonrpc: '2.0', method: 'cheap', id: 3 }]), ctx());
    const a = parse(out.body) as Answer;
    expect(a.id).to.equal(null);
    expect(a.error!.code).to.equal(RpcErrorCode.LimitExceeded);
    expect(a.error!.data).to.deep.equal({ limit: 'rpc.maxRequestCost', cost: 1201, max: 1000 });
    expect(ran).to.deep.equal([]);
    expect(refused).to.include('maxRequestCost');
  });

  it('stops running a batch once its answer passes rpc.maxResponseBytes; the rest are answered with the limit', async () => {
    const d = dispatcher({ maxResponseBytes: 2500, rateLimits: { read: { rate: 0 } } });
    const out = await d.dispatch([1, 2, 3, 4].map((id) => ({ jsonrpc: '2.0', method: 'dear', id })), ctx());
    const answers = parse(out.body) as Answer[];
    expect(answers.map((a) => a.id)).to.deep.equal([1, 2, 3, 4]);
    expect(answers.slice(0, 3).every((a) => typeof a.result === 'string')).to.equal(true);
    expect(answers[3]!.error!.data).to.deep.equal({ limit: 'rpc.maxResponseBytes', max: 2500 });
    expect(ran).to.deep.equal(['dear', 'dear', 'dear']);
  });

  it('rate limits per client and group: the refused call names the limit and when to retry; a single refused call is HTTP 429', async () => {
    const d = dispatcher({ rateLimits: { read: { rate: 1, burst: 3 } } });
    const out = await d.dispatch([1, 2, 3, 4, 5].map((id) => ({ jsonrpc: '2.0', method: 'cheap', id })), ctx('10.0.0.1'));
    const answers = parse(out.body) as Answer[];
    expect(answers.filter((a) => a.result === 'ok')).to.have.length(3);
    expect(answers[3]!.error!.data).to.deep.equal({ limit: 'rpc.rateLimits.read', retryAfterMs: 1000 });
    expect(answers[3]!.error!.message).to.match(/faster than rpc\.rateLimits\.read allows \(1 units\/s, burst 3\)/);
    expect(out.status).to.equal(200);
    const single = await d.dispatch({ jsonrpc: '2.0', method: 'cheap', id: 9 }, ctx('10.0.0.1'));
    expect(single.status).to.equal(429);
    expect(single.retryAfterMs).to.be.greaterThan(0);
    expect((await d.dispatch({ jsonrpc: '2.0', method: 'cheap', id: 9 }, ctx('10.0.0.2'))).status).to.equal(200);
    expect((await d.dispatch({ jsonrpc: '2.0', method: 'send', id: 9, params: [] }, ctx('10.0.0.1'))).status).to.equal(200); // another group
  });

  it('without authentication, admin methods answer loopback clients only', async () => {
    const d = dispatcher();
    expect((parse((await d.dispatch({ jsonrpc: '2.0', method: 'admin_x', id: 1 }, ctx('127.0.0.1'))).body) as Answer).result).to.equal(true);
    expect((parse((await d.dispatch({ jsonrpc: '2.0', method: 'admin_x', id: 1 }, ctx('::1'))).body) as Answer).result).to.equal(true);
    const remote = await d.dispatch({ jsonrpc: '2.0', method: 'admin_x', id: 1 }, ctx('192.168.1.5'));
    expect(remote.status).to.equal(401);
    expect((parse(remote.body) as Answer).error!.message).to.match(/loopback clients only.*rpc\.auth\.jwtPublicKeyFile/);
    expect(ran).to.deep.equal(['admin', 'admin']);
  });

  it('records successful write and admin calls in the audit log, one entry per method of a message', async () => {
    const d = dispatcher();
    await d.dispatch([1, 2].map((id) => ({ jsonrpc: '2.0', method: 'send', id })).concat([{ jsonrpc: '2.0', method: 'cheap', id: 3 }, { jsonrpc: '2.0', method: 'admin_x', id: 4 }]), ctx('127.0.0.1'));
    expect(audit.entries).to.deep.equal([
      { client: '127.0.0.1', subject: '', method: 'send', result: [{ hash: '0x01' }, { hash: '0x01' }] },
      { client: '127.0.0.1', subject: '', method: 'admin_x', detail: { calls: 1 } },
    ]);
  });

  it('when the audit log cannot be written, the write is answered as not recorded, and later writes are refused unrun', async () => {
    const d = dispatcher();
    audit.fail = true;
    const first = parse((await d.dispatch({ jsonrpc: '2.0', method: 'send', id: 1 }, ctx())).body) as Answer;
    expect(first.error!.code).to.equal(RpcErrorCode.AuditFailed);
    expect(first.error!.message).to.match(/audit record could not be written \(ENOSPC/);
    const second = parse((await d.dispatch({ jsonrpc: '2.0', method: 'send', id: 2 }, ctx())).body) as Answer;
    expect(second.error!.message).to.match(/^not done/);
    expect(ran).to.deep.equal(['send']);
    expect((parse((await d.dispatch({ jsonrpc: '2.0', method: 'cheap', id: 3 }, ctx())).body) as Answer).result).to.equal('ok'); // reads go on
  });

  it('a method that throws answers -32603 without the error text; raw JSON results are spliced in as they are', async () => {
    const d = dispatcher();
    const out = parse((await d.dispatch([{ jsonrpc: '2.0', method: 'boom', id: 1 }, { jsonrpc: '2.0', method: 'doc', id: 'x' }], ctx())).body) as Answer[];
    expect(out[0]!.error).to.deep.equal({ code: RpcErrorCode.InternalError, message: 'internal error in boom' });
    expect(out[1]).to.deep.equal({ jsonrpc: '2.0', id: 'x', result: { a: [1, 2] } });
  });

  it('past maxConcurrentRequests messages wait their turn; past maxQueuedBytes they are refused with 503', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const o = resolveRpcOptions({ maxConcurrentRequests: 1, maxQueuedBytes: 100 });
    const d = new Dispatcher(o, { backend, logger: silentLogger(), metrics, limiter: new RateLimiter(o.rateLimits, 100) }, [spec('slow', { handler: async () => (await blocked, 'done') }), spec('cheap')]);
    const first = d.dispatch({ jsonrpc: '2.0', method: 'slow', id: 1 }, ctx(), 10);
    const second = d.dispatch({ jsonrpc: '2.0', method: 'cheap', id: 2 }, ctx(), 60);
    const refused = await d.dispatch({ jsonrpc: '2.0', method: 'cheap', id: 3 }, ctx(), 60);
    expect(refused.status).to.equal(503);
    expect(refused.retryAfterMs).to.equal(1000);
    expect((parse(refused.body) as Answer).error!.data).to.deep.include({ limit: 'rpc.maxQueuedBytes' });
    expect((parse(refused.body) as Answer).id).to.equal(3);
    release();
    expect((parse((await first).body) as Answer).result).to.equal('done');
    expect((parse((await second).body) as Answer).result).to.equal('cheap');
  });

  it('a message that only writes does not wait behind reads that fill maxConcurrentRequests', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const o = resolveRpcOptions({ maxConcurrentRequests: 1 });
    const d = new Dispatcher(o, { backend, logger: silentLogger(), metrics, limiter: new RateLimiter(o.rateLimits, 100) }, [
      spec('slow', { handler: async () => (await blocked, 'done') }),
      spec('cheap'),
      spec('send', { group: 'write', handler: () => 'sent' }),
    ]);
    const read = d.dispatch({ jsonrpc: '2.0', method: 'slow', id: 1 }, ctx());
    const queuedRead = d.dispatch({ jsonrpc: '2.0', method: 'cheap', id: 2 }, ctx());
    const write = await d.dispatch([{ jsonrpc: '2.0', method: 'send', id: 3 }], ctx());
    expect((parse(write.body) as Answer[])[0]!.result).to.equal('sent'); // while the read still holds the only read slot
    release();
    expect((parse((await read).body) as Answer).result).to.equal('done');
    expect((parse((await queuedRead).body) as Answer).result).to.equal('cheap');
  });

  it('notifications run and get no answer; a batch of only notifications answers nothing', async () => {
    const d = dispatcher();
    const out = await d.dispatch([{ jsonrpc: '2.0', method: 'cheap' }, { jsonrpc: '2.0', method: 'cheap' }], ctx());
    expect(out.body).to.equal(null);
    expect(ran).to.deep.equal(['cheap', 'cheap']);
  });
});
