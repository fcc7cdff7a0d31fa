/**
 * ENC end to end: four validator processes, execution nodes as `metanode executor` processes (and
 * one lying executor started by the harness), jobs of the example programs placed, executed and
 * settled, a liar slashed by the chain's re-execution, a killed executor's jobs placed again, and
 * `metanode-cli job verify` on an honest and a tampered receipt.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Transaction, fromHex, parseAddress, toHex, type Ed25519Key } from '../../chain/index.js';
import { programId } from '../../docklock/index.js';
import { encodeDeploy } from '../../vm/modules/docklock/index.js';
import { encodeChallenge, encodeSubmit } from '../../vm/modules/enc/index.js';
import { METANODE, addressOf, devKey, sleep, track, waitFor, type RpcClient } from './harness.js';
import { Testnet } from './testnet-harness.js';

const CLI = fileURLToPath(new URL('../../bin/metanode-cli.js', import.meta.url));
const LIAR = fileURLToPath(new URL('./fixtures/lying-executor.js', import.meta.url));
const job = (name: string) => new Uint8Array(readFileSync(new URL(`../../../examples/jobs/${name}.wasm`, import.meta.url)));
const PASSWORD = 'e2e-executor-password';
const ENC = { leaseBlocks: '30', challengeWindow: '4', jailBlocks: '1000', maxDeadline: '400' };

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface JobJson {
  id: string;
  state: string;
  replicas: number;
  inputBytes: number;
  assignments: { node: string; state: string; paid: string; reward: string; fuelUsed: number }[];
  disputes: { outcome: string; verdicts: { node: string; lied: boolean; field: string | null; slashedGen: string }[] }[];
}
interface PoolJson {
  escrow: string;
  reserves: string;
  challengeBonds: string;
  bonds: string;
  balances: { GEN: string; NEX: string };
}

describe('e2e: ENC — execution nodes, jobs, settlement, disputes', function () {
  this.timeout(600_000);
  let net: Testnet;
  let dir: string;
  let rpc: RpcClient;
  let rpcUrl: string;
  const executors = new Map<string, ChildProcess>();
  const env = () => ({ ...process.env, METANODE_RPC: rpcUrl, METANODE_KEYSTORE: join(dir, 'keys'), METANODE_PASSWORD: PASSWORD });
  const cli = (args: string[], input = ''): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [CLI, ...args], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.stdin.end(input);
      p.on('error', reject).on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const ok = async (args: string[], input = ''): Promise<unknown> => {
    const r = await cli(args, input);
    expect(r.code, `metanode-cli ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return JSON.parse(r.stdout);
  };
  const q = <T>(query: string, params?: Record<string, unknown>) => rpc.call<T>('module_query', params ? ['enc', query, params] : ['enc', query]);
  /** The keys: dev0 the client, dev1–3 honest executors, dev4 the liar, dev5 a challenger. */
  const names = ['client', 'ex1', 'ex2', 'ex3', 'liar', 'challenger'];
  const addr = (i: number) => addressOf(devKey(i));

  // Per block: ENC's account holds exactly what its pool says, at every height seen.
  const checked = new Set<number>();
  const broken: string[] = [];
  let watching = true;
  let watcher: Promise<void> | undefined;
  // Read from node1, which this test never stops (node0 is restarted below: it keeps no history from before).
  const checkPoolAt = async (height: number) => {
    const p = await net.nodes[1]!.rpc.call<PoolJson>('module_query', ['enc', 'pool', {}, height]);
    expect(BigInt(p.balances.NEX), `ENC NEX at height ${height}`).to.equal(BigInt(p.escrow) + BigInt(p.reserves) + BigInt(p.challengeBonds));
    expect(BigInt(p.balances.GEN), `ENC GEN at height ${height}`).to.equal(BigInt(p.bonds));
    checked.add(height);
  };

  const startExecutor = (name: string) => {
    const home = join(dir, name);
    const p = spawn(process.execPath, [METANODE, 'executor', '--home', home, '--rpc', rpcUrl, '--key', name, '--keystore', join(dir, 'keys'), '--password-file', join(dir, 'pw')], { stdio: 'ignore' });
    track(p);
    executors.set(name, p);
  };
  const startLiar = () => {
    const p = spawn(process.execPath, [LIAR, rpcUrl, join(dir, 'keys'), 'liar', join(dir, 'pw'), join(dir, 'liar')], { stdio: 'ignore' });
    track(p);
    executors.set('liar', p);
  };
  const killExecutor = async (name: string) => {
    const p = executors.get(name)!;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };

  let nonce = 0n;
  let chainId = '';
  const send = async (key: Ed25519Key, n: bigint, kind: string, payload: Uint8Array): Promise<string> => {
    const tx = Transaction.sign({ chainId, nonce: n, sender: key.publicKey, fee: 1000n, kind, payload }, key);
    await rpc.call('tx_send', [toHex(tx.serialize())]);
    return toHex(tx.hash());
  };
  const committed = (hash: string) => waitFor(`tx ${hash.slice(0, 10)}`, async () => (await rpc.call<{ status: string; errorCode?: string } | null>('chain_getReceipt', [hash])) ?? undefined, 30_000, 100);
  const settled = (ids: string[], timeoutMs = 120_000) =>
    waitFor(
      `${ids.length} jobs to settle`,
      async () => {
        const js = await Promise.all(ids.map((id) => q<JobJson>('job', { id })));
        return js.every((j) => ['settled', 'expired', 'unresolved'].includes(j.state)) ? js : undefined;
      },
      timeoutMs,
      500,
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metanode-e2e-enc-'));
    await writeFile(join(dir, 'pw'), PASSWORD + '\n');
    for (const n of names.slice(1, 5)) await mkdir(join(dir, n));
    net = await Testnet.create({ validators: 4, devAccounts: 6, consensus: { emptyBlockIntervalMs: 300 }, moduleParams: { enc: ENC } });
    await net.startAll();
    await net.waitForHeight(2);
    rpc = net.nodes[0]!.rpc;
    rpcUrl = `http://127.0.0.1:${net.nodes[0]!.rpcPort}`;
    chainId = await rpc.call<string>('chain_getChainId');
    for (const [i, n] of names.entries()) await ok(['keys', 'import', n, '--json'], toHex(devKey(i).secret) + '\n');
    watcher = (async () => {
      const watched = net.nodes[1]!.rpc;
      let next = (await watched.call<{ height: number }>('chain_getHead')).height;
      while (watching) {
        const h = (await watched.call<{ height: number }>('chain_getHead')).height;
        for (; next <= h; next++) await checkPoolAt(next).catch((e: Error) => broken.push(`height ${next}: ${e.message}`));
        await sleep(200);
      }
    })();
  });

  after(async () => {
    watching = false;
    await watcher?.catch(() => undefined);
    for (const n of executors.keys()) await killExecutor(n);
    await net?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('registers three execution nodes with metanode-cli and runs them with metanode executor', async () => {
    // ex3 asks the least: it is placed first (and is the one killed later).
    for (const [n, price] of [['ex1', '3'], ['ex2', '2'], ['ex3', '1']] as const) {
      const r = (await ok(['enc', 'register', '--slots', '4', '--memory', '16384', '--price', price, '--bond', '1000', '--key', n, '--yes', '--wait', '--json'])) as { receipt: { status: string } };
      expect(r.receipt.status).to.equal('success');
    }
    const nodes = (await ok(['enc', 'nodes', '--json'])) as { nodes: { address: string; status: string; bond: string }[] };
    expect(nodes.nodes.map((x) => x.status)).to.deep.equal(['active', 'active', 'active']);
    for (const n of ['ex1', 'ex2', 'ex3']) startExecutor(n);
  });

  it('places, executes and settles 30 jobs of the example programs with R = 1, 2 and 3; the reward is the formula’s', async () => {
    const client = devKey(0);
    nonce = BigInt((await rpc.call<{ nonce: number }>('state_getAccount', [addr(0)])).nonce);
    const programs = { sha256: job('sha256'), sort: job('sort'), hostcalls: job('hostcalls'), mandelbrot: job('mandelbrot') };
    const deploys = [];
    for (const code of Object.values(programs)) deploys.push(await send(client, nonce++, 'docklock.deploy', encodeDeploy({ code })));
    for (const h of deploys) expect((await committed(h)).status).to.equal('success');
    const inputs: [keyof typeof programs, Uint8Array][] = [
      ['sha256', new TextEncoder().encode('abc')],
      ['sort', Uint8Array.from([5, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 3, 0, 0, 0])],
      ['hostcalls', new TextEncoder().encode('metanode')],
      ['mandelbrot', Uint8Array.from([16, 0, 16, 0, 64, 0])],
    ];
    const hashes: string[] = [];
    for (let i = 0; i < 30; i++) {
      const [name, input] = inputs[i % inputs.length]!;
      const replicas = 1 + (i % 3);
      hashes.push(await send(client, nonce++, 'enc.submit', encodeSubmit({ program: programId(programs[name]), input: Uint8Array.from([...input, ...(name === 'sha256' ? [i] : [])]), fuel: 5_000_000, maxPrice: 4n, replicas, deadline: 300 })));
    }
    for (const h of hashes) expect((await committed(h)).status, `submit ${h}`).to.equal('success');
    const jobs = await settled(hashes);
    for (const j of jobs) {
      expect(j.state, `job ${j.id}`).to.equal('settled');
      const paid = j.assignments.filter((a) => a.state === 'paid');
      expect(paid.length, `job ${j.id}: one paid receipt per replica`).to.equal(j.replicas);
      expect(new Set(paid.map((a) => a.node)).size).to.equal(j.replicas);
    }
    // The reward each executor was minted is what enc_estimateReward gives for its receipt's usage.
    for (const j of jobs.slice(0, 6)) {
      const a = j.assignments.find((x) => x.state === 'paid')!;
      const r = await q<{ receipt: { fuelUsed: number; usage: { memoryPages: number; hostCalls: number; outputBytes: number } } }>('receipt', { job: j.id, node: a.node });
      const micro = (num: number, den: number) => (Math.floor((num * 1e6) / den) / 1e6).toFixed(6);
      const est = await rpc.call<{ reward: string }>('enc_estimateReward', [{ cpu: micro(r.receipt.fuelUsed, 1000), memory: String(r.receipt.usage.memoryPages * 64), storage: micro(j.inputBytes, 1024), egress: micro(r.receipt.usage.outputBytes, 1024), receipts: String(r.receipt.usage.hostCalls) }]);
      expect(a.reward, `reward of ${j.id}`).to.equal(est.reward);
    }
    // Every executor worked.
    const nodes = await q<{ nodes: { address: string; done: number; missed: number; lied: number }[] }>('nodes', {});
    for (const n of nodes.nodes) expect(n.done, n.address).to.be.greaterThan(0);
    // The NEX minted is exactly the rewards paid.
    const pool = await q<{ minted: string }>('pool');
    const rewards = jobs.flatMap((j) => j.assignments).reduce((s, a) => s + BigInt(a.reward), 0n);
    expect(BigInt(pool.minted)).to.equal(rewards);
  });

  it('metanode-cli job status, result and verify: an honest receipt verifies on every check', async () => {
    const jobs = await q<{ jobs: { id: string; state: string; program: string }[] }>('jobs', {});
    const honest = jobs.jobs.find((j) => j.state === 'settled' && j.program === toHex(programId(job('sha256'))))!;
    const status = (await ok(['job', 'status', honest.id, '--json'])) as { state: string };
    expect(status.state).to.equal('settled');
    const result = (await ok(['job', 'result', honest.id, '--json'])) as { output: string; status: string };
    expect(result.status).to.equal('ok');
    expect(result.output).to.match(/^0x[0-9a-f]{64}$/); // a SHA-256 digest
    const v = (await ok(['job', 'verify', honest.id, '--json'])) as { ok: boolean; receipts: { checks: { check: string; ok: boolean }[] }[] };
    expect(v.ok).to.equal(true);
    expect(v.receipts[0]!.checks.map((c) => c.check)).to.deep.equal(['re-execution', 'signature', 'output', 'state proof', 'certificate', 'logblock']);
    expect(v.receipts[0]!.checks.every((c) => c.ok)).to.equal(true);
  });

  it('a lying executor is caught: with R = 2 the chain re-executes, slashes and jails it, and pays the honest node; job verify fails on its receipt', async () => {
    // The liar asks nothing: it is placed first.
    await ok(['enc', 'register', '--slots', '4', '--memory', '16384', '--price', '0', '--bond', '1000', '--key', 'liar', '--yes', '--wait', '--json']);
    startLiar();
    const client = devKey(0);
    const id = await send(client, nonce++, 'enc.submit', encodeSubmit({ program: programId(job('sha256')), input: new TextEncoder().encode('who lies?'), fuel: 5_000_000, maxPrice: 4n, replicas: 2, deadline: 300 }));
    expect((await committed(id)).status).to.equal('success');
    const [j] = await settled([id]);
    expect(j!.disputes[0]!.outcome).to.equal('upheld');
    const liar = j!.disputes[0]!.verdicts.find((v) => v.node === addr(4))!;
    expect(liar).to.include({ lied: true, field: 'outputHash' });
    expect(BigInt(liar.slashedGen)).to.equal(100_000_000n); // 10% of 1,000 GEN
    expect(j!.assignments.find((a) => a.node === addr(4))!.state).to.equal('lied');
    expect(j!.assignments.find((a) => a.node !== addr(4))!.state).to.equal('paid');
    const node = await q<{ status: string; lied: number }>('node', { address: addr(4) });
    expect(node).to.include({ status: 'jailed', lied: 1 });
    const r = await cli(['job', 'verify', id, '--node', 'liar', '--json']);
    expect(r.code, r.stderr).to.equal(50);
    const v = JSON.parse(r.stdout) as { ok: boolean; receipts: { checks: { check: string; ok: boolean }[] }[] };
    expect(v.ok).to.equal(false);
    expect(v.receipts[0]!.checks.find((c) => c.check === 're-execution')!.ok).to.equal(false);
    await killExecutor('liar');
  });

  it('a challenge of an honest receipt is rejected and its bond burned', async () => {
    const client = devKey(0);
    const id = await send(client, nonce++, 'enc.submit', encodeSubmit({ program: programId(job('sha256')), input: new TextEncoder().encode('challenge me'), fuel: 5_000_000, maxPrice: 4n, replicas: 1, deadline: 300 }));
    const j = await waitFor('the receipt', async () => {
      const x = await q<JobJson>('job', { id });
      return x.state === 'executed' ? x : undefined;
    }, 60_000, 100);
    const challenger = devKey(5);
    const cn = BigInt((await rpc.call<{ nonce: number }>('state_getAccount', [addr(5)])).nonce);
    const h = await send(challenger, cn, 'enc.challenge', encodeChallenge({ job: fromHex(id, 32), node: parseAddress(j.assignments[0]!.node) }));
    expect((await committed(h)).status).to.equal('success');
    const [done] = await settled([id]);
    expect(done!.disputes[0]!.outcome).to.equal('rejected');
    expect(done!.assignments[0]!.state).to.equal('paid');
  });

  it('an executor killed mid-run: its leases end, its jobs are placed again and settle; restarted, it resumes its receipt chain', async () => {
    // Misses before this test (a lease an executor could not make on a slow machine) are not this test's.
    const missedBefore = (await q<{ missed: number }>('node', { address: addr(3) })).missed;
    await killExecutor('ex3');
    const client = devKey(0);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push(await send(client, nonce++, 'enc.submit', encodeSubmit({ program: programId(job('sha256')), input: Uint8Array.of(100 + i), fuel: 5_000_000, maxPrice: 4n, replicas: 1, deadline: 300 })));
    for (const h of ids) expect((await committed(h)).status).to.equal('success');
    // ex3 asks the least: the first job at least is placed on it (the load score may send the next elsewhere), and it is down.
    const first = await Promise.all(ids.map((id) => q<JobJson>('job', { id })));
    const onEx3 = first.filter((j) => j.assignments[0]!.node === addr(3)).map((j) => j.id);
    expect(onEx3.length, JSON.stringify(await rpc.call('enc_explainPlacement', [ids[0]]))).to.be.at.least(1);
    const jobs = (await settled(ids)).filter((j) => onEx3.includes(j.id));
    for (const j of jobs) {
      expect(j.state).to.equal('settled');
      expect(j.assignments[0]).to.include({ node: addr(3), state: 'missed' });
      expect(j.assignments[1]!.state).to.equal('paid');
    }
    const ex3 = await q<{ missed: number; done: number; lastReceipt: string | null }>('node', { address: addr(3) });
    expect(ex3.missed - missedBefore).to.equal(onEx3.length);
    startExecutor('ex3');
    const doneBefore = ex3.done;
    const id = await send(client, nonce++, 'enc.submit', encodeSubmit({ program: programId(job('sha256')), input: Uint8Array.of(200), fuel: 5_000_000, maxPrice: 4n, replicas: 3, deadline: 300 }));
    const [j] = await settled([id]);
    expect(j!.assignments.find((a) => a.node === addr(3))!.state).to.equal('paid');
    const after = await q<{ done: number; lastReceipt: string }>('node', { address: addr(3) });
    expect(after.done).to.equal(doneBefore + 1);
    expect(after.lastReceipt).to.not.equal(ex3.lastReceipt);
  });

  it('the executors outlive their node going down: they wait, reconnect when it is back, and go on', async () => {
    const node0 = net.nodes[0]!;
    await node0.kill();
    await sleep(3_000);
    for (const n of ['ex1', 'ex2', 'ex3']) expect(executors.get(n)!.exitCode, `${n} exited while its node was down`).to.equal(null);
    await node0.start();
    await net.waitForHeight((await net.nodes[1]!.head()).height, [node0], 60_000);
    nonce = BigInt((await rpc.call<{ nonce: number }>('state_getAccount', [addr(0)])).nonce);
    const id = await send(devKey(0), nonce++, 'enc.submit', encodeSubmit({ program: programId(job('sha256')), input: Uint8Array.of(250), fuel: 5_000_000, maxPrice: 4n, replicas: 3, deadline: 300 }));
    const [j] = await settled([id]);
    expect(j!.assignments.filter((a) => a.state === 'paid').map((a) => a.node).sort()).to.deep.equal([addr(1), addr(2), addr(3)].sort());
  });

  it('the explorer shows the jobs, a disputed job with its verdicts, and the execution nodes with their records', async function () {
    const CHROMIUM = '/usr/bin/chromium';
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get install chromium`);
      this.skip();
    }
    const profile = await mkdtemp(join(tmpdir(), 'metanode-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'], viewport: { width: 390, height: 844 } });
    const errors: string[] = [];
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      page.setDefaultTimeout(20_000);
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${rpcUrl}/#/jobs`);
      await page.waitForSelector('#jobs tr[data-job]');
      expect(await page.locator('#jobs tr[data-job]').count()).to.be.at.least(30);
      expect(await page.locator('#jobs [data-state="settled"]').count()).to.be.at.least(30);
      // The job the liar was caught on: its dispute, the liar's verdict.
      const jobs = await q<{ jobs: { id: string }[] }>('jobs', {});
      const disputed = (await Promise.all(jobs.jobs.map((j) => q<JobJson>('job', { id: j.id })))).find((j) => j.disputes.some((d) => d.outcome === 'upheld'))!;
      await page.goto(`${rpcUrl}/#/job/${disputed.id}`);
      await page.waitForSelector('#job-disputes');
      expect(await page.innerText('#job-state')).to.contain('settled');
      expect(await page.locator(`#job-disputes [data-node="${addr(4)}"] [data-verdict="lied"]`).count()).to.equal(1);
      expect(await page.locator(`#job-assignments [data-node="${addr(4)}"] [data-state="lied"]`).count()).to.equal(1);
      await page.goto(`${rpcUrl}/#/executors`);
      await page.waitForSelector('#executors tr[data-executor]');
      expect(await page.locator('#executors tr[data-executor]').count()).to.equal(4);
      expect(await page.locator(`#executors tr[data-executor="${addr(4)}"] [data-status="jailed"]`).count()).to.equal(1);
      expect(await page.getAttribute('#enc-pool [data-books]', 'data-books')).to.equal('match');
      // Nothing is cut off on a 390 px phone: the page itself does not scroll sideways.
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).to.equal(true);
      expect(errors).to.deep.equal([]);
    } finally {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    }
  });

  it('held its books at every block: ENC’s account matched its pool', () => {
    expect(broken).to.deep.equal([]);
    expect(checked.size).to.be.greaterThan(20);
  });
});
