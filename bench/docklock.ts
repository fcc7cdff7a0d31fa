/**
 * DockLock benchmark (`npm run bench:docklock`, also part of `npm run bench`), in process:
 *
 * 1. For each example job (examples/jobs) on a larger input: the run time of DockLock's
 *    instrumented module against the same module uninstrumented (plain WebAssembly, a minimal host),
 *    median of repeated runs, both compiled once. Goal: at most 1.5×.
 * 2. Request to result for a small job (sha256 of "abc") through the worker pool with a warm cache
 *    (the program already compiled in the worker): median and p99. Goal: ≤ 5 ms.
 * 3. In-consensus `docklock.run` transactions per second: blocks of runs of a small job through the
 *    real state machine (fees, nonces, receipts, the state root), against blocks of transfers.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { WorkerPool, DEFAULT_POOL, execute, loadProgram, programId } from '../docklock/index.js';
import { getNonce } from '../vm/index.js';
import { encodeDeploy, encodeRun } from '../vm/modules/docklock/index.js';
import { accountKey, addressOf, signedTx, transferTx } from '../test/unit/fixtures.js';
import { StakingChain, stakingGenesis } from '../test/unit/vm/modules/staking/harness.js';

const JOBS = new URL('../../examples/jobs/', import.meta.url);
const wasm = (name: string) => new Uint8Array(readFileSync(new URL(`${name}.wasm`, JOBS)));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

function u16(...xs: number[]): Uint8Array {
  const b = new Uint8Array(xs.length * 2);
  xs.forEach((x, i) => ((b[2 * i] = x & 0xff), (b[2 * i + 1] = x >> 8)));
  return b;
}

/** Deterministic bytes (a counter through SHA-256). */
function bytes(n: number, seed: string): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0, i = 0; off < n; i++, off += 32) out.set(createHash('sha256').update(`${seed}/${i}`).digest().subarray(0, Math.min(32, n - off)), off);
  return out;
}

const inputs: Record<string, Uint8Array> = {
  sha256: bytes(4 * 1024 * 1024, 'sha'),
  sort: bytes(4 * 200_000, 'sort'),
  blur: (() => {
    const img = bytes(4 + 1024 * 1024, 'blur');
    img.set(u16(1024, 1024), 0);
    return img;
  })(),
  mandelbrot: u16(400, 400, 500),
  hostcalls: bytes(32 * 1024, 'host'),
};

/**
 * A module run with a minimal host of the ABI (no witness, no output kept): the original module
 * as it is, or DockLock's instrumented one (fuel set, its start function called) — so that the
 * two differ only by the instrumentation.
 */
function plainRun(module: WebAssembly.Module, input: Uint8Array, instrumented: boolean): void {
  const ref: { memory?: WebAssembly.Memory } = {};
  const mem = () => new Uint8Array(ref.memory!.buffer);
  const host = {
    input_size: () => input.length,
    input_read: (off: number, ptr: number, len: number) => {
      const n = Math.max(0, Math.min(len, input.length - off));
      mem().set(input.subarray(off, off + n), ptr);
      return n;
    },
    output_write: () => undefined,
    random_fill: (ptr: number, len: number) => mem().fill(7, ptr, ptr + len),
    clock: () => 0n,
    log: () => undefined,
  };
  const inst = new WebAssembly.Instance(module, { docklock: host });
  const x = inst.exports;
  ref.memory = (instrumented ? x.__docklock_memory : x.memory) as WebAssembly.Memory;
  if (instrumented) {
    (x.__docklock_fuel as WebAssembly.Global).value = 10n ** 15n;
    (x.__docklock_start as (() => void) | undefined)?.();
  }
  (x.run as () => void)();
}

