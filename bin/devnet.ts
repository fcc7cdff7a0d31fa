import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devAccounts } from '../genesis/index.js';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS, exists, homePaths, readConfig, refreshTestnetBootstrap, sharedHostWorkers, writeTestnet } from '../node/index.js';

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

async function waitHealthy(url: string, child: ChildProcess, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until && child.exitCode === null) {
    try {
      if ((await fetch(`${url}/health`)).ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * A local devnet: N validator processes on 127.0.0.1, created on first use and resumed after.
 * Each node logs to <dir>/nodeI/node.log. Ctrl-C stops them all.
 */
export async function runDevnet(o: DevnetOptions): Promise<void> {
  const dir = resolve(o.dir);
  const existing = (await exists(dir)) ? readdirSync(dir).filter((d) => /^node\d+$/.test(d)).length : 0;
  if (existing === 0) {
    // Every node of a devnet runs on this machine: they share its cores for signature checks.
    await writeTestnet({ validators: o.validators, out: dir, chainId: 'metanode-devnet', host: '127.0.0.1', baseRpcPort: o.baseRpcPort, baseP2pPort: o.baseP2pPort, baseMetricsPort: o.baseMetricsPort, devAccounts: o.devAccounts, verifierWorkers: sharedHostWorkers(o.validators) });
    console.log(`created a ${o.validators}-validator devnet in ${dir}`);
  } else if (existing !== o.validators) {
    throw new Error(`${dir} holds a devnet of ${existing} validator(s), not ${o.validators}; remove it (rm -rf ${o.dir}) to create a new one, or pass --validators ${existing}`);
  }
  const homes = Array.from({ length: o.validators }, (_, i) => join(dir, `node${i}`));
  // Homes made by an older version list the peer ids of their keys/p2p.key files as each other's
  // bootstrap peers; a node's peer id is now its validator key's.
  for (const home of await refreshTestnetBootstrap(homes)) console.log(`updated the bootstrap peer ids in ${homePaths(home).config} (peer ids now derive from the validator keys)`);
  const children: ChildProcess[] = [];
  let stopping = false;
  for (const home of homes) {
    const log = openSync(join(home, 'node.log'), 'a');
    const child = spawn(process.execPath, [...NODE_RUNTIME_FLAGS, metanodeScript, 'start', '--home', home, '--log-level', o.logLevel], { stdio: ['ignore', log, log], env: { ...process.env, ...NODE_RUNTIME_ENV } });
    child.on('exit', (code, signal) => {
      if (!stopping) console.error(`node ${home} exited (${signal ?? code}); see ${join(home, 'node.log')}`);
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
    if (!(await waitHealthy(url, children[i]!, 30_000))) console.error(`node${i} did not come up; see ${join(home, 'node.log')}`);
  }
  const genesis = JSON.parse(await (await import('node:fs/promises')).readFile(homePaths(homes[0]!).genesis, 'utf8')) as { modules: { bank: { balances: unknown[] } } };
  console.log(
    [
      '',
      `Metanode devnet: ${o.validators} validator(s) on 127.0.0.1`,
      ...urls.map((u, i) => `  node${i}  JSON-RPC ${u}   metrics ${metricsUrls[i] ?? '(off)'}   logs ${join(homes[i]!, 'node.log')}`),
      '',
      'Dev accounts (DEV ONLY: these secret keys are public; never fund them on a real network):',
      ...devAccounts(genesis.modules.bank.balances.length).map((a) => `  ${a.index}  ${a.address}  secret 0x${Buffer.from(a.key.secret).toString('hex')}`),
      '',
      'Press Ctrl-C to stop all nodes; run again to resume.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((done) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      console.log('stopping the devnet…');
      for (const c of children) c.kill('SIGTERM');
      let left = children.filter((c) => c.exitCode === null && c.signalCode === null).length;
      if (left === 0) done();
      for (const c of children) c.once('exit', () => --left === 0 && done());
      setTimeout(() => {
        for (const c of children) c.kill('SIGKILL');
        done();
      }, 15_000).unref();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
