/**
 * `npm run bench:state` (also run by `npm run bench`): a one-validator chain whose genesis funds N
 * accounts in the four assets (the bulk path: bench/accounts.ts addresses in the bank's genesis
 * bulk file, genesis/bulk.ts, beside a testnet's genesis), for each N of --accounts (default
 * 10,000 and 100,000; --accounts 1000000 and 10000000 may be run alone). Per N:
 * - fill: the first start, which executes genesis and writes the state (not a start-up time);
 * - start-up: a restart, from spawning the process to /health answering;
 * - resident memory of the node after the restart (VmRSS, once it has made a few blocks), and its
 *   peak while it takes the load;
 * - throughput: committed bank transfers per second, saturating load, 2,000 senders each sending
 *   to bulk accounts spread over the whole state (bench/loadgen.ts --recipients);
 * - proofs: state_getProof of random bulk accounts' balances, one at a time over JSON-RPC (mean
 *   round trip), and the proof's size (its hashes and keys as bytes; the chain's format, 2 on the entry log);
 * - RSS: resident memory (VmRSS), and in brackets its anonymous part (RssAnon: the heap and buffers, not LevelDB's
 *   table files mapped from the page cache, which the kernel drops under pressure).
 * - disk: the bytes of the node's data folder per account, after the fill (genesis and a few empty blocks).
 * BENCH_FILL_FLAGS adds Node.js flags to the first start only (the fill no longer needs a larger heap).
 * --cache-mb M sets the node's storage.stateCacheMB (default: the node's, 64); --open-files F its
 * storage.openFiles (LevelDB's open table files). --reuse DIR runs one N
 * (its --accounts) on a folder an earlier --keep left, without filling it again: for side-by-side
 * runs at a large N (its chain has grown by the earlier runs' transfers; disk per account includes them).
 * Prints a table (its last column: whether the entry log has started to compact, from the node's
 * metanode_state_log_positions) and writes bench/results/state-<timestamp>.json. --keep leaves each chain's folder (and says where).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatAddress, toHex } from '../chain/index.js';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS, homePaths } from '../node/index.js';
import { balanceKey } from '../vm/modules/bank/keys.js';
import { benchAddress } from './accounts.js';
import { rssKiB, sleep, waitHealthy, waitReady } from './common.js';

const METANODE = fileURLToPath(new URL('../bin/metanode.js', import.meta.url));
const LOADGEN = fileURLToPath(new URL('./loadgen.js', import.meta.url));
const { values: args } = parseArgs({ options: { keep: { type: 'boolean', default: false }, accounts: { type: 'string', default: '10000,100000' }, txs: { type: 'string', default: '40000' }, proofs: { type: 'string', default: '300' }, reuse: { type: 'string' }, 'cache-mb': { type: 'string' }, 'open-files': { type: 'string' } } });
const SENDERS = 2_000;
const CHAIN = 'metanode-bench';

/** The bytes a proof's JSON stands for: its hex strings decoded, 8 bytes a number (a position). */
function binaryBytes(j: unknown): number {
  if (typeof j === 'string') return j.startsWith('0x') ? (j.length - 2) / 2 : 0;
  if (typeof j === 'number') return 8;
  if (Array.isArray(j)) return j.reduce((n: number, x) => n + binaryBytes(x), 0);
  if (typeof j === 'object' && j !== null) return Object.values(j).reduce((n: number, x) => n + binaryBytes(x), 0);
  return 0;
}

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

function start(home: string, flags: string[] = []): ChildProcess {
  return spawn(process.execPath, [...NODE_RUNTIME_FLAGS, ...flags, METANODE, 'start', '--home', home, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...NODE_RUNTIME_ENV } });
}

/** The entry log's positions from the node's metrics (undefined on a tree chain). */
async function logPositions(metricsUrl: string): Promise<Record<string, number> | undefined> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^metanode_state_log_positions\{position="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return Object.keys(out).length === 0 ? undefined : out;
}

async function stop(node: ChildProcess): Promise<void> {
  node.kill('SIGTERM');
  await new Promise((r) => (node.exitCode !== null ? r(null) : node.once('exit', r)));
}

