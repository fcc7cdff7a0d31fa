/**
 * Per-stage cost of a transaction inside one node, without the network: admission to the
 * mempool, building a block, decoding and validating it as another validator would, and the
 * durable commit (LevelDB in a temp folder). Bank transfers from ACCOUNTS senders, BLOCK_TXS per
 * block; the median of BLOCKS blocks is reported in µs per transaction.
 * Run after a build: `node dist/bench/pipeline.js [--accounts N] [--txs N] [--blocks N] [--allocations]`.
 * --allocations samples every allocation of the timed stages (including what the GC collected)
 * and prints the bytes allocated per transaction by function.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { CommitCertificate, Transaction, addressFromPublicKey, commitVoteMessage, decodeBlock, ed25519Verify } from '../chain/index.js';
import { Blockchain, Mempool, ValidatorKey } from '../consensus/index.js';
import { buildGenesis, devAccountKey } from '../genesis/index.js';
import { ChainStore, LevelKV } from '../storage/index.js';
import { StateMachine } from '../vm/index.js';
import { encodeTransfer } from '../vm/modules/bank/index.js';
import { createModules } from '../vm/modules/index.js';

const { values: a } = parseArgs({ options: { accounts: { type: 'string', default: '2000' }, txs: { type: 'string', default: '10000' }, blocks: { type: 'string', default: '5' }, allocations: { type: 'boolean', default: false } } });
const ACCOUNTS = Number(a.accounts);
const BLOCK_TXS = Number(a.txs);
const BLOCKS = Number(a.blocks);
const CHAIN_ID = 'metanode-bench';

const logger = pino({ level: 'silent' });
const validator = ValidatorKey.generate();
const genesis = buildGenesis({
  chainId: CHAIN_ID,
  validators: [{ publicKey: validator.ed25519.publicKey, blsPublicKey: validator.bls.publicKey, blsProofOfPossession: validator.bls.proofOfPossession() }],
  devAccounts: ACCOUNTS,
});
const dir = await mkdtemp(join(tmpdir(), 'metanode-pipeline-'));
const kv = await LevelKV.open(join(dir, 'data'));
const store = await ChainStore.open(kv);
const { registry, bank } = createModules();
const sm = new StateMachine({ chainId: CHAIN_ID }, { registry, fees: bank });
const chain = await Blockchain.open(genesis, { store, sm, logger });
const mempool = new Mempool({ maxTxs: 1_000_000, maxBytes: 1 << 30 }, { chainId: CHAIN_ID, registry, fees: bank, state: () => chain.state, logger });

const keys = Array.from({ length: ACCOUNTS }, (_, i) => devAccountKey(i));
const addrs = keys.map((k) => addressFromPublicKey(k.publicKey));
const perBlock = Math.ceil(BLOCK_TXS / ACCOUNTS);
function blockTxs(b: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = 0; n < perBlock; n++) {
    for (let i = 0; i < ACCOUNTS && out.length < BLOCK_TXS; i++) {
      const nonce = BigInt(b * perBlock + n);
      out.push(Transaction.sign({ chainId: CHAIN_ID, nonce, sender: keys[i]!.publicKey, fee: 1000n, kind: 'bank.transfer', payload: encodeTransfer({ to: addrs[(i + 1) % ACCOUNTS]!, asset: 'NEX', amount: 1n }) }, keys[i]!).serialize());
    }
  }
  return out;
}

const stages = ['admit (incl. verify)', 'verify alone', 'build', 'encode block', 'decode block', 'validate', 'commit'] as const;
const times = new Map<string, number[]>(stages.map((s) => [s, []]));
const cpu = new Map<string, number[]>(stages.map((s) => [s, []]));
/** Wall time and process CPU time (every thread: LevelDB's, the GC's) of one stage, per transaction. */
const time = async <T>(stage: (typeof stages)[number], n: number, fn: () => T | Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await fn();
  const c = process.cpuUsage(c0);
  times.get(stage)!.push(((performance.now() - t0) * 1000) / n);
  cpu.get(stage)!.push((c.user + c.system) / n);
  return r;
};

