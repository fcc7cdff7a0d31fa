/**
 * ENC benchmark (`npm run bench:enc`, also part of `npm run bench`): the whole path of a job,
 * submit → place → execute → receipt → settle, with real processes on loopback: one validator
 * (`metanode start`), three execution nodes (`metanode executor`), and this process as the client.
 *
 * The client submits JOBS small jobs (sha256 of a few bytes, R = 1), WINDOW at a time (a new one
 * as each settles), and polls each job's state. Reported: jobs settled per second from the first
 * submit to the last settlement, and the submit-to-settled latency (p50, p99) in wall time, which
 * includes the challenge window (set to 0 blocks here, so that the figure is the path's own; with
 * a window of W blocks, add W block times). Then, for comparison, bank transfers per second
 * through the same node (one sender, the same batches).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transaction, toHex, type Ed25519Key } from '../chain/index.js';
import { programId } from '../docklock/index.js';
import { Keystore, defaultKeystoreOptions } from '../bin/cli/keystore.js';
import { encodeDeploy } from '../vm/modules/docklock/index.js';
import { encodeNodeTx, encodeSubmit } from '../vm/modules/enc/index.js';
import { METANODE, addressOf, devKey, signTransfer, sleep, waitFor, type RpcClient } from '../test/e2e/harness.js';
import { Testnet } from '../test/e2e/testnet-harness.js';

const JOBS = Number(process.env.ENC_BENCH_JOBS ?? 300);
const WINDOW = 40;
const PASSWORD = 'bench-password-1';
const sha = new Uint8Array(readFileSync(new URL('../../examples/jobs/sha256.wasm', import.meta.url)));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function main(): Promise<void> {
  const net = await Testnet.create({ validators: 1, devAccounts: 4, consensus: { emptyBlockIntervalMs: 200 }, moduleParams: { enc: { challengeWindow: '0', leaseBlocks: '100', maxDeadline: '1000' } } });
  const executors: ChildProcess[] = [];
  try {
    await net.startAll();
    await net.waitForHeight(1);
    const rpc: RpcClient = net.nodes[0]!.rpc;
    const url = `http://127.0.0.1:${net.nodes[0]!.rpcPort}`;
    const chainId = await rpc.call<string>('chain_getChainId');
    const nonces = new Map<string, bigint>();
    const send = async (key: Ed25519Key, kind: string, payload: Uint8Array): Promise<string> => {
      const a = addressOf(key);
      const n = nonces.get(a) ?? BigInt((await rpc.call<{ nonce: number }>('state_getAccount', [a])).nonce);
      nonces.set(a, n + 1n);
      const tx = Transaction.sign({ chainId, nonce: n, sender: key.publicKey, fee: 1000n, kind, payload }, key);
      await rpc.call('tx_send', [toHex(tx.serialize())]);
      return toHex(tx.hash());
    };
    const receipt = (h: string) => waitFor(`tx ${h.slice(0, 10)}`, async () => (await rpc.call<{ status: string } | null>('chain_getReceipt', [h])) ?? undefined, 30_000, 20);

    // Three execution nodes (dev1–3), their keys in a metanode-cli keystore, each its own process.
    const keys = join(net.dir, 'executor-keys');
    const store = new Keystore({ ...defaultKeystoreOptions, dir: keys, scryptN: 1 << 12 });
    await writeFile(join(net.dir, 'pw'), PASSWORD);
    for (let i = 1; i <= 3; i++) {
      await store.add(`ex${i}`, devKey(i).secret, PASSWORD);
      const r = await receipt(await send(devKey(i), 'enc.register', encodeNodeTx({ slots: 32, memoryKiB: 32 * 1024, price: 1n, bond: 1000n * 1_000_000n })));
      if (r.status !== 'success') throw new Error(`register ex${i}: ${JSON.stringify(r)}`);
      const home = join(net.dir, `ex${i}`);
      await mkdir(home);
      const p = spawn(process.execPath, [METANODE, 'executor', '--home', home, '--rpc', url, '--key', `ex${i}`, '--keystore', keys, '--password-file', join(net.dir, 'pw'), '--log-level', 'warn'], { stdio: 'ignore' });
      executors.push(p);
    }
    const client = devKey(0);
    if ((await receipt(await send(client, 'docklock.deploy', encodeDeploy({ code: sha })))).status !== 'success') throw new Error('deploy failed');
    const program = programId(sha);

    // Jobs: WINDOW in flight, a new one as each settles.
    const latencies: number[] = [];
    const start = performance.now();
    let next = 0;
    const inflight = new Map<string, number>();
    while (latencies.length < JOBS) {
      while (inflight.size < WINDOW && next < JOBS) {
        const t = performance.now();
        const id = await send(client, 'enc.submit', encodeSubmit({ program, input: new TextEncoder().encode(`job ${next++}`), fuel: 1_000_000, maxPrice: 1n, replicas: 1, deadline: 900 }));
        inflight.set(id, t);
      }
      await sleep(25);
      // A job not yet committed answers "no job …": it is still on its way.
      const answers = await rpc.batch<{ state: string }>([...inflight.keys()].map((id) => ({ method: 'module_query', params: ['enc', 'job', { id }] })));
      [...inflight.keys()].forEach((id, i) => {
        const s = answers[i]!.result?.state;
        if (s === 'settled' || s === 'expired' || s === 'unresolved') {
          if (s !== 'settled') throw new Error(`job ${id} ended ${s}`);
          latencies.push(performance.now() - inflight.get(id)!);
          inflight.delete(id);
        }
      });
    }
    const seconds = (performance.now() - start) / 1000;

    // Bank transfers through the same node, the same way (WINDOW in flight), for comparison.
    const tStart = performance.now();
    const sender = devKey(0);
    let n = nonces.get(addressOf(sender))!;
    const hashes: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const tx = signTransfer({ chainId, from: sender, to: 2, amount: 1n, nonce: n++ });
      await rpc.call('tx_send', [toHex(tx.serialize())]);
      hashes.push(toHex(tx.hash()));
      if (hashes.length % WINDOW === 0) await receipt(hashes[hashes.length - 1]!);
    }
    await receipt(hashes[hashes.length - 1]!);
    const tSeconds = (performance.now() - tStart) / 1000;

    console.log(`ENC: ${JOBS} jobs (sha256, R = 1, ${WINDOW} in flight) through 1 validator and 3 executors`);
    console.log(`  settled            ${(JOBS / seconds).toFixed(1)} jobs/s`);
    console.log(`  submit → settled   p50 ${pct(latencies, 50).toFixed(0)} ms, p99 ${pct(latencies, 99).toFixed(0)} ms (challenge window 0)`);
    console.log(`  bank transfers     ${(JOBS / tSeconds).toFixed(1)} tx/s the same way (${WINDOW} in flight, one sender)`);
  } finally {
    for (const p of executors) p.kill('SIGKILL');
    await net.remove();
  }
}

await main();
process.exit(0);
