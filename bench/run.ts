/**
 * `npm run bench`: throughput, finality latency and memory of a fresh devnet, for 1 and 4
 * validators; and the block interval and memory of 4 validators at light load, alone and then
 * while 10 clients flood node 0 with read calls at its rate limit (bench/flood.ts). Each scenario: a new testnet in a temp folder, nodes as separate processes, and the
 * load generator (bench/loadgen.ts) as another process on the same machine. Prints a table and
 * writes bench/results/<timestamp>.json. Options: --only <scenario name substring>, --quick,
 * --profile <dir> (a V8 CPU profile of each node and of the load generator, written when they stop), --node-output <dir>
 * (each node's stdout, e.g. with BENCH_NODE_FLAGS=--trace-gc). BENCH_NODE_FLAGS: extra Node.js
 * flags for the node processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS, sharedHostWorkers } from '../node/index.js';
import { defaultRpcOptions } from '../rpc/index.js';
import { parseArgs } from 'node:util';
import { cpuSeconds, rssKiB, sleep, threadCpu, waitHealthy, waitReady } from './common.js';

const METANODE = fileURLToPath(new URL('../bin/metanode.js', import.meta.url));
const LOADGEN = fileURLToPath(new URL('./loadgen.js', import.meta.url));
const FLOOD = fileURLToPath(new URL('./flood.js', import.meta.url));
const { values: args } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, profile: { type: 'string' }, 'node-output': { type: 'string' } } });

interface Scenario {
  name: string;
  validators: number;
  senders: number;
  txs: number;
  /** 0: as fast as the nodes take them. */
  rate: number;
  /** Most transactions a proposer puts in a block: small enough that validators check it within a round. */
  maxBlockTxs: number;
  /** Transactions per JSON-RPC batch, and batches in flight. */
  batch: number;
  concurrency: number;
  /** Most transactions submitted and not yet committed (0: no limit; see bench/loadgen.ts). */
  backlog: number;
}

const scale = args.quick ? 0.2 : 1;
const scenarios: Scenario[] = [
  { name: '1 validator, saturating load', validators: 1, senders: 2000, txs: Math.round(60_000 * scale), rate: 0, maxBlockTxs: 20_000, batch: 250, concurrency: 16, backlog: 12_000 },
  { name: '4 validators, saturating load', validators: 4, senders: 2000, txs: Math.round(45_000 * scale), rate: 0, maxBlockTxs: 6_000, batch: 250, concurrency: 8, backlog: 12_000 },
  { name: '4 validators, light load (100 tx/s)', validators: 4, senders: 200, txs: Math.round(2_000 * scale), rate: 100, maxBlockTxs: 3_000, batch: 1, concurrency: 16, backlog: 0 },
].filter((s) => !args.only || s.name.includes(args.only));

interface Network {
  nodes: ChildProcess[];
  urls: string[];
  stop(): Promise<void>;
}

/** A fresh testnet of `s.validators` nodes in a temp folder, started and connected (past height 2). */
async function startNetwork(s: Pick<Scenario, 'name' | 'validators' | 'senders' | 'maxBlockTxs'>, port: number): Promise<Network> {
  const dir = await mkdtemp(join(tmpdir(), 'metanode-bench-'));
  const t = spawnSync(process.execPath, [METANODE, 'testnet', '--validators', String(s.validators), '--out', dir, '--chain-id', 'metanode-bench', '--base-rpc-port', String(port), '--base-p2p-port', String(port + 100), '--base-metrics-port', String(port + 200), '--dev-accounts', String(s.senders)], { encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`testnet failed: ${t.stderr}`);
  const homes = Array.from({ length: s.validators }, (_, i) => join(dir, `node${i}`));
  for (const home of homes) {
    const cfgPath = join(home, 'config.json');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
    cfg.log = { level: 'warn' };
    cfg.consensus = { ...cfg.consensus, emptyBlockIntervalMs: 1000, maxBlockTxs: s.maxBlockTxs, maxBlockBytes: 16 * 1024 * 1024, ...(process.env.BENCH_CONSENSUS ? JSON.parse(process.env.BENCH_CONSENSUS) : {}) };
    cfg.mempool = { ...cfg.mempool, maxTxs: 200_000, maxBytes: 256 * 1024 * 1024 };
    // Every node of the run shares this machine's cores (as a devnet's do).
    cfg.verifier = { workers: sharedHostWorkers(s.validators) };
    await writeFile(cfgPath, JSON.stringify(cfg, null, 2));
  }
  // --profile <dir>: a V8 CPU profile of every node (open it in Chrome DevTools or speedscope).
  // BENCH_PROFILE_NODE=i: profile node i only (profiling every node of a network slows it down).
  const only = process.env.BENCH_PROFILE_NODE === undefined ? undefined : Number(process.env.BENCH_PROFILE_NODE);
  const prof = (i: number) => [
    ...NODE_RUNTIME_FLAGS,
    ...(args.profile && (only === undefined || only === i) ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : []),
    ...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : []),
  ];
  const out = (i: number) => (args['node-output'] ? openSync(join(args['node-output'], `${s.name.replace(/\W+/g, '-')}-node${i}.log`), 'w') : 'ignore');
  const nodes: ChildProcess[] = homes.map((home, i) => spawn(process.execPath, [...prof(i), METANODE, 'start', '--home', home, '--log-level', 'warn'], { stdio: ['ignore', out(i), 'inherit'], env: { ...process.env, ...NODE_RUNTIME_ENV, ...(process.env.BENCH_NODE_ENV ? JSON.parse(process.env.BENCH_NODE_ENV) : {}) } }));
  const urls = homes.map((_, i) => `http://127.0.0.1:${port + i}`);
  const stop = async () => {
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.all(nodes.map((n) => new Promise((r) => (n.exitCode !== null ? r(null) : n.once('exit', r)))));
    await rm(dir, { recursive: true, force: true });
    // The next scenario starts on a quiet disk: its fsyncs must not queue behind this one's writeback.
    spawnSync('sync');
    await sleep(2000);
  };
  try {
    for (const u of urls) await waitHealthy(u);
    await waitReady(urls);
    await sleep(500);
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes, urls, stop };
}

