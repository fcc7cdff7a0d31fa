/**
 * Load generator (a separate process from the nodes): signs bank transfers from many senders
 * before the timed window, then submits them in JSON-RPC batches round-robin to every node's RPC,
 * at a target rate, or as fast as the nodes accept with at most `backlog` transactions submitted
 * and not yet committed (a fixed-backlog load, like Hyperledger Caliper's fixed-load controller:
 * the nodes stay saturated without an unbounded queue in front of them). Transactions a full
 * mempool turns away (TX_MEMPOOL_FULL) are sent again. It follows the chain from one node (--follow, default node 0) to record
 * when each transaction is committed, and prints one JSON result line.
 */
import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import { parseArgs } from 'node:util';
import { Transaction, addressFromPublicKey, formatAddress, toHex } from '../chain/index.js';
import { devAccountKey } from '../genesis/index.js';
import { encodeTransfer } from '../vm/modules/bank/index.js';
import { benchAddress, benchRecipient } from './accounts.js';

const { values: a } = parseArgs({
  options: {
    rpc: { type: 'string' },
    chain: { type: 'string' },
    senders: { type: 'string', default: '1000' },
    txs: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '0' },
    batch: { type: 'string', default: '250' },
    concurrency: { type: 'string', default: '4' },
    backlog: { type: 'string', default: '0' },
    fee: { type: 'string', default: '1000' },
    /** Dev account index of the first sender (a second run on the same chain uses fresh senders, whose nonces start at 0). */
    'first-sender': { type: 'string', default: '0' },
    /** The node whose blocks are followed (index into --rpc): commits are timed as it sees them. */
    follow: { type: 'string', default: '0' },
    /** When > 0: transfers go to the bench's bulk genesis accounts (bench/accounts.ts), spread over this many, not to other senders. */
    recipients: { type: 'string', default: '0' },
    /** `chain`: start each sender at its nonce on the followed node (a chain earlier runs used), not at 0. */
    nonces: { type: 'string', default: 'zero' },
  },
});
const urls = a.rpc!.split(',');
const followed = urls[Number(a.follow)]!;
const senders = Number(a.senders);
const total = Number(a.txs);
const rate = Number(a.rate);
const batchSize = Number(a.batch);
const concurrency = Number(a.concurrency);
/** 0: no limit. */
const backlog = Number(a.backlog);

// node:http with keep-alive: fetch's stream machinery costs more CPU per request than the
// nodes' handling of a small one, and this process shares the machine with them.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function rpc<T>(url: string, body: unknown): Promise<T> {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
        } catch (e) {
          reject(e as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// 1. Sign everything before the window: sender i sends nonces 0.. to sender (i+1) % senders (or, with --recipients, to bulk accounts).
const keys = Array.from({ length: senders }, (_, i) => devAccountKey(Number(a['first-sender']) + i));
const addrs = keys.map((k) => addressFromPublicKey(k.publicKey));
const recipients = Number(a.recipients);
const to = (i: number, n: number): Uint8Array => (recipients > 0 ? benchAddress(benchRecipient(i, n, recipients)) : addrs[(i + 1) % senders]!);
const firstNonce: number[] = new Array(senders).fill(0);
if (a.nonces === 'chain') {
  for (let i = 0; i < senders; i += 500) {
    const chunk = addrs.slice(i, i + 500);
    const out = await rpc<{ id: number; result: { nonce: number } }[]>(followed, chunk.map((ad, j) => ({ jsonrpc: '2.0', id: j, method: 'state_getAccount', params: [formatAddress(ad)] })));
    for (const r of out) firstNonce[i + r.id] = r.result.nonce;
  }
}
const txs: { hex: string; hash: string }[] = [];
const perSender = Math.ceil(total / senders);
for (let n = 0; n < perSender; n++) {
  for (let i = 0; i < senders && txs.length < total; i++) {
    const tx = Transaction.sign(
      { chainId: a.chain!, nonce: BigInt(firstNonce[i]! + n), sender: keys[i]!.publicKey, fee: BigInt(a.fee!), kind: 'bank.transfer', payload: encodeTransfer({ to: to(i, n), asset: 'NEX', amount: 1n }) },
      keys[i]!,
    );
    txs.push({ hex: toHex(tx.serialize()), hash: toHex(tx.hash()) });
  }
}
const requestBody = (batch: typeof txs) => '[' + batch.map((t, i) => `{"jsonrpc":"2.0","id":${i},"method":"tx_send","params":["${t.hex}"]}`).join(',') + ']';
// The request bodies too, so that the window measures the nodes rather than this process.
const batches: { txs: typeof txs; body: Uint8Array }[] = [];
for (let i = 0; i < txs.length; i += batchSize) batches.push({ txs: txs.slice(i, i + batchSize), body: Buffer.from(requestBody(txs.slice(i, i + batchSize))) });

const cpuAtWindow = process.cpuUsage();

// 2. Follow the chain: commit time of every transaction, as seen by a client.
const submitted = new Map<string, number>();
const committedAt = new Map<string, number>();
let committedSeen = 0;
/** Resolves when the follower has seen another block (the backlog may have room). */
let blockWaiters: (() => void)[] = [];
const nextBlock = () => new Promise<void>((r) => blockWaiters.push(r));
/** Submitted transactions seen committed, each counted once: at its block or at its answer, whichever is later. */
let committedSubmitted = 0;
let following = true;
let startHeight = 0;
const blocks: { height: number; timestamp: number; txs: number }[] = [];
/**
 * Follows the followed node's (--follow) newHeads subscription (WebSocket) and fetches each new block's transaction
 * hashes: no polling, so following costs neither this process nor the node anything between blocks.
 */
async function follow(): Promise<void> {
  const ws = new WebSocket(followed.replace(/^http/, 'ws'));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const heads: number[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { method?: string; params?: { result: { height: number } } };
    if (m.method === 'subscription' && m.params) {
      heads.push(m.params.result.height);
      wake?.();
    }
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: ['newHeads'] }));
  const head = await rpc<{ result: { height: number } }>(followed, { jsonrpc: '2.0', id: 1, method: 'chain_getHead' });
  let h = head.result.height;
  startHeight = h;
  while (following) {
    if (heads.length === 0) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50); // also wakes `following = false`
      });
      wake = undefined;
      continue;
    }
    const top = Math.max(...heads.splice(0));
    while (h < top) {
      h++;
      const b = await rpc<{ result: { height: number; timestamp: number; transactions: string[] } }>(followed, { jsonrpc: '2.0', id: 1, method: 'chain_getBlockByHeight', params: [h, false] });
      const now = performance.now();
      for (const t of b.result.transactions) {
        committedAt.set(t, now);
        if (submitted.has(t)) committedSubmitted++;
      }
      committedSeen += b.result.transactions.length;
      const waiting = blockWaiters;
      blockWaiters = [];
      for (const w of waiting) w();
      blocks.push({ height: h, timestamp: b.result.timestamp, txs: b.result.transactions.length });
    }
  }
  ws.close();
}
const follower = follow();
await new Promise((r) => setTimeout(r, 200));

