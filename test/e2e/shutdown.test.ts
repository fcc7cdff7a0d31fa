/**
 * Stopping: a devnet sent SIGINT as a whole process group (what the terminal does on Ctrl-C under
 * `npm start`), a second devnet or node on homes in use, a supervisor that dies, a node that
 * cannot start, and a node that meets a bug (an uncaught exception or unhandled rejection).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METANODE, TestNode, errorLines, runMetanode, track, waitFor, type RunResult } from './harness.js';
import { freePortRange } from './testnet-harness.js';

const VALIDATORS = 3;
const INJECT_BUG = fileURLToPath(new URL('./fixtures/inject-bug.js', import.meta.url));
const SLOW_START = fileURLToPath(new URL('./fixtures/slow-start.js', import.meta.url));

interface LogLine {
  msg: string;
  why?: string;
  level: number;
}

/** A `metanode devnet` process in a process group of its own (as a shell runs a foreground job). */
class Devnet {
  out = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(readonly proc: ChildProcess) {
    proc.stdout!.on('data', (c: Buffer) => (this.out += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (this.out += c.toString()));
    this.exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  }

  static spawn(args: string[]): Devnet {
    const proc = spawn(process.execPath, [METANODE, 'devnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    track(proc);
    return new Devnet(proc);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  async ready(): Promise<void> {
    await waitFor('the devnet banner', async () => {
      if (this.proc.exitCode !== null) throw new Error(`the devnet exited (${this.proc.exitCode}):\n${this.out}`);
      return this.out.includes('Press Ctrl-C to stop all nodes');
    }, 90_000, 50);
  }
}

async function logSize(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}

async function logLines(file: string, from: number): Promise<LogLine[]> {
  const text = (await readFile(file)).subarray(from).toString('utf8');
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
}

describe('e2e: stopping cleanly', function () {
  this.timeout(240_000);
  let dir: string;
  let args: string[];
  const logs = Array.from({ length: VALIDATORS }, (_, i) => `node${i}/node.log`);
  const logOf = (i: number) => join(dir, logs[i]!);
  const offsets = async () => Promise.all(logs.map((_, i) => logSize(logOf(i))));
  let devnet: Devnet | undefined;

  before(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'metanode-e2e-devnet-')), 'devnet');
    const base = await freePortRange(2 * VALIDATORS);
    args = ['--dir', dir, '--validators', String(VALIDATORS), '--base-rpc-port', String(base), '--base-p2p-port', String(base + VALIDATORS), '--dev-accounts', '2'];
  });
  after(async () => {
    if (devnet && devnet.proc.exitCode === null && devnet.proc.signalCode === null) process.kill(-devnet.pid, 'SIGKILL');
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('replaces a stale lock (its supervisor is gone) and starts', async () => {
    // The pid of a process that has exited: what a devnet killed with -9 leaves behind.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'devnet.lock'), JSON.stringify({ pid: gone.pid, startedAt: '2026-01-01T00:00:00.000Z' }));
    devnet = Devnet.spawn(args);
    await devnet.ready();
    expect(devnet.out).to.include(`removing a stale ${join(dir, 'devnet.lock')} (pid ${gone.pid} is not running)`);
    expect(JSON.parse(await readFile(join(dir, 'devnet.lock'), 'utf8'))).to.have.property('pid', devnet.pid);
  });

  it('a second devnet on the same folder exits non-zero and says why', async () => {
    const r = await runMetanode(['devnet', ...args], 60_000);
    expect(r.code, r.stderr).to.equal(1);
    expect(errorLines(r)).to.deep.equal([
      `error: a devnet is already running in ${dir} (supervisor pid ${devnet!.pid}, started ${(JSON.parse(await readFile(join(dir, 'devnet.lock'), 'utf8')) as { startedAt: string }).startedAt}): stop it first (Ctrl-C in its terminal, or kill ${devnet!.pid}), or run this one with another --dir`,
    ]);
    expect(r.stdout).not.to.include('Metanode devnet');
    expect(devnet!.proc.exitCode, 'the first one still runs').to.equal(null);
  });

  it('metanode start on a home in use fails with one clear line', async () => {
    const r = await runMetanode(['start', '--home', join(dir, 'node0'), '--rpc-port', '0', '--p2p-port', '0'], 60_000);
    expect(r.code).to.equal(1);
    expect(errorLines(r)).to.deep.equal([`error: the home ${join(dir, 'node0')} is in use by another process (is another metanode running with this home?): stop that one first, or start this one with another --home`]);
  });

  it('SIGINT to the whole process group (Ctrl-C) stops every node cleanly, each with one SIGTERM from the supervisor', async () => {
    const from = await offsets();
    process.kill(-devnet!.pid, 'SIGINT');
    const { code } = await devnet!.exited;
    expect(code, devnet!.out).to.equal(0);
    for (let i = 0; i < VALIDATORS; i++) {
      const lines = await logLines(logOf(i), from[i]!);
      const msgs = lines.map((l) => l.msg);
      expect(msgs, `node${i}`).to.not.include('second signal: exiting now');
      expect(lines.filter((l) => l.msg === 'stopping').map((l) => l.why), `node${i} got one signal`).to.deep.equal(['SIGTERM']);
      expect(msgs.at(-1), `node${i}'s last line`).to.equal('node stopped');
    }
    await stat(join(dir, 'devnet.lock')).then(() => expect.fail('the lock is still there'), () => undefined);
  });

  it('when the supervisor is killed (-9), every node stops cleanly by itself', async () => {
    devnet = Devnet.spawn(args);
    await devnet.ready();
    const from = await offsets();
    process.kill(devnet.pid, 'SIGKILL');
    await devnet.exited;
    for (let i = 0; i < VALIDATORS; i++) {
      await waitFor(`node${i} to stop`, async () => (await logLines(logOf(i), from[i]!)).some((l) => l.msg === 'node stopped'), 30_000, 100);
      const lines = await logLines(logOf(i), from[i]!);
      expect(lines.filter((l) => l.msg === 'stopping').map((l) => l.why)).to.deep.equal(['the supervisor is gone']);
    }
    // Its lock is stale now: the next devnet replaces it.
    devnet = Devnet.spawn(args);
    await devnet.ready();
    expect(devnet.out).to.match(/removing a stale .*devnet\.lock \(pid \d+ is not running\)/);
    process.kill(-devnet.pid, 'SIGINT');
    expect((await devnet.exited).code).to.equal(0);
  });

  it('a node that cannot start makes the devnet exit non-zero, naming it, after stopping the others cleanly', async () => {
    const key = join(dir, 'node1', 'keys', 'validator.json');
    await chmod(key, 0o644);
    try {
      const from = await offsets();
      // node2 is still loading its code when node1 fails (and gets its SIGTERM once it can stop cleanly).
      const r: RunResult = await runMetanode(['devnet', ...args], 90_000, { NODE_OPTIONS: `--import ${SLOW_START}`, METANODE_TEST_SLOW_HOME: join(dir, 'node2') });
      expect(r.code, r.stdout + r.stderr).to.equal(1);
      expect(r.stderr).to.include(`node1 exited (code 1) while the devnet started: validator key ${key} is open to other users (mode 0644); make it private with: chmod 600 ${key}; see ${logOf(1)}`);
      expect(r.stdout).not.to.include('Press Ctrl-C');
      for (const i of [0, 2]) {
        const lines = await logLines(logOf(i), from[i]!);
        expect(lines.filter((l) => l.msg === 'stopping').map((l) => l.why), `node${i} was stopped`).to.deep.equal(['SIGTERM']);
        expect(lines.at(-1)!.msg, `node${i} stopped cleanly`).to.equal('node stopped');
      }
      await stat(join(dir, 'devnet.lock')).then(() => expect.fail('the lock is still there'), () => undefined);
    } finally {
      await chmod(key, 0o600);
    }
  });
});

describe('e2e: a bug in a running node', function () {
  this.timeout(120_000);
  let node: TestNode;
  before(async () => {
    node = await TestNode.init({ emptyBlockIntervalMs: 200, logLevel: 'info' });
  });
  after(() => node?.remove());

  for (const kind of ['exception', 'rejection'] as const) {
    it(`an uncaught ${kind} is logged as fatal with the error, the node stops cleanly, and the process exits with code 4`, async () => {
      await node.start({ execArgv: ['--import', INJECT_BUG], env: { METANODE_TEST_BUG: kind } });
      await waitFor('a block', async () => (await node.rpc.call<{ height: number }>('chain_getHead')).height >= 1);
      node.signal('SIGUSR2');
      const { code } = await node.exit();
      expect(code, node.stdout + node.stderr).to.equal(4);
      const lines = node.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine & { kind?: string; err?: { message: string } });
      const fatal = lines.find((l) => l.level === 60);
      expect(fatal, node.stdout).to.include({ msg: 'internal error (a bug): stopping', kind: kind === 'exception' ? 'uncaughtException' : 'unhandledRejection' });
      expect(fatal!.err!.message).to.match(/^injected bug: /);
      expect(lines.at(-1)!.msg).to.equal('node stopped');
      expect(errorLines({ code, signal: null, stdout: '', stderr: node.stderr })).to.have.length(1);
      expect(node.stderr).to.match(/^error: internal error \(\w+\): injected bug: .*this is a bug in metanode/);
    });
  }

  it('the node starts again on the same home afterwards, at the height it stopped at', async () => {
    const stoppedAt = Number(/"height":(\d+),"msg":"node stopped"/.exec(node.stdout)![1]);
    await node.start();
    expect((await node.rpc.call<{ height: number }>('chain_getHead')).height).to.be.at.least(stoppedAt);
    expect(await node.stop()).to.equal(0);
  });
});
