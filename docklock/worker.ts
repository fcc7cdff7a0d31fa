import { parentPort } from 'node:worker_threads';
import { DocklockError } from './errors.js';
import { ProgramCache, runJob } from './job.js';
import type { JobSpec } from './runtime.js';

/** A pool worker (pool.ts): runs one job at a time, with the programs it has compiled cached by id. */
export interface WorkerRequest {
  id: number;
  program: Uint8Array;
  maxProgramBytes?: number;
  spec: JobSpec;
}

const cache = new ProgramCache(32);
// Started: the pool sends jobs (and starts their wall-clock timers) only from now on.
parentPort?.postMessage({ ready: true });
parentPort?.on('message', (req: WorkerRequest) => {
  try {
    const program = cache.load(req.program, req.maxProgramBytes);
    const { result, receipt } = runJob(program, req.spec);
    parentPort!.postMessage({ id: req.id, ok: true, result, receipt: receipt.serialize() });
  } catch (e) {
    const coded = e instanceof DocklockError;
    parentPort!.postMessage({ id: req.id, ok: false, code: coded ? e.code : 'DOCKLOCK_ENGINE_FAULT', message: (e as Error).message, context: coded ? e.context : {} });
  }
});
