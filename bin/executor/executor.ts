/**
 * The execution-node daemon (`metanode executor`): follows the chain over WebSocket (new heads),
 * asks which jobs are leased to its account (enc leases), fetches each job's program and input by
 * JSON-RPC, runs it in a DockLock worker pool, signs the receipt chained after its last accepted
 * receipt (read from the chain, so a restart resumes the chain where the chain has it), and hands
 * the receipts in as enc.receipt transactions, waiting for them to commit before the next batch.
 *
 * What it runs is exactly the job the chain describes (encJobSpec): the same program, input, fuel,
 * clock and caps as every other executor and as the chain's own re-execution in a dispute.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { z } from 'zod';
import { Transaction, addressFromPublicKey, formatAddress, fromHex, toHex, type Ed25519Key } from '../../chain/index.js';
import { DEFAULT_POOL, WorkerPool, programId, type JobRun, type JobSpec } from '../../docklock/index.js';
import { encJobSpec, encodeReceiptTx } from '../../vm/modules/enc/index.js';
import { CliError } from '../cli/errors.js';
import { RpcClient } from '../cli/rpc-client.js';

export interface ExecutorOptions {
  rpc: string;
  /** The WebSocket URL (default: the RPC URL with ws://). */
  ws?: string;
  token?: string;
  /** DockLock workers (jobs run at once). */
  workers: number;
  /** The wall-clock backstop of one job (ms). */
  timeoutMs: number;
  /** How often to look at the chain when the WebSocket is down (ms). */
  pollMs: number;
  /** How long to wait for a batch of receipts to commit (ms). */
  commitTimeoutMs: number;
}

export const DEFAULT_EXECUTOR: Omit<ExecutorOptions, 'rpc'> = { workers: 1, timeoutMs: 60_000, pollMs: 1_000, commitTimeoutMs: 30_000 };

export interface ExecutorDeps {
  key: Ed25519Key;
  log: Logger;
  /**
   * How a job is run (default: a DockLock worker pool). The e2e harness passes one that lies, to
   * test that the chain catches it; the `metanode executor` command never does.
   */
  run?: (program: Uint8Array, spec: JobSpec) => Promise<JobRun>;
}

const leaseSchema = z.array(z.looseObject({ job: z.string(), program: z.string(), fuel: z.number(), clock: z.string(), caps: z.object({ fuelCap: z.number(), maxInputBytes: z.number(), maxOutputBytes: z.number(), maxLogBytes: z.number(), maxLogLines: z.number() }), leaseUntil: z.number() }));
type Lease = z.infer<typeof leaseSchema>[number];

export class Executor {
  readonly address: string;
  private readonly rpc: RpcClient;
  private readonly pool: WorkerPool;
  private readonly programs = new Map<string, Uint8Array>();
  private ws: WebSocket | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private headSeen = false;
  private loop: Promise<void> | undefined;
  /** Receipts handed in, by job: counted in the daemon's log and its status. */
  submitted = 0;

  constructor(
    readonly opts: ExecutorOptions,
    private readonly deps: ExecutorDeps,
  ) {
    this.address = formatAddress(addressFromPublicKey(deps.key.publicKey));
    this.rpc = new RpcClient({ url: opts.rpc, timeoutMs: 30_000, ...(opts.token ? { token: opts.token } : {}) });
    this.pool = new WorkerPool({ ...DEFAULT_POOL, workers: opts.workers, timeoutMs: opts.timeoutMs });
  }

  start(): void {
    this.connect();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.loop;
    this.stopping = true;
    this.ws?.close();
    this.wake?.();
    await this.loop;
    await this.pool.close();
  }