/** Runs the load generator against a started network; peak memory and CPU of each node meanwhile. */
async function runLoad(net: Network, s: Scenario, firstSender = 0, follow = 0) {
  const { nodes, urls } = net;
  const peak = new Array<number>(nodes.length).fill(0);
  const sampler = setInterval(() => nodes.forEach((n, i) => (peak[i] = Math.max(peak[i]!, rssKiB(n.pid!, 'VmRSS')))), 200);
  const cpu0 = nodes.map((n) => cpuSeconds(n.pid!));
  const threads0 = nodes.map((n) => threadCpu(n.pid!));
  const lgFlags = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`, '--cpu-prof-name=loadgen.cpuprofile'] : [];
  const lgArgs = [...lgFlags, LOADGEN, '--rpc', urls.join(','), '--chain', 'metanode-bench', '--senders', String(s.senders), '--first-sender', String(firstSender), '--follow', String(follow), '--txs', String(s.txs), '--rate', String(s.rate), '--batch', String(s.batch), '--concurrency', String(s.concurrency), '--backlog', String(s.backlog)];
  // Asynchronous, so that the sampler runs (and a flood process started alongside is not held up).
  const lg = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, lgArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  clearInterval(sampler);
  const nodeCpuSeconds = nodes.map((n, i) => cpuSeconds(n.pid!) - cpu0[i]!);
  // Where node 0's CPU went, by thread name (threads that started during the run count from 0).
  const t0 = threads0[0]!;
  const nodeThreadCpuSeconds = Object.fromEntries([...threadCpu(nodes[0]!.pid!)].map(([name, sec]) => [name, +(sec - (t0.get(name) ?? 0)).toFixed(2)]).filter(([, sec]) => (sec as number) > 0));
  nodes.forEach((n, i) => (peak[i] = Math.max(peak[i]!, rssKiB(n.pid!, 'VmRSS'))));
  if (lg.status !== 0) throw new Error(`load generator failed: ${lg.stderr}`);
  const result = JSON.parse(lg.stdout.trim().split('\n').pop()!);
  return { scenario: s, ...result, nodeCpuSeconds, nodeThreadCpuSeconds, peakRssMiB: peak.map((k) => Math.round(k / 1024)) };
}

async function runScenario(s: Scenario, port: number) {
  const net = await startNetwork(s, port);
  try {
    const r = await runLoad(net, s);
    // The process's own high-water mark covers what the sampler missed between its samples.
    r.peakRssMiB = r.peakRssMiB.map((m: number, i: number) => Math.max(m, Math.round(rssKiB(net.nodes[i]!.pid!, 'VmHWM') / 1024)));
    return r;
  } finally {
    await net.stop();
  }
}

/**
 * Block interval and memory of a 4-validator network at light load, first alone, then while 10
 * clients flood node 0 with read calls at its rate limit (bench/flood.ts). The network is the
 * same for both halves, so the two are side by side; node 0's peak RSS is sampled in each half.
 */
async function runFlood(port: number) {
  const light: Scenario = { name: '4 validators, light load, then an RPC flood', validators: 4, senders: 200, txs: Math.round(1_500 * scale), rate: 100, maxBlockTxs: 3_000, batch: 1, concurrency: 16, backlog: 0 };
  const net = await startNetwork({ ...light, senders: 2 * light.senders }, port);
  try {
    // Commits are timed as node 1 sees them: node 0's own RPC is what the flood slows down.
    const idle = await runLoad(net, light, 0, 1);
    const seconds = Math.ceil(light.txs / light.rate) + 2;
    const flood = spawn(process.execPath, [FLOOD, '--rpc', net.urls[0]!, '--clients', '10', '--seconds', String(seconds), '--rate', String(defaultRpcOptions.rateLimits.read.rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let floodOut = '';
    flood.stdout.on('data', (c: Buffer) => (floodOut += c.toString()));
    const flooded = await runLoad(net, light, light.senders, 1);
    await new Promise((r) => (flood.exitCode !== null ? r(null) : flood.once('exit', r)));
    return { idle, flooded, flood: JSON.parse(floodOut.trim().split('\n').pop() ?? '{}') };
  } finally {
    await net.stop();
  }
}

const results = [];
let port = 18_545;
for (const s of scenarios) {
  process.stderr.write(`running: ${s.name} …\n`);
  results.push(await runScenario(s, port));
  port += 300;
}
const FLOOD_NAME = '4 validators, light load, then an RPC flood';
let flood: Awaited<ReturnType<typeof runFlood>> | undefined;
if (!args.only || FLOOD_NAME.includes(args.only)) {
  process.stderr.write(`running: ${FLOOD_NAME} …\n`);
  flood = await runFlood(port);
}

const rows = results.map((r) => [
  r.scenario.name,
  r.committedTps.toFixed(0),
  r.latencyMs.p50.toFixed(0),
  r.latencyMs.p99.toFixed(0),
  r.blockIntervalMs.toFixed(0),
  r.txsPerBlock.toFixed(0),
  `${r.committed}/${r.submitted}${r.rejected ? ` (${r.rejected} rejected)` : ''}`,
  r.peakRssMiB.join(' / '),
  // CPU time per committed transaction: every node's, and the load generator's.
  `${((r.nodeCpuSeconds.reduce((a: number, b: number) => a + b, 0) * 1e6) / Math.max(1, r.committed)).toFixed(0)} / ${((r.loadgenCpuSeconds * 1e6) / Math.max(1, r.committed)).toFixed(0)}`,
]);
const head = ['scenario', 'committed tx/s', 'p50 ms', 'p99 ms', 'block ms', 'tx/block', 'committed/accepted', 'peak RSS MiB', 'CPU µs/tx nodes / loadgen'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\nMetanode benchmark — ${new Date().toISOString()} — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}\n`);
if (rows.length) {
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
}
if (flood) {
  const { idle, flooded, flood: f } = flood;
  const fr = (label: string, r: typeof idle) => [label, `${r.blockIntervalMs.toFixed(0)} / ${r.maxBlockIntervalMs.toFixed(0)}`, `${r.latencyMs.p50.toFixed(0)} / ${r.latencyMs.p99.toFixed(0)}`, String(r.peakRssMiB[0]), r.peakRssMiB.join(' / ')];
  const fh = ['RPC flood (4 validators, 100 tx/s)', 'block ms mean / max', 'p50 / p99 ms', 'node0 peak RSS MiB', 'all nodes'];
  const frows = [fr('idle', idle), fr(`flooded: 10 clients at node0's read limit`, flooded)];
  const fw = fh.map((h, i) => Math.max(h.length, ...frows.map((r) => r[i]!.length)));
  const fl = (cells: string[]) => cells.map((c, i) => c.padEnd(fw[i]!)).join('  ');
  console.log('\n' + fl(fh));
  console.log(fl(fw.map((w) => '-'.repeat(w))));
  for (const r of frows) console.log(fl(r));
  console.log(
    `flood: ${f.answered} calls answered, ${f.limited} refused by the rate limit, ${f.errors} other errors, ${f.failedRequests} failed requests, ${f.skippedTicks} ticks skipped (8 requests in flight), ${(f.bytes / 1024 / 1024).toFixed(0)} MiB received; ` +
      `block interval ×${(flooded.blockIntervalMs / idle.blockIntervalMs).toFixed(2)} (target ≤ 2), node0 memory +${flooded.peakRssMiB[0] - idle.peakRssMiB[0]} MiB (target ≤ 95 MiB = 100 MB)`,
  );
}
const outDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: cpus().length, results, flood }, null, 2));
console.log(`\nwrote ${file}`);
