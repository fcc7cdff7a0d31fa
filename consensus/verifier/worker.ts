/**
 * Signature verification worker: verifies batches of Ed25519 signatures with node:crypto
 * (OpenSSL), caching imported public keys. Input: { id, n, keys (n*32), msgs (n*32), sigs (n*64) };
 * output: { id, ok (n bytes, 1 = valid) }.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { ed25519Verify } from '../../chain/ed25519.js';

// Below the main thread's priority (setPriority here applies to this thread alone): the main
// thread is the node's one serial path (consensus, execution, RPC), and verification can run
// ahead of it whenever it leaves a core free.
try {
  setPriority((workerData as { niceness?: number } | undefined)?.niceness ?? 0);
} catch {
  // not permitted here: run at the default priority
}

interface Job {
  id: number;
  n: number;
  keys: Uint8Array;
  msgs: Uint8Array;
  sigs: Uint8Array;
}

parentPort!.on('message', (job: Job) => {
  const ok = new Uint8Array(job.n);
  for (let i = 0; i < job.n; i++) {
    ok[i] = ed25519Verify(job.keys.subarray(i * 32, i * 32 + 32), job.msgs.subarray(i * 32, i * 32 + 32), job.sigs.subarray(i * 64, i * 64 + 64)) ? 1 : 0;
  }
  parentPort!.postMessage({ id: job.id, ok }, [ok.buffer]);
});
