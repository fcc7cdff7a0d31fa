/**
 * Hostile JSON-RPC clients against one real node process: each attack is made as a client would
 * make it (raw sockets where fetch would tidy the request up), and after each the node must still
 * be running, healthy, committing blocks, and must not have logged an error for it.
 */
import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { TestNode, devAddress, getAccount, rawHex, runMetanode, signTransfer, sleep, waitFor, waitForHeight, waitForReceipt } from '../e2e/harness.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (Host and Origin included), over a fresh connection. */
function raw(port: number, o: { method?: string; path?: string; headers?: Record<string, string>; body?: string; localAddress?: string }): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: o.method ?? 'POST', path: o.path ?? '/', headers: { 'content-type': 'application/json', connection: 'close', ...o.headers }, agent: false, localAddress: o.localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const call = (method: string, params: unknown[] = [], id: unknown = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, params });

/** A WebSocket upgrade request, written by hand and then reset by the client. */
function resetUpgrade(port: number, path: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      s.resetAndDestroy();
      resolve();
    });
    s.on('error', () => resolve());
  });
}

/** Log lines at error (50) or fatal (60) that the node wrote. */
function errorLogs(node: TestNode): string[] {
  return (node.stdout + node.stderr).split('\n').filter((l) => /"level":(50|60)/.test(l));
}

function figure(name: string, values: Record<string, unknown>): void {
  console.log(`      figure ${JSON.stringify({ test: name, ...values })}`);
}