function timeIt(fn: () => void, runs: number): number {
  fn(); // warm: both tiers get the same chance to tier up
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function overhead(): void {
  console.log('\n## DockLock: instrumented vs uninstrumented on V8 (median of 7 runs each, side by side)');
  console.log('plain: the original module; metered: the instrumented one, same minimal host; job: the whole DockLock job (witness, output kept and hashed)');
  console.log('job         input          fuel used   plain ms  metered ms  ratio    job ms  ratio');
  for (const [name, input] of Object.entries(inputs)) {
    const code = wasm(name);
    const program = loadProgram(code);
    const plain = new WebAssembly.Module(code as Uint8Array<ArrayBuffer>);
    let fuel = 0;
    const job = timeIt(() => {
      const r = execute(program, { jobId: new Uint8Array(32), input, fuel: 1e12, clock: 0n, limits: { maxInputBytes: 1 << 26, maxOutputBytes: 1 << 26 } });
      if (r.status !== 0) throw new Error(`${name}: ${r.status} ${r.trap}`);
      fuel = r.fuelUsed;
    }, 7);
    const p = timeIt(() => plainRun(plain, input, false), 7);
    const m = timeIt(() => plainRun(program.module, input, true), 7);
    const f = (x: number) => x.toFixed(2).padStart(10);
    console.log(`${name.padEnd(11)} ${String(input.length).padStart(9)} B ${String(fuel).padStart(12)} ${f(p)} ${f(m)} ${(m / p).toFixed(2).padStart(6)}× ${f(job)} ${(job / p).toFixed(2).padStart(5)}×`);
  }
}

async function latency(): Promise<void> {
  const pool = new WorkerPool({ ...DEFAULT_POOL, workers: 1 });
  const code = wasm('sha256');
  const spec = { jobId: new Uint8Array(32), input: new TextEncoder().encode('abc'), fuel: 1_000_000, clock: 0n };
  await pool.run(code, spec); // compiles the program in the worker
  const ts: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t0 = performance.now();
    await pool.run(code, spec);
    ts.push(performance.now() - t0);
  }
  await pool.close();
  const inProcess = timeIt(() => void execute(loadProgramCached, spec), 500);
  console.log('\n## DockLock: a small job (sha256 of "abc"), request to result, warm cache (500 runs)');
  console.log(`worker pool:  median ${median(ts).toFixed(3)} ms, p99 ${pct(ts, 99).toFixed(3)} ms`);
  console.log(`same thread (the in-consensus path): median ${inProcess.toFixed(3)} ms`);
}
const loadProgramCached = loadProgram(wasm('sha256'));

function consensus(): void {
  const BLOCKS = 8;
  const PER_BLOCK = 200;
  const accounts = 400;
  const chain = new StakingChain(stakingGenesis({ accounts, params: {} }));
  const code = wasm('sha256');
  const deployer = accountKey(0);
  chain.block([signedTx(deployer, { nonce: getNonce(chain.world, addressOf(deployer)), kind: 'docklock.deploy', payload: encodeDeploy({ code }) })]);
  const program = programId(code);
  const keys = Array.from({ length: accounts }, (_, i) => accountKey(i));
  const rate = (make: (k: ReturnType<typeof accountKey>, j: number) => ReturnType<typeof signedTx>): number => {
    const ts: number[] = [];
    for (let b = 0; b < BLOCKS; b++) {
      const txs = Array.from({ length: PER_BLOCK }, (_, j) => make(keys[(b * PER_BLOCK + j) % accounts]!, j));
      const t0 = performance.now();
      const r = chain.block(txs);
      ts.push(performance.now() - t0);
      const failed = r.receipts.filter((x) => x.status !== 0);
      if (failed.length) throw new Error(`${failed.length} failed: ${failed[0]!.errorCode} ${failed[0]!.errorMessage}`);
    }
    return (PER_BLOCK / median(ts)) * 1000;
  };
  const input = new Uint8Array(64).fill(1);
  const runs = rate((k) => signedTx(k, { nonce: getNonce(chain.world, addressOf(k)), kind: 'docklock.run', payload: encodeRun({ program, input, fuel: 100_000 }) }));
  const transfers = rate((k, j) => transferTx(k, getNonce(chain.world, addressOf(k)), addressOf(keys[(j + 1) % accounts]!), 'NEX', 1n, { fee: 1_000n }));
  console.log(`\n## DockLock: in-consensus docklock.run (sha256 of 64 bytes, fuel cap 100,000), ${PER_BLOCK} per block, state machine only`);
  console.log(`docklock.run: ${runs.toFixed(0)} tx/s; bank transfers on the same chain: ${transfers.toFixed(0)} tx/s`);
}

overhead();
await latency();
consensus();
