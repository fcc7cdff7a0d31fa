/**
 * In process: the cost of committing blocks to the entry log on disk (vm/state/entrystore.ts over
 * LevelDB), by phase, for a state of --keys keys and blocks of --writes updated keys: the same
 * keys, writes and LevelDB set-up as `bench/statecommit.js`, which measures the sparse Merkle tree
 * the node commits to now, so the two can be run side by side. The values themselves (which the
 * state keeps by key either way) are written in both.
 * `node dist/bench/entrystore.js [--keys 400000] [--writes 20000] [--blocks 8] [--bulk]` after a build
 * (--bulk: the state filled by EntryStore.load, in key order, instead of by blocks).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toKey, u64be } from '../chain/index.js';
import { Bucket, bucketKey, LevelKV, type BatchOp } from '../storage/index.js';
import { EntryStore } from '../vm/state/entrystore.js';
import { StateTable } from '../vm/state/storage.js';

const { values: a } = parseArgs({
  options: { keys: { type: 'string', default: '400000' }, writes: { type: 'string', default: '20000' }, blocks: { type: 'string', default: '8' }, cache: { type: 'string', default: '64' }, bulk: { type: 'boolean', default: false } },
});
const KEYS = Number(a.keys);
const WRITES = Number(a.writes);
const GENESIS_STEP = 200_000;
const dir = await mkdtemp(join(tmpdir(), 'metanode-entrystore-'));
const kv = await LevelKV.open(dir);
const view = kv.readView();
const storage = {
  value: (k: string) => view.get(bucketKey(Bucket.State, Uint8Array.from(k, (c) => c.charCodeAt(0)))),
  get: (k: Uint8Array) => view.get(bucketKey(Bucket.StateStore, k)),
  refresh: () => view.refresh(),
};
const cacheBytes = Number(a.cache) * 1024 * 1024;
const key = (i: number) => toKey(new Uint8Array([...new TextEncoder().encode('bank/bal/'), ...u64be(i * 2_654_435_761)]));
async function write(writes: Map<string, Uint8Array | null>, ops: readonly (readonly [Uint8Array, Uint8Array | null])[]) {
  const batch: BatchOp[] = [];
  for (const [k, v] of writes) {
    const sk = bucketKey(Bucket.State, Uint8Array.from(k, (c) => c.charCodeAt(0)));
    batch.push(v === null ? { type: 'del', key: sk } : { type: 'put', key: sk, value: v });
  }
  let bytes = 0;
  for (const [k, v] of ops) {
    bytes += k.length + (v?.length ?? 0);
    batch.push(v === null ? { type: 'del', key: bucketKey(Bucket.StateStore, k) } : { type: 'put', key: bucketKey(Bucket.StateStore, k), value: v });
  }
  await kv.batch(batch, { sync: true });
  return { ops: batch.length, bytes };
}
/** The heap's live size, collected first when the run has --expose-gc. */
const heapMiB = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round(process.memoryUsage().heapUsed / 1048576);
};
let store = EntryStore.empty(storage, cacheBytes);
const g0 = performance.now();
let height = 0;
if (a.bulk) {
  // EntryStore.load: the keys in order (key(i) ascends with i), appended; the values written beside.
  async function* sorted(): AsyncGenerator<readonly [string, Uint8Array]> {
    for (let i = 0; i < KEYS; i++) yield [key(i), u64be(i)];
  }
  let pendingValues = new Map<string, Uint8Array | null>();
  async function* withValues(): AsyncGenerator<readonly [string, Uint8Array]> {
    for await (const [k, v] of sorted()) {
      pendingValues.set(k, v);
      yield [k, v];
    }
  }
  store = await EntryStore.load(storage, withValues(), height++, async (ops) => {
    await write(pendingValues, ops);
    pendingValues = new Map();
  }, { cacheBytes });
}
for (let at = 0; !a.bulk && at < KEYS; at += GENESIS_STEP) {
  const genesis = new Map<string, Uint8Array | null>();
  for (let i = at; i < Math.min(KEYS, at + GENESIS_STEP); i++) genesis.set(key(i), u64be(i));
  const s = store.stage(genesis, height++);
  await write(genesis, s.ops);
  store.apply(s);
}
console.log(`genesis of ${KEYS} keys (${a.bulk ? 'bulk load' : `${height} blocks`}): ${((performance.now() - g0) / 1000).toFixed(1)} s`);
// Reopen: a node after a restart, caches cold.
const dirEntries: [Uint8Array, Uint8Array][] = [];
for await (const [k, v] of kv.entries({ gte: bucketKey(Bucket.StateStore, Uint8Array.of(StateTable.Directory)), lt: bucketKey(Bucket.StateStore, Uint8Array.of(StateTable.Directory + 1)) })) dirEntries.push([k.subarray(1), v]);
const o0 = performance.now();
store = EntryStore.open(storage, dirEntries, cacheBytes);
console.log(`reopened in ${(performance.now() - o0).toFixed(0)} ms (${store.tree.twigCount} twigs)`);
for (let b = 1; b <= Number(a.blocks); b++, height++) {
  const writes = new Map<string, Uint8Array | null>();
  for (let j = 0; j < WRITES; j++) writes.set(key((b * 7919 + j * 104_729) % KEYS), u64be(b * 1000 + j));
  const reads0 = store.reads;
  const tr = performance.now();
  for (const k of writes.keys()) store.record(k); // what execution reads (statecommit.js reads the values here)
  const t0 = performance.now();
  const staged = store.stage(writes, height);
  const t1 = performance.now();
  const { ops, bytes } = await write(writes, staged.ops);
  const t2 = performance.now();
  store.apply(staged);
  const t3 = performance.now();
  console.log(`block ${b}: read ${(t0 - tr).toFixed(0)} ms (${store.reads - reads0} records), stage ${(t1 - t0).toFixed(0)} ms ( ${staged.plan.moved} entries compacted), batch ${(t2 - t1).toFixed(0)} ms (${ops} ops, ${(bytes / 1048576).toFixed(1)} MiB), apply ${(t3 - t2).toFixed(0)} ms; total ${(t3 - tr).toFixed(0)} ms; heap ${heapMiB()} MiB`);
}
// Proofs at the head and at a height a few blocks back (its tree rewound once, then reused).
for (const back of [0, 4]) {
  const h = height - 1 - back;
  if (h < store.oldestReadable) continue;
  const p0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < 200; i++) {
    const p = store.proofAt(h, Uint8Array.from(key((i * 7_777) % KEYS), (c) => c.charCodeAt(0)))!;
    if (i === 0) console.log(`first proof at ${back} blocks back: ${(performance.now() - p0).toFixed(1)} ms`);
    bytes = 32 * (p.proof.twigPath.length + p.proof.bitsPath.length + p.proof.upperPath.length + 2) + 8 + p.proof.entry.key.length + p.proof.entry.next.length;
  }
  console.log(`proofs ${back} blocks back: ${((performance.now() - p0) / 200).toFixed(2)} ms each on average, ${bytes} bytes`);
}
await kv.close();
await rm(dir, { recursive: true, force: true });