// 3. Submit: batches, round-robin over nodes, `concurrency` requests in flight, paced to `rate`
// or held to `backlog` uncommitted transactions.
let rejected = 0;
let retried = 0;
const reasons = new Map<string, number>();
const t0 = performance.now();
let next = 0;
let nextBatch = 0;
let req = 0;
/** Turned away by a full mempool: sent again once there is room. */
const retry: typeof txs = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Submitted (or on their way) and not yet seen in a block. */
const uncommitted = () => submitted.size + inflightTxs - committedSeen;
async function worker(): Promise<void> {
  for (;;) {
    let slice: typeof txs;
    let body: string | Uint8Array;
    if (retry.length > 0) {
      slice = retry.splice(0, batchSize);
      body = requestBody(slice);
    } else if (nextBatch < batches.length) {
      ({ txs: slice, body } = batches[nextBatch++]!);
      next += slice.length;
    } else if (inflight > 0) {
      await sleep(5); // a batch in flight may yet come back with transactions to retry
      continue;
    } else return;
    if (rate > 0) {
      const due = t0 + ((next - slice.length) / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    while (backlog > 0 && uncommitted() + slice.length > backlog) await nextBlock();
    const url = urls[req++ % urls.length]!;
    const sentAt = performance.now();
    inflight++;
    inflightTxs += slice.length;
    let out: { id: number; error?: { data?: { reason?: string } } }[];
    try {
      out = await rpc(url, body);
    } finally {
      inflight--;
      inflightTxs -= slice.length;
    }
    for (const r of out) {
      const tx = slice[r.id]!;
      if (!r.error) {
        submitted.set(tx.hash, sentAt);
        if (committedAt.has(tx.hash)) committedSubmitted++; // committed before its answer arrived
      }
      else if (r.error.data?.reason === 'TX_MEMPOOL_FULL') {
        retried++;
        retry.push(tx);
      } else {
        rejected++;
        const why = r.error.data?.reason ?? 'other';
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
    }
    if (retry.length > 0) await sleep(20);
  }
}
let inflight = 0;
let inflightTxs = 0;
await Promise.all(Array.from({ length: rate > 0 ? Math.max(concurrency, 1) : concurrency }, worker));
const submitSeconds = (performance.now() - t0) / 1000;

// 4. Wait until everything accepted is committed (or 30 s pass).
const deadline = performance.now() + 30_000;
const allCommitted = () => committedSubmitted >= submitted.size;
while (performance.now() < deadline && !allCommitted()) await new Promise((r) => setTimeout(r, 20));
following = false;
await follower;

const lat = [...submitted].filter(([h]) => committedAt.has(h)).map(([h, t]) => committedAt.get(h)! - t).sort((x, y) => x - y);
const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]! : NaN);
const loaded = blocks.filter((b) => b.txs > 0);
const first = loaded[0];
const last = loaded[loaded.length - 1];
const committed = loaded.reduce((s, b) => s + b.txs, 0);
// Throughput from the blocks themselves: committed transactions over the span of block timestamps,
// from the block before the first loaded one (when the first batch started being built).
const before = blocks.find((b) => b.height === (first?.height ?? 0) - 1);
const spanMs = first && last ? last.timestamp - (before?.timestamp ?? first.timestamp) : 0;
const intervals = blocks.slice(1).map((b, i) => b.timestamp - blocks[i]!.timestamp);
console.log(
  JSON.stringify({
    submitted: submitted.size,
    rejected,
    retried,
    rejectReasons: Object.fromEntries(reasons),
    committed,
    submitSeconds,
    committedTps: spanMs > 0 ? (committed / spanMs) * 1000 : 0,
    latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: lat[lat.length - 1] ?? NaN, samples: lat.length },
    blocks: blocks.length,
    txsPerBlock: loaded.length ? committed / loaded.length : 0,
    blockIntervalMs: intervals.length ? intervals.reduce((s, x) => s + x, 0) / intervals.length : 0,
    maxBlockIntervalMs: intervals.length ? Math.max(...intervals) : 0,
    startHeight,
    // Signing happens before the window; this counts the submitting and following.
    loadgenCpuSeconds: (() => {
      const c = process.cpuUsage(cpuAtWindow);
      return (c.user + c.system) / 1e6;
    })(),
  }),
);
