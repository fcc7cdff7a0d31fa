import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ed25519Verify } from '../../chain/index.js';

/** Verifies Ed25519 signatures of 32-byte message hashes. */
export interface SignatureVerifier {
  verify(publicKey: Uint8Array, messageHash: Uint8Array, signature: Uint8Array): Promise<boolean>;
  close(): Promise<void>;
}

/** On the calling thread (tests, tiny nodes). */
export const inlineVerifier: SignatureVerifier = {
  verify: async (k, m, s) => ed25519Verify(k, m, s),
  close: async () => undefined,
};

export interface VerifierPoolOptions {
  /** Worker threads; 0 verifies inline. Default: one per core (they sleep while the main thread is busy, and verification is most of the CPU a loaded node needs). */
  workers: number;
  /** Largest batch sent to a worker at once. */
  maxBatch: number;
}

export const defaultVerifierPoolOptions = (): VerifierPoolOptions => ({ workers: availableParallelism(), maxBatch: 512 });

interface Pending {
  key: Uint8Array;
  msg: Uint8Array;
  sig: Uint8Array;
  resolve: (ok: boolean) => void;
}

/**
 * Signature checks off the event loop: requests made in the same tick are batched and sent to
 * worker threads round-robin, so the main thread keeps serving RPC and consensus meanwhile.
 */
export class VerifierPool implements SignatureVerifier {
  private readonly opts: VerifierPoolOptions;
  private readonly workers: Worker[] = [];
  private readonly inflight = new Map<number, Pending[]>();
  private queue: Pending[] = [];
  private scheduled = false;
  private nextId = 0;
  private rr = 0;

  constructor(opts: Partial<VerifierPoolOptions> = {}) {
    this.opts = { ...defaultVerifierPoolOptions(), ...opts };
    const url = new URL('./worker.js', import.meta.url);
    for (let i = 0; i < this.opts.workers; i++) {
      const w = new Worker(url);
      w.on('message', (m: { id: number; ok: Uint8Array }) => this.done(m.id, m.ok));
      w.on('error', (e) => this.fail(e));
      w.unref();
      this.workers.push(w);
    }
  }

  verify(publicKey: Uint8Array, messageHash: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.workers.length === 0 || publicKey.length !== 32 || messageHash.length !== 32 || signature.length !== 64) {
      return Promise.resolve(ed25519Verify(publicKey, messageHash, signature));
    }
    return new Promise((resolve) => {
      this.queue.push({ key: publicKey, msg: messageHash, sig: signature, resolve });
      if (this.queue.length >= this.opts.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async close(): Promise<void> {
    for (const p of this.queue) p.resolve(ed25519Verify(p.key, p.msg, p.sig));
    this.queue = [];
    for (const [, batch] of this.inflight) for (const p of batch) p.resolve(ed25519Verify(p.key, p.msg, p.sig));
    this.inflight.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      const n = batch.length;
      const keys = new Uint8Array(n * 32);
      const msgs = new Uint8Array(n * 32);
      const sigs = new Uint8Array(n * 64);
      batch.forEach((p, i) => {
        keys.set(p.key, i * 32);
        msgs.set(p.msg, i * 32);
        sigs.set(p.sig, i * 64);
      });
      const id = this.nextId++;
      this.inflight.set(id, batch);
      this.workers[this.rr++ % this.workers.length]!.postMessage({ id, n, keys, msgs, sigs }, [keys.buffer, msgs.buffer, sigs.buffer]);
    }
  }

  private done(id: number, ok: Uint8Array): void {
    const batch = this.inflight.get(id);
    if (!batch) return;
    this.inflight.delete(id);
    batch.forEach((p, i) => p.resolve(ok[i] === 1));
  }

  /** A worker died: verify what it held inline so no caller hangs. */
  private fail(_e: Error): void {
    for (const [id, batch] of this.inflight) {
      for (const p of batch) p.resolve(ed25519Verify(p.key, p.msg, p.sig));
      this.inflight.delete(id);
    }
  }
}