process.stderr.write(`signing ${BLOCKS} × ${BLOCK_TXS} transfers from ${ACCOUNTS} accounts…\n`);
const raws = Array.from({ length: BLOCKS }, (_, b) => blockTxs(b));
const session = a.allocations ? new Session() : undefined;
const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session!.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r))));
if (session) {
  session.connect();
  await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
for (let b = 0; b < BLOCKS; b++) {
  const raw = raws[b]!;
  const txs = await time('admit (incl. verify)', raw.length, () => raw.map((r) => mempool.addRaw(r)));
  await time('verify alone', txs.length, () => txs.forEach((t) => ed25519Verify(t.sender, t.signingHash(), t.signature)));
  const { executed } = await time('build', raw.length, () => chain.build(validator.address, mempool.reap(BLOCK_TXS, 1 << 30), Date.now(), mempool.isVerified));
  const n = executed.block.transactions.length;
  const bytes = await time('encode block', n, () => executed.block.serialize());
  const decoded = await time('decode block', n, () => decodeBlock(bytes, (k) => mempool.pooled(k)));
  await time('validate', n, () => chain.validate(decoded, mempool.isVerified));
  const seal = validator.bls.sign(commitVoteMessage(CHAIN_ID, executed.block.height, 0, executed.block.hash()));
  const cert = CommitCertificate.aggregate(executed.block.height, 0, executed.block.hash(), 1, [{ index: 0, signature: seal }]);
  await time('commit', n, async () => {
    await chain.commit(executed, cert);
    mempool.update(executed.block.transactions);
  });
  if (n !== BLOCK_TXS) throw new Error(`block ${executed.block.height} holds ${n} transactions, expected ${BLOCK_TXS}`);
}
if (session) {
  interface HeapNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] }
  const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
  const bySite = new Map<string, number>();
  // Built-ins (subarray, push…) are charged to the function that called them.
  const walk = (n: HeapNode, caller: string) => {
    const f = n.callFrame;
    const k = f.url === '' && caller !== '' ? caller : `${f.functionName || '(anonymous)'}  ${f.url.replace(/.*\/(dist|node_modules)\//, '')}:${f.lineNumber + 1}`;
    bySite.set(k, (bySite.get(k) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, k);
  };
  walk(profile.head, '');
  const txCount = BLOCKS * BLOCK_TXS;
  const totalBytes = [...bySite.values()].reduce((x, y) => x + y, 0);
  console.log(`\nallocated: ${(totalBytes / txCount).toFixed(0)} bytes per transaction (all stages, signing excluded); by function:`);
  for (const [k, v] of [...bySite].sort((x, y) => y[1] - x[1]).slice(0, 40)) console.log(`${(v / txCount).toFixed(0).padStart(7)}  ${k}`);
}
await store.close();
await rm(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
console.log(`\nper-transaction cost, µs (median of ${BLOCKS} blocks of ${BLOCK_TXS} transfers, ${ACCOUNTS} accounts, Node ${process.version})\n`);
console.log(`${'stage'.padEnd(22)} ${'wall'.padStart(8)} ${'cpu'.padStart(8)}`);
for (const s of stages) console.log(`${s.padEnd(22)} ${median(times.get(s)!).toFixed(1).padStart(8)} ${median(cpu.get(s)!).toFixed(1).padStart(8)}`);
const sum = (ss: string[]) => ss.reduce((t, s) => t + median(times.get(s)!), 0);
console.log(`\nproposer (admit + build + commit):              ${sum(['admit (incl. verify)', 'build', 'commit']).toFixed(1)} µs/tx`);
console.log(`other validator (admit + decode + validate + commit): ${sum(['admit (incl. verify)', 'decode block', 'validate', 'commit']).toFixed(1)} µs/tx`);
