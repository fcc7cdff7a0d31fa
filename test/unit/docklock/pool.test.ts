import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { toHex } from '../../../chain/index.js';
import { DocklockError, DocklockErrorCode, JobStatus, WorkerPool, execute, inputHash, loadProgram, runJob } from '../../../docklock/index.js';
import { ALL_FEATURES, exampleJob, spec, wat } from './helpers.js';

const SPIN = `(module (func (export "run") (loop $l (br $l))))`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejection(p: Promise<unknown>): Promise<DocklockError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(DocklockError);
    return e as DocklockError;
  }
  throw new Error('the job did not fail');
}

describe('docklock/pool', function () {
  this.timeout(30_000);
  let pool: WorkerPool;
  let spin: Uint8Array;

  before(async () => {
    spin = await wat(SPIN);
  });
  beforeEach(() => {
    pool = new WorkerPool({ workers: 1, timeoutMs: 20_000, stackSizeMB: 4, maxHeapMB: 128 });
  });
  afterEach(async () => {
    await pool.close();
  });

  it('a job through the pool gives what execute gives on the main thread, and the same receipt', async () => {
    for (const name of ['hostcalls', 'sha256', 'mandelbrot'] as const) {
      const { program, input } = exampleJob(name);
      const s = spec({ input, fuel: 100_000_000 });
      const here = runJob(loadProgram(program), s);
      const { result, receipt } = await pool.run(program, s);
      expect(result, name).to.deep.equal(execute(loadProgram(program), s));
      expect(toHex(receipt.serialize()), name).to.equal(toHex(here.receipt.serialize()));
      expect(toHex(receipt.inputHash)).to.equal(toHex(inputHash(input)));
    }
  });

  it('an infinite loop with huge fuel hits the timeout (DOCKLOCK_TIMEOUT) and the pool still runs the next job', async () => {
    const short = new WorkerPool({ workers: 1, timeoutMs: 300, stackSizeMB: 4, maxHeapMB: 128 });
    try {
      const t0 = performance.now();
      const e = await rejection(short.run(spin, spec({ fuel: Number.MAX_SAFE_INTEGER })));
      expect(e.code).to.equal(DocklockErrorCode.Timeout);
      expect(e.message).to.match(/longer than 300 ms/);
      expect(performance.now() - t0).to.be.within(290, 10_000);
      // The backstop counts from when a started worker takes the job, not the worker's start
      // (~250 ms here): the replacement worker takes the next job at once and it does not time out.
      const { result } = await short.run(spin, spec({ fuel: 1000 }));
      expect(result).to.include({ status: JobStatus.OutOfFuel, fuelUsed: 1000 });
      const { program, input } = exampleJob('sha256');
      expect((await short.run(program, spec({ input }))).result.status).to.equal(JobStatus.Ok);
    } finally {
      await short.close();
    }
  });

  it('a job queued behind one that times out runs after it, on a new worker', async () => {
    const short = new WorkerPool({ workers: 1, timeoutMs: 300, stackSizeMB: 4, maxHeapMB: 128 });
    try {
      const stuck = rejection(short.run(spin, spec({ fuel: Number.MAX_SAFE_INTEGER })));
      const next = short.run(spin, spec({ fuel: 50 }));
      expect((await stuck).code).to.equal(DocklockErrorCode.Timeout);
      expect((await next).result).to.include({ status: JobStatus.OutOfFuel, fuelUsed: 50 });
    } finally {
      await short.close();
    }
  });

  it('a refused program rejects with its DocklockError code and message', async () => {
    const simd = await wat(`(module (func (export "run") (local v128)))`, ALL_FEATURES);
    const e = await rejection(pool.run(simd, spec()));
    expect(e.code).to.equal(DocklockErrorCode.Feature);
    expect(e.message).to.match(/SIMD/);
    const big = await rejection(pool.run(spin, spec(), 8));
    expect(big.code).to.equal(DocklockErrorCode.TooLarge);
    const bad = await rejection(pool.run(Uint8Array.of(1, 2, 3), spec()));
    expect(bad.code).to.equal(DocklockErrorCode.Malformed);
    // The worker is fine afterwards.
    expect((await pool.run(spin, spec({ fuel: 10 }))).result.status).to.equal(JobStatus.OutOfFuel);
  });

  it('close() rejects the queued jobs and the running one, and refuses new ones', async () => {
    const long = new WorkerPool({ workers: 1, timeoutMs: 60_000, stackSizeMB: 4, maxHeapMB: 128 });
    await long.run(spin, spec({ fuel: 10 })); // the worker has started: the next job runs at once
    const running = rejection(long.run(spin, spec({ fuel: Number.MAX_SAFE_INTEGER })));
    const queued = [rejection(long.run(spin, spec({ fuel: 10 }))), rejection(long.run(spin, spec({ fuel: 20 })))];
    await sleep(50);
    await long.close();
    for (const q of queued) {
      const e = await q;
      expect(e.code).to.equal(DocklockErrorCode.EngineFault);
      expect(e.message).to.match(/closed before the job ran/);
    }
    const r = await running;
    expect(r.code).to.equal(DocklockErrorCode.EngineFault);
    expect(r.message).to.match(/closed while the job ran/);
    expect((await rejection(long.run(spin, spec()))).message).to.match(/closed/);
    await long.close(); // twice is fine
  });

  it('several workers run jobs side by side, each result its own', async () => {
    const two = new WorkerPool({ workers: 2, timeoutMs: 10_000, stackSizeMB: 4, maxHeapMB: 128 });
    try {
      const runs = await Promise.all([10, 20, 30, 40].map((fuel) => two.run(spin, spec({ fuel }))));
      expect(runs.map((r) => r.result.fuelUsed)).to.deep.equal([10, 20, 30, 40]);
    } finally {
      await two.close();
    }
  });
  it('a process that only waits for a pool job stays alive until the result, and an idle pool does not keep it alive', async () => {
    // The first job waits for the worker to start: nothing else holds the process open meanwhile.
    const index = new URL('../../../docklock/index.js', import.meta.url).href;
    const script = `import { WorkerPool } from ${JSON.stringify(index)};
      const pool = new WorkerPool({ workers: 1, timeoutMs: 10000, stackSizeMB: 4, maxHeapMB: 64 });
      const bytes = Uint8Array.from(${JSON.stringify([...(await wat('(module (func (export "run")))'))])});
      const { result } = await pool.run(bytes, { jobId: new Uint8Array(32), input: new Uint8Array(0), fuel: 100, clock: 0n });
      console.log('status', result.status);`; // no close(): the idle pool must let the process end
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(stdout.trim()).to.equal(`status ${JobStatus.Ok}`);
  });
});