function duBytes(path: string): number {
  const r = spawnSync('du', ['-sb', path], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]);
}

/**
 * The genesis bulk file of `count` bench accounts (genesis/bulk.ts: one balance a line, addresses
 * ascending by their bytes); returns its sha256 (0x…). Streams: 20 bytes a account in memory.
 */
async function writeBulkFile(path: string, count: number): Promise<string> {
  const addrs = Buffer.alloc(count * 20);
  for (let i = 0; i < count; i++) addrs.set(benchAddress(i), i * 20);
  const order = new Uint32Array(count).map((_, i) => i);
  order.sort((a, b) => addrs.compare(addrs, b * 20, b * 20 + 20, a * 20, a * 20 + 20));
  const digest = createHash('sha256');
  const out = createWriteStream(path);
  let lines: string[] = [];
  const flush = async (): Promise<void> => {
    const chunk = lines.join('');
    lines = [];
    digest.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  };
  for (const i of order) {
    lines.push(`{"address":"${formatAddress(addrs.subarray(i * 20, i * 20 + 20))}","amounts":{"GEN":"1000","NEX":"1000","FLX":"1000","AUR":"1000"}}\n`);
    if (lines.length >= 10_000) await flush();
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return `0x${digest.digest('hex')}`;
}

async function run(accounts: number, port: number) {
  const reuse = args.reuse;
  const dir = reuse ?? (await mkdtemp(join(tmpdir(), 'metanode-bench-state-')));
  try {
    const home = join(dir, 'node0');
    const p = homePaths(home);
    const bulk = accounts - SENDERS;
    if (!reuse) {
      const t = spawnSync(process.execPath, [METANODE, 'testnet', '--validators', '1', '--out', dir, '--chain-id', CHAIN, '--base-rpc-port', String(port), '--base-p2p-port', String(port + 100), '--base-metrics-port', String(port + 200), '--dev-accounts', String(SENDERS)], { encoding: 'utf8' });
      if (t.status !== 0) throw new Error(`testnet failed: ${t.stderr}`);
      const genesis = JSON.parse(await readFile(p.genesis, 'utf8'));
      genesis.modules.bank.bulkFile = { path: 'bulk-accounts.jsonl', sha256: await writeBulkFile(join(home, 'bulk-accounts.jsonl'), bulk) };
      await writeFile(p.genesis, JSON.stringify(genesis));
    }
    const cfg = JSON.parse(await readFile(p.config, 'utf8'));
    cfg.log = { level: 'warn' };
    cfg.consensus = { ...cfg.consensus, emptyBlockIntervalMs: 1000, maxBlockTxs: 20_000, maxBlockBytes: 16 * 1024 * 1024 };
    cfg.mempool = { ...cfg.mempool, maxTxs: 200_000, maxBytes: 256 * 1024 * 1024 };
    cfg.storage = { ...cfg.storage, stateCacheMB: args['cache-mb'] ? Number(args['cache-mb']) : undefined, openFiles: args['open-files'] ? Number(args['open-files']) : undefined };
    await writeFile(p.config, JSON.stringify(cfg, null, 2));
    const url = `http://127.0.0.1:${port}`;

    // Fill: the first start executes genesis (not with --reuse: the folder holds the state already).
    let t0 = performance.now();
    let node: ChildProcess;
    let fillMs = NaN;
    if (!reuse) {
      node = start(home, process.env.BENCH_FILL_FLAGS ? process.env.BENCH_FILL_FLAGS.split(' ') : []);
      await waitHealthy(url, 4 * 3_600_000, node);
      fillMs = performance.now() - t0;
      await waitReady([url]);
      await stop(node);
    }
    const diskBytes = duBytes(p.data);

    // Restart.
    spawnSync('sync');
    t0 = performance.now();
    node = start(home);
    await waitHealthy(url, 600_000, node);
    const startupMs = performance.now() - t0;
    await waitReady([url]);
    await sleep(3000);
    const rssAfterStartMiB = rssKiB(node.pid!, 'VmRSS') / 1024;
    const anonAfterStartMiB = rssKiB(node.pid!, 'RssAnon') / 1024;

    // Proofs of random bulk accounts.
    let proofMs = 0;
    let proofBytes = 0;
    const n = Number(args.proofs);
    for (let i = 0; i < n; i++) {
      const key = balanceKey(benchAddress(Math.floor((i * 2_654_435_761) % bulk)), 'NEX');
      const q0 = performance.now();
      const r = await rpc<{ value: string | null; proof: unknown }>(url, 'state_getProof', [toHex(key)]);
      proofMs += performance.now() - q0;
      if (r.value === null) throw new Error('a bulk account has no NEX balance');
      proofBytes += binaryBytes(r.proof);
    }

    // Throughput.
    let peak = 0;
    let peakAnon = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssKiB(node.pid!, 'VmRSS'));
      peakAnon = Math.max(peakAnon, rssKiB(node.pid!, 'RssAnon'));
    }, 200);
    const lgArgs = [LOADGEN, '--rpc', url, '--chain', CHAIN, '--senders', String(SENDERS), '--txs', args.txs!, '--rate', '0', '--batch', '250', '--concurrency', '16', '--backlog', '12000', '--recipients', String(bulk), ...(reuse ? ['--nonces', 'chain'] : [])];
    const lg = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, lgArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    clearInterval(sampler);
    if (lg.status !== 0) throw new Error(`load generator failed: ${lg.stderr}`);
    const load = JSON.parse(lg.stdout.trim().split('\n').pop()!) as { committedTps: number; committed: number };
    peak = Math.max(peak, rssKiB(node.pid!, 'VmHWM'));
    const log = await logPositions(`http://127.0.0.1:${port + 200}/metrics`);
    await stop(node);
    return {
      accounts,
      stateKeys: accounts * 4,
      fillSeconds: Number.isNaN(fillMs) ? null : +(fillMs / 1000).toFixed(1), // null: --reuse, not filled
      startupSeconds: +(startupMs / 1000).toFixed(2),
      rssAfterStartMiB: Math.round(rssAfterStartMiB),
      peakRssUnderLoadMiB: Math.round(peak / 1024),
      anonAfterStartMiB: Math.round(anonAfterStartMiB),
      peakAnonUnderLoadMiB: Math.round(peakAnon / 1024),
      committedTps: Math.round(load.committedTps),
      committed: load.committed,
      proofMs: +(proofMs / n).toFixed(2),
      proofBytes: Math.round(proofBytes / n),
      diskBytesPerAccount: Math.round(diskBytes / accounts),
      /** The entry log's positions after the run (metanode_state_log_positions): whether compaction has started. */
      log,
    };
  } finally {
    if (reuse) process.stderr.write(`left ${dir} (--reuse)\n`);
    else if (args.keep) process.stderr.write(`kept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}

const results = [];
let port = 19_545;
for (const n of args.accounts!.split(',').map(Number)) {
  if (!Number.isSafeInteger(n) || n <= SENDERS) throw new Error(`--accounts: each N must be an integer above ${SENDERS}`);
  process.stderr.write(`running: state of ${n.toLocaleString('en-US')} accounts …\n`);
  results.push(await run(n, port));
  port += 300;
}
const head = ['accounts', 'fill s', 'start-up s', 'RSS after start MiB (anon)', 'peak RSS under load MiB (anon)', 'committed tx/s', 'proof ms', 'proof bytes', 'disk B/account', 'log compacting (cursor)'];
const rows = results.map((r) => [r.accounts.toLocaleString('en-US'), r.fillSeconds === null ? '– (reused)' : String(r.fillSeconds), String(r.startupSeconds), `${r.rssAfterStartMiB} (${r.anonAfterStartMiB})`, `${r.peakRssUnderLoadMiB} (${r.peakAnonUnderLoadMiB})`, String(r.committedTps), String(r.proofMs), String(r.proofBytes), String(r.diskBytesPerAccount), r.log === undefined ? '– (tree)' : r.log.compact_from! > 0 ? `yes (${r.log.compact_from!.toLocaleString('en-US')})` : 'no']);
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\nState benchmark (1 validator) — ${new Date().toISOString()} — ${cpus().length} cores, Node ${process.version}\n`);
console.log(line(head));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
const outDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `state-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: cpus().length, results }, null, 2));
console.log(`\nwrote ${file}`);
