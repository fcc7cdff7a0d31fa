import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devAccounts } from '../genesis/index.js';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS, homePaths, inspectValidatorKey, readConfig, refreshTestnetBootstrap, sharedHostWorkers, writeTestnet } from '../node/index.js';

export interface DevnetOptions {
  dir: string;
  validators: number;
  baseRpcPort: number;
  baseP2pPort: number;
  baseMetricsPort: number;
  devAccounts: number;
  logLevel: string;
}

const metanodeScript = fileURLToPath(new URL('./metanode.js', import.meta.url));

/** How long a node may take to serve JSON-RPC after it is spawned. */
const START_TIMEOUT_MS = 30_000;
/** How long the nodes may take to stop after SIGTERM before they are killed. */
const STOP_TIMEOUT_MS = 15_000;
export const DEVNET_LOCK = 'devnet.lock';

/** Thrown for what stops a devnet from running; bin/metanode.ts prints the message and exits 1. */
export class DevnetError extends Error {}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A pid can be reused after a reboot or a long time: on Linux, check that it is a devnet.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('devnet');
  } catch {
    return true;
  }
}

/**
 * `<dir>/devnet.lock`, created exclusively, holds the supervisor's pid: a second devnet on the
 * folder finds it and refuses to start. A lock whose process is gone (kill -9, a power cut) is
 * stale and is replaced. Returns the release function (also run at process exit).
 */
function acquireLock(dir: string): () => void {
  const path = join(dir, DEVNET_LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }) + '\n');
      closeSync(fd);
      const release = () => {
        try {
          if ((JSON.parse(readFileSync(path, 'utf8')) as { pid: number }).pid === process.pid) unlinkSync(path);
        } catch {
          // gone already
        }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
    }
    let holder: { pid?: unknown; startedAt?: unknown } = {};
    try {
      holder = JSON.parse(readFileSync(path, 'utf8')) as typeof holder;
    } catch {
      // unreadable: left by a supervisor that died while writing it
    }
    const pid = typeof holder.pid === 'number' ? holder.pid : undefined;
    if (pid !== undefined && pid !== process.pid && isRunning(pid)) {
      throw new DevnetError(
        `a devnet is already running in ${dir} (supervisor pid ${pid}, started ${String(holder.startedAt)}): stop it first (Ctrl-C in its terminal, or kill ${pid}), or run this one with another --dir`,
      );
    }
    console.error(`removing a stale ${path} (${pid === undefined ? 'unreadable' : `pid ${pid} is not running`})`);
    unlinkSync(path);
  }
}

/** The last `error: …` line a node printed to its log (why it would not start), if any. */
async function lastError(logFile: string): Promise<string | undefined> {
  try {
    return (await readFile(logFile, 'utf8')).split('\n').filter((l) => l.startsWith('error: ')).at(-1);
  } catch {
    return undefined;
  }
}

/** Waits until `url` serves JSON-RPC as validator `address` (not some other process on the port). */
async function waitServing(url: string, address: string, child: ChildProcess, aborted: () => boolean): Promise<boolean> {
  const until = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < until && child.exitCode === null && child.signalCode === null && !aborted()) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'node_status' }) });
      const body = (await res.json()) as { result?: { validator?: string } };
      if (body.result?.validator === address) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * A local devnet: N validator processes on 127.0.0.1, created on first use and resumed after.
 * Each node logs to <dir>/nodeI/node.log. Each runs in its own process group, so the terminal's
 * Ctrl-C (SIGINT to the foreground group) reaches only this supervisor, which sends each node one
 * SIGTERM and waits for it to stop cleanly; each also has an IPC channel to the supervisor and
 * stops cleanly if the supervisor goes away. Returns the exit code: 0 when every node stopped
 * cleanly, 1 when one would not start or did not stop cleanly.
 */
