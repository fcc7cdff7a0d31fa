/**
 * End-to-end harness: real `metanode` processes on loopback, each in its own temporary home.
 *
 *   const node = await TestNode.init({ emptyBlockIntervalMs: 200 });
 *   await node.start();                       // spawns `metanode start`, waits for GET /health
 *   const head = await node.rpc.call<HeadJson>('chain_getHead');
 *   await node.stop();                        // SIGTERM; or node.kill() for kill -9
 *   await node.remove();                      // kills if still running, deletes the home
 *
 * Every spawned process is killed when the test process exits, so a failing test leaves no
 * node behind. Nothing here knows about a single validator: a multi-node test inits several
 * homes and edits their genesis/config before starting them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcClient } from './client.js';

export * from './client.js';
export * from './txs.js';

/** The built daemon, next to this file in dist/. */
export const METANODE = fileURLToPath(new URL('../../bin/metanode.js', import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than undefined/false. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(intervalMs);
  }
}

/** A TCP port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `metanode ARGS` to completion (for init, version, and starts that must fail). */
export function runMetanode(args: string[], timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [METANODE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Lines of stderr that are not blank: a failing command should print exactly one. */
export function errorLines(r: RunResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}

const live = new Set<ChildProcess>();
let exitHook = false;
/** Kills `child` with SIGKILL if the test process exits while it still runs. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

/** A JSON object, e.g. a config.json patch (merged key by key; arrays are replaced). */
export type JsonObject = Record<string, unknown>;

/**
 * The config.json section that holds the block-production settings (emptyBlockIntervalMs):
 * "producer" for the single-validator producer, "consensus" once consensus replaces it.
 */
function blockSection(config: JsonObject): string {
  for (const k of ['consensus', 'producer']) if (config[k] && typeof config[k] === 'object') return k;
  return 'producer';
}

export interface TestNodeOptions {
  chainId?: string;
  moniker?: string;
  /** Dev accounts funded at genesis (default 10). */
  devAccounts?: number;
  /** emptyBlockIntervalMs (see blockSection), so tests need not wait 5 s for a block. */
  emptyBlockIntervalMs?: number;
  /** Merged into config.json after init. */
  config?: JsonObject;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error';
}

/** One node home and the process running it (at most one at a time). */
export class TestNode {
  /** JSON-RPC port (kept across restarts). */
  port = 0;
  /** p2p port on 127.0.0.1, when the config has a p2p section (0 otherwise). */
  p2pPort = 0;
  /** Port of the metrics listener, once enableMetrics() gave it one (0 otherwise). */
  metricsPort = 0;
  /** Output of the current (or last) run. */
  stdout = '';
  stderr = '';
  private proc: ChildProcess | undefined;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private readonly client = new RpcClient('');

  private constructor(
    /** The temporary folder holding the home; removed by remove(). */
    readonly dir: string,
    readonly home: string,
    readonly chainId: string,
    private readonly logLevel: string,
  ) {}

  /** `metanode init --dev` into a new temporary folder, then applies config changes. */
  static async init(o: TestNodeOptions = {}): Promise<TestNode> {
    const dir = await mkdtemp(join(tmpdir(), 'metanode-e2e-'));
    const home = join(dir, 'home');
    const chainId = o.chainId ?? 'metanode-e2e';
    const args = ['init', '--home', home, '--dev', '--chain-id', chainId, '--moniker', o.moniker ?? 'node0'];
    if (o.devAccounts !== undefined) args.push('--dev-accounts', String(o.devAccounts));
    const r = await runMetanode(args);
    if (r.code !== 0) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`metanode init failed (${r.code}): ${r.stderr}`);
    }
    const node = new TestNode(dir, home, chainId, o.logLevel ?? 'warn');
    const config = await node.readJson('config');
    const patch: JsonObject = {};
    if (o.emptyBlockIntervalMs !== undefined) patch[blockSection(config)] = { emptyBlockIntervalMs: o.emptyBlockIntervalMs };
    await node.patchConfig(merge(patch, o.config ?? {}));
    await node.useLoopbackP2p();
    return node;
  }

  /** A new TestNode over a copy of this node's home (stop this one first for a clean copy). */
  async copy(): Promise<TestNode> {
    const dir = await mkdtemp(join(tmpdir(), 'metanode-e2e-'));
    const home = join(dir, 'home');
    await cp(this.home, home, { recursive: true });
    const node = new TestNode(dir, home, this.chainId, this.logLevel);
    await node.useLoopbackP2p();
    return node;
  }

  /** Nodes listen for peers on a free loopback port of their own, not the shared default. */
  private async useLoopbackP2p(): Promise<void> {
    const config = await this.readJson('config');
    if (!config.p2p || typeof config.p2p !== 'object') return;
    this.p2pPort = await freePort();
    await this.patchConfig({ p2p: { listen: [`/ip4/127.0.0.1/tcp/${this.p2pPort}`] } });
  }

  /** Gives the node a metrics listener on a free loopback port (takes effect at the next start). */
  async enableMetrics(): Promise<void> {
    this.metricsPort = await freePort();
    await this.patchConfig({ metrics: { host: '127.0.0.1', port: this.metricsPort } });
  }

  /** Where GET /metrics is served (after enableMetrics). */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  /** Sets emptyBlockIntervalMs in config.json (takes effect at the next start). */
  async setEmptyBlockInterval(ms: number): Promise<void> {
    await this.patchConfig({ [blockSection(await this.readJson('config'))]: { emptyBlockIntervalMs: ms } });
  }

  get paths() {
    return { config: join(this.home, 'config.json'), genesis: join(this.home, 'genesis.json'), data: join(this.home, 'data'), validatorKey: join(this.home, 'keys', 'validator.json') };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get rpc(): RpcClient {
    this.client.url = this.url;
    return this.client;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  async readJson<T = JsonObject>(file: 'config' | 'genesis'): Promise<T> {
    return JSON.parse(await readFile(this.paths[file], 'utf8')) as T;
  }

  /** Merges `patch` into config.json (takes effect at the next start). */
  async patchConfig(patch: JsonObject): Promise<void> {
    await writeFile(this.paths.config, JSON.stringify(merge(await this.readJson('config'), patch), null, 2) + '\n');
  }

  /**
   * Spawns `metanode start` and waits until GET /health answers 200. Keeps its port across
   * restarts (a new free one the first time, or if the old one was taken meanwhile).
   */
  async start(o: { port?: number; timeoutMs?: number } = {}): Promise<void> {
    if (this.proc) throw new Error(`node ${this.home} is already running`);
    for (let attempt = 0; ; attempt++) {
      this.port = o.port ?? (this.port || (await freePort()));
      this.spawn();
      try {
        await this.waitReady(o.timeoutMs);
        return;
      } catch (e) {
        const inUse = /EADDRINUSE/.test(this.stderr);
        if (this.proc) await this.kill();
        if (!inUse || o.port !== undefined || attempt >= 3) throw e;
        this.port = 0;
      }
    }
  }

  /** Spawns `metanode start` without waiting (see start()). */
  spawn(): void {
    const child = spawn(process.execPath, [METANODE, 'start', '--home', this.home, '--rpc-port', String(this.port), '--log-level', this.logLevel], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    this.proc = child;
    this.stdout = '';
    this.stderr = '';
    child.stdout!.on('data', (c: Buffer) => (this.stdout = cap(this.stdout + c.toString())));
    child.stderr!.on('data', (c: Buffer) => (this.stderr = cap(this.stderr + c.toString())));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.proc === child) this.proc = undefined;
        resolve({ code, signal });
      });
    });
  }

  /**
   * Waits for GET /health → 200 from this node (its validator address, not another process that
   * took the port); fails at once if the process exits.
   */
  async waitReady(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const { address } = JSON.parse(await readFile(this.paths.validatorKey, 'utf8')) as { address: string };
    for (;;) {
      if (!this.proc) {
        const x = await this.exited!;
        throw new Error(`metanode exited (code ${x.code}, signal ${x.signal}) before it was ready:\n${this.stderr}${this.stdout}`);
      }
      try {
        const res = await fetch(`${this.url}/health`);
        await res.text();
        if (res.status === 200) {
          const status = await this.rpc.call<{ validator: string | null }>('node_status');
          if (status.validator !== address) throw new Error(`port ${this.port} is served by another node (${status.validator})`);
          return;
        }
      } catch (e) {
        if (/another node/.test((e as Error).message)) throw e;
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`metanode at ${this.url} was not ready within ${timeoutMs} ms:\n${this.stderr}`);
      await sleep(25);
    }
  }

  /** SIGTERM, then waits for the exit; returns the exit code (SIGKILL and an error after timeoutMs). */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    const proc = this.proc;
    if (!proc) return null;
    proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`metanode did not stop within ${timeoutMs} ms of SIGTERM`));
      }, timeoutMs);
    });
    try {
      return (await Promise.race([this.exited!, timeout])).code;
    } finally {
      clearTimeout(timer);
    }
  }

  /** kill -9: no chance to clean up, as in a crash or power cut of the process. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.kill('SIGKILL');
    await this.exited;
  }

  /** Kills the process if it still runs and deletes the temporary folder. */
  async remove(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

const OUTPUT_CAP = 1 << 20;
function cap(s: string): string {
  return s.length > OUTPUT_CAP ? s.slice(s.length - OUTPUT_CAP) : s;
}

function merge(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? merge(b as JsonObject, v as JsonObject) : v;
  }
  return out;
}