describe('fault: hostile JSON-RPC clients', function () {
  this.timeout(180_000);
  let node: TestNode;
  let jwtDir: string;
  const keys = generateKeyPairSync('ed25519');

  before(async () => {
    node = await TestNode.init({
      emptyBlockIntervalMs: 200,
      config: { rpc: { wsMaxConnections: 4, maxConnections: 64, headersTimeoutMs: 1500, requestTimeoutMs: 5000, maxBodyBytes: 256 * 1024, auth: { jwtPublicKeyFile: 'jwt.pub' }, corsOrigins: ['https://app.example.org'] } },
    });
    jwtDir = node.home;
    await writeFile(join(jwtDir, 'jwt.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
    await node.start();
    await waitForHeight(node.rpc, 2);
  });

  after(async () => {
    await node?.remove();
  });

  afterEach(async function () {
    // Whatever the attack, the node is still there, serving and committing, and logged no error.
    expect(node.running, 'node process alive').to.equal(true);
    const h = (await node.rpc.call<{ height: number }>('chain_getHead')).height;
    await waitForHeight(node.rpc, h + 1, 10_000);
    expect(errorLogs(node), 'error log lines').to.deep.equal([]);
  });

  it('WebSocket upgrades reset by the client, to another path or while every slot is taken, do not crash the node', async () => {
    for (let i = 0; i < 20; i++) await resetUpgrade(node.port, '/not-here');
    const { WebSocket } = await import('ws');
    const open = await Promise.all(
      Array.from({ length: 4 }, () => new Promise<InstanceType<typeof WebSocket>>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${node.port}/`);
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      })),
    );
    for (let i = 0; i < 20; i++) await resetUpgrade(node.port, '/');
    for (const ws of open) ws.close();
    figure('reset upgrades', { resets: 40 });
  });

  it('an id nested 100,000 deep, ids and params with huge numbers: clean -32600/-32602 answers, no error logged', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const a = await raw(node.port, { body: `{"jsonrpc":"2.0","method":"chain_getHead","id":${deep}}` });
    expect(a.status).to.equal(200);
    expect(JSON.parse(a.body)).to.deep.include({ id: null });
    expect(JSON.parse(a.body).error.code).to.equal(-32600);
    const b = await raw(node.port, { body: `{"jsonrpc":"2.0","method":"chain_getHead","id":1e400}` });
    expect(JSON.parse(b.body).error.code).to.equal(-32600);
    const c = await raw(node.port, { body: `{"jsonrpc":"2.0","method":"chain_getBlockByHeight","id":2,"params":[1e400]}` });
    expect(JSON.parse(c.body).error.code).to.equal(-32602);
    const d = await raw(node.port, { body: `{"jsonrpc":"2.0","method":"chain_getBlockByHeight","id":3,"params":[${'9'.repeat(100_000)}]}` });
    expect(JSON.parse(d.body).error.code).to.equal(-32602);
    const e = await raw(node.port, { body: `{"jsonrpc":"2.0","method":"chain_getBlocks","id":4,"params":[${deep}]}` });
    expect(JSON.parse(e.body).error.code).to.equal(-32602);
  });

  it('oversized bodies, declared or chunked, are refused with 413 before they are read whole', async () => {
    const big = call('tx_send', ['0x' + '00'.repeat(300 * 1024)]);
    expect((await raw(node.port, { body: big })).status).to.equal(413);
    expect((await raw(node.port, { body: big, headers: { 'transfer-encoding': 'chunked' } })).status).to.equal(413);
  });

  it('batches of cheap calls with large answers are refused whole by their cost, in milliseconds, with no work done', async () => {
    const started = performance.now();
    const discover = await raw(node.port, { body: JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'rpc.discover' }))) });
    const pages = await raw(node.port, { body: JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'chain_getBlocks', params: [{ limit: 100 }] }))) });
    const ms = performance.now() - started;
    for (const r of [discover, pages]) {
      const a = JSON.parse(r.body) as { error: { code: number; data: { limit: string } } };
      expect(a.error.code).to.equal(-32005);
      expect(a.error.data.limit).to.equal('rpc.maxRequestCost');
      expect(r.body.length).to.be.below(1000);
    }
    figure('costly batches', { ms: Math.round(ms), answerBytes: discover.body.length + pages.body.length });
  });

  it('Host names other than localhost and foreign browser origins are refused; the own explorer and allowed origins pass', async () => {
    const body = call('chain_getHead');
    expect((await raw(node.port, { body, headers: { host: 'evil.example:8545' } })).status).to.equal(403);
    expect((await raw(node.port, { body, headers: { host: `localhost:${node.port}` } })).status).to.equal(200);
    expect((await raw(node.port, { body, headers: { host: `10.1.2.3:${node.port}` } })).status).to.equal(200);
    const foreign = await raw(node.port, { body: call('tx_send', ['0x00']), headers: { origin: 'https://evil.example', 'content-type': 'text/plain' } });
    expect(foreign.status).to.equal(403);
    expect(foreign.body).to.match(/rpc\.corsOrigins/);
    const own = await raw(node.port, { body, headers: { origin: `http://127.0.0.1:${node.port}` } });
    expect(own.status).to.equal(200);
    expect(own.headers['access-control-allow-origin']).to.equal(undefined);
    const allowed = await raw(node.port, { body, headers: { origin: 'https://app.example.org' } });
    expect(allowed.status).to.equal(200);
    expect(allowed.headers['access-control-allow-origin']).to.equal('https://app.example.org');
    // A WebSocket upgrade from a foreign page is refused the same way.
    const { WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${node.port}/`, { origin: 'https://evil.example' });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => undefined);
    });
    expect(status).to.equal(403);
  });

  it('writes and admin calls need a token that grants them; expired or forged tokens are refused; accepted ones are audited', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const sign = (permissions: string[], o: { exp?: number; sub?: string } = {}) =>
      new SignJWT({ permissions }).setProtectedHeader({ alg: 'EdDSA' }).setSubject(o.sub ?? 'test').setExpirationTime(o.exp ?? exp).sign(keys.privateKey);
    const forger = generateKeyPairSync('ed25519');
    const send = async (token?: string) => {
      const { raw: tx } = await buildTransfer(node);
      return raw(node.port, { body: call('tx_send', [tx]), headers: token ? { authorization: `Bearer ${token}` } : {} });
    };
    const none = await send();
    expect(none.status).to.equal(401);
    expect(JSON.parse(none.body).error.code).to.equal(-32006);
    expect(JSON.parse((await send(await sign(['read']))).body).error.message).to.match(/does not grant tx_send/);
    expect(JSON.parse((await send(await sign(['write'], { exp: Math.floor(Date.now() / 1000) - 5 }))).body).error.message).to.match(/expired/);
    const forged = await new SignJWT({ permissions: ['*'] }).setProtectedHeader({ alg: 'EdDSA' }).setExpirationTime(exp).sign(forger.privateKey);
    expect(JSON.parse((await send(forged)).body).error.message).to.match(/signature does not verify/);
    const ok = JSON.parse((await send(await sign(['write'], { sub: 'wallet' }))).body) as { result: { hash: string } };
    expect(ok.result.hash).to.match(/^0x[0-9a-f]{64}$/);
    await waitForReceipt(node.rpc, ok.result.hash);
    const admin = await raw(node.port, { body: call('admin_setLogLevel', ['warn']), headers: { authorization: `Bearer ${await sign(['admin'], { sub: 'ops' })}` } });
    expect(JSON.parse(admin.body).result).to.equal('warn');
    expect((await raw(node.port, { body: call('admin_setLogLevel', ['debug']) })).status).to.equal(401);
    // Reads need no token.
    expect((await raw(node.port, { body: call('chain_getHead') })).status).to.equal(200);
    const verify = await runMetanode(['audit', 'verify', '--home', node.home, '--show']);
    expect(verify.code, verify.stderr).to.equal(0);
    const records = verify.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { method: string; subject: string; result: unknown });
    expect(records.map((r) => [r.method, r.subject])).to.deep.equal([
      ['tx_send', 'wallet'],
      ['admin_setLogLevel', 'ops'],
    ]);
    expect(records[0]!.result).to.deep.equal({ accepted: [ok.result.hash] });
    expect(verify.stdout).to.match(/2 record\(s\), chain intact/);
  });

  it('a connection flood past rpc.maxConnections and half-open connections: the node keeps serving, and drops the silent ones', async () => {
    const flood: Socket[] = [];
    for (let i = 0; i < 300; i++) {
      const s = connect(node.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.resume();
      flood.push(s);
    }
    // Past rpc.maxConnections (64 here) the node closes new connections at accept.
    const refused = await waitFor('the connections past the limit to be closed', async () => {
      const n = flood.filter((s) => s.destroyed || s.readableEnded).length;
      return n >= 300 - 64 ? n : undefined;
    }, 10_000, 50);
    for (const s of flood) s.destroy();
    // Once the node has seen the flood's connections close, it has room again.
    await waitFor('room for a new connection', async () => (await raw(node.port, { method: 'GET', path: '/health' }).then((r) => r.status === 200, () => false)) || undefined, 10_000, 50);
    const worst: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      expect((await raw(node.port, { method: 'GET', path: '/health' })).status).to.equal(200);
      worst.push(performance.now() - t);
    }
    // Connections that send half a request and then nothing are closed by the headers timeout (1.5 s here).
    const silent: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      // Half of them send half a request, the other half nothing at all.
      const s = connect(node.port, '127.0.0.1', () => i % 2 === 0 && s.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\n`));
      s.on('error', () => undefined);
      s.resume(); // read the 408, so that the end is seen
      silent.push(s);
    }
    const opened = performance.now();
    await sleep(500);
    expect(silent.filter((s) => s.destroyed || s.readableEnded), 'closed before the timeout').to.have.length(0);
    await waitFor('the silent connections to be closed', async () => (silent.every((s) => s.destroyed || s.readableEnded) ? true : undefined), 10_000, 100);
    const closedAfterMs = performance.now() - opened;
    for (const s of silent) s.destroy();
    figure('connection flood', { sockets: 300, refusedAtAccept: refused, worstHealthMs: Math.round(Math.max(...worst)), silentClosedAfterMs: Math.round(closedAfterMs) });
  });
});

/** A signed transfer from dev account 1 at its next nonce, not sent. */
async function buildTransfer(node: TestNode): Promise<{ raw: string }> {
  const { nonce } = await getAccount(node.rpc, devAddress(1));
  return { raw: rawHex(signTransfer({ chainId: node.chainId, from: 1, to: 2, amount: 1n, nonce })) };
}
