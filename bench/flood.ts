/**
 * An RPC flood (a separate process from the nodes): `clients` clients, each from an address of
 * its own (127.0.0.2, 127.0.0.3, … — Linux routes all of 127/8 to lo — or `--from`), each sending
 * read calls with large answers (pages of 100 headers, the OpenRPC document, whole blocks, the
 * head, accounts) in batches every 50 ms at `factor` × the node's read rate limit, so that each
 * is held at its limit. Prints one JSON line: calls answered, calls refused by the rate limit,
 * other errors, bytes received.
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { defaultRpcOptions } from '../rpc/index.js';

const { values: a } = parseArgs({
  options: {
    rpc: { type: 'string' },
    clients: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '20' },
    /** The node's rpc.rateLimits.read rate (units per second; default: the node's default). */
    rate: { type: 'string', default: String(defaultRpcOptions.rateLimits.read.rate) },
    factor: { type: 'string', default: '1.2' },
    /** The clients' source addresses, comma-separated (default 127.0.0.2, 127.0.0.3, …). */
    from: { type: 'string' },
  },
});
const url = new URL(a.rpc!);
const clients = Number(a.clients);
const sources = a.from ? a.from.split(',') : Array.from({ length: clients }, (_, i) => `127.0.0.${2 + i}`);
if (sources.length < clients) throw new Error(`${clients} clients need ${clients} --from addresses`);
const until = Date.now() + Number(a.seconds) * 1000;
const unitsPerTick = (Number(a.rate) * Number(a.factor)) / 20;

/** One set of calls and its cost in units as the node counts them (docs/json-rpc.md). */
const SET = [
  { method: 'chain_getBlocks', params: [{ limit: 100 }], cost: 71 },
  { method: 'rpc.discover', params: [], cost: 20 },
  { method: 'chain_getBlockByHeight', params: ['latest', true], cost: 3 },
  { method: 'chain_getHead', params: [], cost: 1 },
  { method: 'node_status', params: [], cost: 1 },
];
const SET_COST = SET.reduce((n, c) => n + c.cost, 0);

const totals = { answered: 0, limited: 0, errors: 0, failedRequests: 0, skippedTicks: 0, bytes: 0 };

function post(agent: Agent, localAddress: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: '/', agent, localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function client(i: number): Promise<void> {
  const localAddress = sources[i]!;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let carry = 0;
  let id = 0;
  let inFlight = 0;
  while (Date.now() < until) {
    const tick = Date.now();
    carry += unitsPerTick;
    const calls: { jsonrpc: '2.0'; id: number; method: string; params: unknown[] }[] = [];
    while (carry >= SET_COST) {
      for (const c of SET) calls.push({ jsonrpc: '2.0', id: id++, method: c.method, params: c.params });
      carry -= SET_COST;
    }
    // Open loop: a tick's batch goes out whether or not earlier ones were answered (up to 8 in flight).
    if (calls.length && inFlight < 8) {
      inFlight++;
      void post(agent, localAddress, JSON.stringify(calls))
        .then((text) => {
          totals.bytes += text.length;
          const answers = JSON.parse(text) as { result?: unknown; error?: { code: number } }[] | { error: { code: number } };
          for (const x of Array.isArray(answers) ? answers : [answers]) {
            if (x.error?.code === -32005) totals.limited++;
            else if (x.error) totals.errors++;
            else totals.answered++;
          }
        })
        .catch(() => totals.failedRequests++)
        .finally(() => inFlight--);
    } else if (calls.length) totals.skippedTicks++;
    const wait = 50 - (Date.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();
}

await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
console.log(JSON.stringify({ clients, seconds: Number(a.seconds), unitsPerSecondPerClient: unitsPerTick * 20, ...totals }));
