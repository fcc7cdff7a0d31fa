import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ed25519Verify } from '../../chain/index.js';

/** One Ed25519 signature over a 32-byte message hash. */
export interface SignatureCheck {
  publicKey: Uint8Array;
  messageHash: Uint8Array;
  signature: Uint8Array;
}

/** Verifies Ed25519 signatures of 32-byte message hashes. */
export interface SignatureVerifier {
  verify(publicKey: Uint8Array, messageHash: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** Many at once: one answer per check, in order (one promise for the lot, not one per check). */
  verifyMany(checks: readonly SignatureCheck[]): Promise<boolean[]>;
  close(): Promise<void>;
}

/** On the calling thread (tests, tiny nodes). */
export const inlineVerifier: SignatureVerifier = {
  verify: async (k, m, s) => ed25519Verify(k, m, s),
  verifyMany: async (checks) => checks.map((c) => ed25519Verify(c.publicKey, c.messageHash, c.signature)),
  close: async () => undefined,
};

export interface VerifierPoolOptions {
  /**
   * Worker threads; 0 verifies inline. Default: one per core but the main thread's (at least one):
   * a check costs ~65 µs, so one thread keeps up with ~15,000 transactions a second, and the main
   * thread and the garbage collector need the other core (docs/performance.md).
   */
  workers: number;
  /** Largest batch sent to a worker at once. */
  maxBatch: number;
  /**
   * Scheduling priority of the worker threads (a nice value, 0..19; higher yields more): above 0,
   * they take the cores the main thread leaves free instead of competing with it.
   */
  niceness: number;
}

export const defaultVerifierPoolOptions = (): VerifierPoolOptions => ({ workers: Math.max(1, availableParallelism() - 1), maxBatch: 512, niceness: 0 });

/** The checks of one verifyMany call, answered together when the last one is done. */
interface Group {
  results: boolean[];
  left: number;
  resolve: (results: boolean[]) => void;
}

interface Pending {
  check: SignatureCheck;
  group: Group;
  index: number;
}

function settle(p: Pending, ok: boolean): void {
  p.group.results[p.index] = ok;
  if (--p.group.left === 0) p.group.resolve(p.group.results);
}

const verifyInline = (c: SignatureCheck) => ed25519Verify(c.publicKey, c.messageHash, c.signature);

/** At most this many checks are done on the calling thread when the workers are idle. */
const INLINE_MAX = 2;

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
      const w = new Worker(url, { workerData: { niceness: this.opts.niceness } });
      w.on('message', (m: { id: number; ok: Uint8Array }) => this.done(m.id, m.ok));
      w.on('error', (e) => this.fail(e));
      w.unref();
      this.workers.push(w);
    }
  }

  async verify(publicKey: Uint8Array, messageHash: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return (await this.verifyMany([{ publicKey, messageHash, signature }]))[0]!;
  }

  verifyMany(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    if (checks.length === 0) return Promise.resolve([]);
    if (this.workers.length === 0) return Promise.resolve(checks.map(verifyInline));
    return new Promise((resolve) => {
      const group: Group = { results: new Array<boolean>(checks.length), left: checks.length, resolve };
      checks.forEach((check, index) => {
        // Malformed lengths fail here rather than in a worker's fixed-size slots.
        if (check.publicKey.length !== 32 || check.messageHash.length !== 32 || check.signature.length !== 64) settle({ check, group, index }, verifyInline(check));
        else this.queue.push({ check, group, index });
      });
      if (this.queue.length >= this.opts.maxBatch) this.flush();
      else if (!this.scheduled && this.queue.length > 0) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async close(): Promise<void> {
    for (const p of this.queue) settle(p, verifyInline(p.check));
    this.queue = [];
    for (const [, batch] of this.inflight) for (const p of batch) settle(p, verifyInline(p.check));
    this.inflight.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private flush(): void {
    this.scheduled = false;
    // A few checks while no worker is busy (a lightly loaded node): here, at once, rather than
    // paying a message to a worker and back, which costs more than a verification.
    if (this.inflight.size === 0 && this.queue.length <= INLINE_MAX) {
      const batch = this.queue;
      this.queue = [];
      for (const p of batch) settle(p, verifyInline(p.check));
      return;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      const n = batch.length;
      const keys = new Uint8Array(n * 32);
      const msgs = new Uint8Array(n * 32);
      const sigs = new Uint8Array(n * 64);
      batch.forEach((p, i) => {
        keys.set(p.check.publicKey, i * 32);
        msgs.set(p.check.messageHash, i * 32);
        sigs.set(p.check.signature, i * 64);
      });
      const id = this.nextId++;
      // Idle workers do not keep the process alive; busy ones must, or a caller awaiting them
      // while nothing else is pending (a node admitting its journal before it listens) never hears back.
      if (this.inflight.size === 0) for (const w of this.workers) w.ref();
      this.inflight.set(id, batch);
      this.workers[this.rr++ % this.workers.length]!.postMessage({ id, n, keys, msgs, sigs }, [keys.buffer, msgs.buffer, sigs.buffer]);
    }
  }

  private done(id: number, ok: Uint8Array): void {
    const batch = this.inflight.get(id);
    if (!batch) return;
    this.inflight.delete(id);
    if (this.inflight.size === 0) for (const w of this.workers) w.unref();
    batch.forEach((p, i) => settle(p, ok[i] === 1));
  }

  /** A worker died: verify what it held inline so no caller hangs. */
  private fail(_e: Error): void {
    for (const [id, batch] of this.inflight) {
      for (const p of batch) settle(p, verifyInline(p.check));
      this.inflight.delete(id);
    }
    for (const w of this.workers) w.unref();
  }
}
