import { Worker } from 'node:worker_threads';
import { DocklockError, DocklockErrorCode as E, type DocklockErrorCode } from './errors.js';
import { decodeReceipt } from './receipt.js';
import type { JobResult, JobSpec } from './runtime.js';
import type { JobRun } from './job.js';
import type { WorkerRequest } from './worker.js';

export interface PoolOptions {
  /** Worker threads (default 1). */
  workers: number;
  /**
   * The wall-clock backstop per job, ms: a job still running then has its worker terminated and
   * fails with DOCKLOCK_TIMEOUT, claiming no result (fuel, not time, is what bounds a job).
   */
  timeoutMs: number;
  /** Each worker's native stack (MiB): far above what the injected stack limit lets a job use. */
  stackSizeMB: number;
  /** Each worker's JavaScript heap (MiB); wasm memory is bounded by the job's page limit instead. */
  maxHeapMB: number;
}

export const DEFAULT_POOL: PoolOptions = { workers: 1, timeoutMs: 30_000, stackSizeMB: 4, maxHeapMB: 256 };

/**
 * The process's Node.js flags for a worker, without the ones that name code to run (`-e`, `-p` and
 * their script, `--input-type`): a worker inheriting `-e` runs that script again instead of
 * worker.js (and a script that starts a pool would start pools without end). V8 flags pass through.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') i++;
    else if (!a.startsWith('--eval=') && !a.startsWith('--print=') && !a.startsWith('--input-type')) out.push(a);
  }
  return out;
}

interface Pending {
  req: WorkerRequest;
  resolve(run: JobRun): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  /** The worker has started (a job's timer must not count a worker's start-up). */
  ready: boolean;
  job?: Pending & { timer: NodeJS.Timeout };
}

/**
 * Worker threads that run jobs off the caller's thread, with fixed resource limits and compiled
 * programs cached in each worker, so that a small job costs a message round trip, not an isolate.
 * Jobs queue in order; close() terminates the workers and fails what is still queued.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly opts: PoolOptions = DEFAULT_POOL) {
    for (let i = 0; i < Math.max(1, opts.workers); i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { execArgv: workerExecArgv(), resourceLimits: { stackSizeMb: this.opts.stackSizeMB, maxOldGenerationSizeMb: this.opts.maxHeapMB } });
    const slot: Slot = { worker, ready: false };
    worker.on('message', (m: { ready?: boolean; id: number; ok: boolean; result?: JobResult; receipt?: Uint8Array; code?: string; message?: string; context?: Record<string, unknown> }) => {
      if (m.ready) {
        slot.ready = true;
        return this.pump();
      }
      const job = slot.job;
      if (!job || job.req.id !== m.id) return;
      clearTimeout(job.timer);
      slot.job = undefined;
      // The worker made the receipt (and hashed the input): it is decoded here, not made again.
      if (m.ok) job.resolve({ result: m.result!, receipt: decodeReceipt(m.receipt!) });
      else job.reject(new DocklockError(m.code as DocklockErrorCode, m.message!, m.context));
      this.pump();
    });
    worker.on('error', (err) => this.replace(slot, new DocklockError(E.EngineFault, `a DockLock worker failed: ${err.message}: no result is claimed`)));
    worker.on('exit', () => {
      if (!this.closed && this.slots.includes(slot)) this.replace(slot, new DocklockError(E.EngineFault, 'a DockLock worker exited: no result is claimed'));
    });
    worker.unref();
    return slot;
  }

  private replace(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      clearTimeout(job.timer);
      job.reject(err);
    }
    this.slots.splice(i, 1);
    void slot.worker.terminate();
    if (!this.closed) {
      this.slots.push(this.spawn());
      this.pump();
    }
  }

  /** Runs a job in a worker; resolves with its result and unsigned receipt. */
  run(program: Uint8Array, spec: JobSpec, maxProgramBytes?: number): Promise<JobRun> {
    if (this.closed) return Promise.reject(new DocklockError(E.EngineFault, 'the DockLock pool is closed'));
    return new Promise((resolve, reject) => {
      const req: WorkerRequest = { id: this.nextId++, program, spec, ...(maxProgramBytes !== undefined ? { maxProgramBytes } : {}) };
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  /** Workers keep the process alive only while there is work: an idle pool does not hold the process open. */
  private refs(): void {
    const busy = this.queue.length > 0 || this.slots.some((s) => s.job);
    for (const s of this.slots) {
      if (busy) s.worker.ref();
      else s.worker.unref();
    }
  }

  private pump(): void {
    this.pumpSlots();
    this.refs();
  }

  private pumpSlots(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.job || this.queue.length === 0) continue;
      const next = this.queue.shift()!;
      const timer = setTimeout(() => this.replace(slot, new DocklockError(E.Timeout, `the job ran longer than ${this.opts.timeoutMs} ms of wall-clock time; its worker was stopped and no result is claimed`)), this.opts.timeoutMs);
      slot.job = { ...next, timer };
      slot.worker.postMessage(next.req);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new DocklockError(E.EngineFault, 'the DockLock pool closed before the job ran'));
    await Promise.all(
      this.slots.splice(0).map((s) => {
        if (s.job) {
          clearTimeout(s.job.timer);
          s.job.reject(new DocklockError(E.EngineFault, 'the DockLock pool closed while the job ran'));
        }
        return s.worker.terminate();
      }),
    );
  }
}