export async function runDevnet(o: DevnetOptions): Promise<number> {
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  const release = acquireLock(dir);
  const existing = readdirSync(dir).filter((d) => /^node\d+$/.test(d)).length;
  if (existing === 0) {
    // Every node of a devnet runs on this machine: they share its cores for signature checks.
    await writeTestnet({ validators: o.validators, out: dir, chainId: 'metanode-devnet', host: '127.0.0.1', baseRpcPort: o.baseRpcPort, baseP2pPort: o.baseP2pPort, baseMetricsPort: o.baseMetricsPort, devAccounts: o.devAccounts, verifierWorkers: sharedHostWorkers(o.validators) });
    console.log(`created a ${o.validators}-validator devnet in ${dir}`);
  } else if (existing !== o.validators) {
    release();
    throw new DevnetError(`${dir} holds a devnet of ${existing} validator(s), not ${o.validators}; remove it (rm -rf ${o.dir}) to create a new one, or pass --validators ${existing}`);
  }
  const homes = Array.from({ length: o.validators }, (_, i) => join(dir, `node${i}`));
  // Homes made by an older version list the peer ids of their keys/p2p.key files as each other's
  // bootstrap peers; a node's peer id is now its validator key's.
  for (const home of await refreshTestnetBootstrap(homes)) console.log(`updated the bootstrap peer ids in ${homePaths(home).config} (peer ids now derive from the validator keys)`);
  const logs = homes.map((h) => join(h, 'node.log'));
  const children: ChildProcess[] = [];
  /** Children that have told (over IPC) that they stop cleanly on SIGTERM. */
  const handlesSignals = new Set<ChildProcess>();
  let stopping = false;
  let startedUp = false;
  let onAllExited: (() => void) | undefined;

  const stopAll = (): Promise<number> => {
    stopping = true;
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    // A node still loading its code has no handler yet: its SIGTERM waits until it says it has one.
    for (const c of running) {
      if (handlesSignals.has(c)) c.kill('SIGTERM');
      else c.once('message', () => c.kill('SIGTERM'));
    }
    return new Promise<number>((done) => {
      const finish = () => done(children.every((c) => c.exitCode === 0) ? 0 : 1);
      let left = running.length;
      if (left === 0) return finish();
      const timer = setTimeout(() => {
        for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      for (const c of running) {
        c.once('exit', () => {
          if (--left > 0) return;
          clearTimeout(timer);
          finish();
        });
      }
    });
  };

  // Handlers first: a Ctrl-C while the nodes start stops them too.
  let signalled: (() => void) | undefined;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    signalled?.();
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);

  for (const [i, home] of homes.entries()) {
    const log = openSync(logs[i]!, 'a');
    const child = spawn(process.execPath, [...NODE_RUNTIME_FLAGS, metanodeScript, 'start', '--home', home, '--log-level', o.logLevel], {
      stdio: ['ignore', log, log, 'ipc'],
      env: { ...process.env, ...NODE_RUNTIME_ENV },
      detached: true,
    });
    closeSync(log);
    child.on('message', (m: { kind?: string }) => {
      if (m?.kind === 'signals-handled') handlesSignals.add(child);
    });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      if (startedUp) console.error(`node${i} exited (${signal ?? `code ${code}`}); see ${logs[i]}`);
      if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) onAllExited?.();
    });
    children.push(child);
  }

  const urls: string[] = [];
  const metricsUrls: (string | undefined)[] = [];
  for (const [i, home] of homes.entries()) {
    const cfg = await readConfig(homePaths(home).config);
    const url = `http://${cfg.rpc?.host ?? '127.0.0.1'}:${cfg.rpc?.port ?? 8545}`;
    urls.push(url);
    metricsUrls.push(cfg.metrics ? `http://${cfg.metrics.host ?? '127.0.0.1'}:${cfg.metrics.port}/metrics` : undefined);
    const { address } = await inspectValidatorKey(homePaths(home).validatorKey);
    if (await waitServing(url, address, children[i]!, () => stopping)) continue;
    if (stopping) break;
    const c = children[i]!;
    const why = c.exitCode !== null || c.signalCode !== null ? `exited (${c.signalCode ?? `code ${c.exitCode}`})` : `did not serve ${url} within ${START_TIMEOUT_MS / 1000} s`;
    const error = await lastError(logs[i]!);
    console.error(`node${i} ${why} while the devnet started${error ? `: ${error.slice('error: '.length)}` : ''}; see ${logs[i]}`);
    console.error('stopping the other nodes…');
    await stopAll();
    release();
    return 1;
  }
  if (stopping) {
    console.log('stopping the devnet…');
    const code = await stopAll();
    release();
    return code;
  }
  startedUp = true;
  const genesis = JSON.parse(await readFile(homePaths(homes[0]!).genesis, 'utf8')) as { modules: { bank: { balances: unknown[] } } };
  console.log(
    [
      '',
      `Metanode devnet: ${o.validators} validator(s) on 127.0.0.1`,
      ...urls.map((u, i) => `  node${i}  JSON-RPC ${u}   metrics ${metricsUrls[i] ?? '(off)'}   logs ${logs[i]}`),
      '',
      'Dev accounts (DEV ONLY: these secret keys are public; never fund them on a real network):',
      ...devAccounts(genesis.modules.bank.balances.length).map((a) => `  ${a.index}  ${a.address}  secret 0x${Buffer.from(a.key.secret).toString('hex')}`),
      '',
      'Press Ctrl-C to stop all nodes; run again to resume.',
      '',
    ].join('\n'),
  );
  const why = await new Promise<'signal' | 'all exited'>((done) => {
    signalled = () => done('signal');
    onAllExited = () => done('all exited');
  });
  if (why === 'all exited') {
    console.error('every node of the devnet has exited: stopping');
    release();
    return 1;
  }
  console.log('stopping the devnet…');
  const code = await stopAll();
  release();
  if (code !== 0) {
    for (const [i, c] of children.entries()) if (c.exitCode !== 0) console.error(`node${i} did not stop cleanly (${c.signalCode ?? `code ${c.exitCode}`}); see ${logs[i]}`);
  }
  return code;
}