  /** New heads over WebSocket; reconnects after a second when the connection drops. */
  private connect(): void {
    if (this.stopping) return;
    const url = this.opts.ws ?? this.opts.rpc.replace(/^http/, 'ws');
    const ws = new WebSocket(url, this.opts.token ? { headers: { authorization: `Bearer ${this.opts.token}` } } : {});
    this.ws = ws;
    ws.on('open', () => {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: ['newHeads'] }));
      this.deps.log.info({ url }, 'following new heads');
    });
    ws.on('message', (data) => {
      let m: { method?: string };
      try {
        m = JSON.parse(String(data)) as { method?: string };
      } catch {
        return; // not JSON: not a head
      }
      if (m.method === 'subscription') this.poke();
    });
    ws.on('error', (e) => this.deps.log.warn({ err: e.message }, 'websocket error'));
    ws.on('close', () => {
      if (this.stopping) return;
      this.deps.log.warn('websocket closed: polling until it reconnects');
      // Ref'd: while the node is down, this timer (and the poll) keep the daemon alive to reconnect.
      setTimeout(() => this.connect(), 1_000);
    });
  }

  private poke(): void {
    this.headSeen = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
      } catch (e) {
        this.deps.log.warn({ err: (e as Error).message }, 'step failed; trying again at the next head');
      }
      if (this.stopping) break;
      if (!this.headSeen) {
        // Wait for a head (or the poll interval, in case the WebSocket is down).
        await Promise.race([new Promise<void>((r) => (this.wake = r)), sleep(this.opts.pollMs)]);
      }
      this.headSeen = false;
    }
  }

  private async program(id: string): Promise<Uint8Array> {
    let code = this.programs.get(id);
    if (!code) {
      const p = (await this.rpc.moduleQuery('docklock', 'program', { id, code: 1 })) as { code: string };
      code = fromHex(p.code);
      // The program must be the one the chain names: a wrong answer from the node would get this node slashed.
      if (toHex(programId(code)) !== id.toLowerCase()) throw new Error(`the node's bytes for program ${id} are another program`);
      this.programs.set(id, code);
    }
    return code;
  }

  /** Runs the jobs leased to this node and hands their receipts in; returns when they are committed. */
  async step(): Promise<void> {
    // Leases, the last accepted receipt and the nonce, all read at one height.
    const at = (await this.rpc.head()).height;
    const leases = leaseSchema.parse(await this.rpc.call('module_query', ['enc', 'leases', { address: this.address }, at], z.unknown()));
    if (leases.length === 0) return;
    const [node, account, params, chainId] = await Promise.all([
      this.rpc.call('module_query', ['enc', 'node', { address: this.address }, at], z.object({ lastReceipt: z.string().nullable() })),
      this.rpc.call('state_getAccount', [this.address, at], z.object({ nonce: z.number() })),
      this.rpc.bankParams(),
      this.rpc.chainId(),
    ]);
    const runs = await Promise.all(leases.map((l) => this.execute(l).catch((e: Error) => (this.deps.log.warn({ job: l.job, err: e.message }, 'the job did not run'), undefined))));
    // A receipt can land at the next block at the earliest. Those whose lease ends soonest go last:
    // each receipt is chained after the one before, so one refused would break the ones after it.
    const head = (await this.rpc.head()).height;
    const order = leases.map((l, i) => ({ l, run: runs[i] })).filter((x) => x.run && x.l.leaseUntil > head).sort((a, b) => b.l.leaseUntil - a.l.leaseUntil || (a.l.job < b.l.job ? -1 : 1));
    let prev = node.lastReceipt ? fromHex(node.lastReceipt) : new Uint8Array(0);
    let nonce = BigInt(account.nonce);
    const sent: { job: string; hash: string }[] = [];
    for (const { l, run } of order) {
      const receipt = run!.receipt.sign(this.deps.key, prev);
      const payload = encodeReceiptTx({ job: fromHex(l.job, 32), receipt: receipt.serialize(), output: run!.result.output });
      const tx = Transaction.sign({ chainId, nonce, sender: this.deps.key.publicKey, fee: BigInt(params.minFee), kind: 'enc.receipt', payload }, this.deps.key);
      try {
        await this.rpc.sendRaw(toHex(tx.serialize()));
      } catch (e) {
        // The same transaction already pending (sent before a restart) is fine; anything else ends the batch (the next step reads the chain again).
        if (!(e instanceof CliError && e.context.reason === 'TX_DUPLICATE')) {
          this.deps.log.warn({ job: l.job, err: (e as Error).message }, 'the node refused the receipt');
          break;
        }
      }
      sent.push({ job: l.job, hash: toHex(tx.hash()) });
      prev = receipt.hash();
      nonce += 1n;
    }
    await this.awaitCommitted(sent);
  }

  private async execute(l: Lease): Promise<JobRun> {
    const j = (await this.rpc.moduleQuery('enc', 'job', { id: l.job, input: 1 })) as { input: string };
    const spec = encJobSpec({ id: fromHex(l.job, 32), input: fromHex(j.input), fuel: l.fuel, clock: BigInt(l.clock), caps: l.caps });
    const code = await this.program(l.program);
    return this.deps.run ? this.deps.run(code, spec) : this.pool.run(code, spec);
  }

  private async awaitCommitted(sent: { job: string; hash: string }[]): Promise<void> {
    const until = Date.now() + this.opts.commitTimeoutMs;
    for (const s of sent) {
      while (!this.stopping) {
        const r = (await this.rpc.receipt(s.hash)) as { status?: string | number; errorCode?: string; errorMessage?: string } | null;
        if (r) {
          const ok = r.status === 'success' || r.status === 0;
          if (ok) this.submitted += 1;
          this.deps.log[ok ? 'info' : 'warn']({ job: s.job, tx: s.hash, ...(ok ? {} : { code: r.errorCode, error: r.errorMessage }) }, ok ? 'receipt accepted' : 'receipt refused');
          // A refused receipt breaks the chain of the ones after it: stop and read the chain again.
          if (!ok) return;
          break;
        }
        if (Date.now() > until) {
          this.deps.log.warn({ job: s.job, tx: s.hash }, 'the receipt is not committed yet; looking again at the next head');
          return;
        }
        await sleep(200);
      }
    }
  }
}
