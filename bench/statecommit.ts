/**
 * In process: the cost of committing blocks to the stored state (vm/state/stored.ts over LevelDB),
 * by phase — the tree update (hashing, reading nodes), staging (node records, undo set, key index),
 * the LevelDB batch, and apply — for a state of --keys keys and blocks of --writes updated keys.
 * `node dist/bench/statecommit.js [--keys 400000] [--writes 20000] [--blocks 8]` after a build.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toKey, u64be } from '../chain/index.js';
import { Bucket, bucketKey, LevelKV, type BatchOp } from '../storage/index.js';
import { StoredState } from '../vm/state/stored.js';
import { StateTable } from '../vm/state/storage.js';

const { values: a } = parseArgs({ options: { keys: { type: 'string', default: '400000' }, writes: { type: 'string', default: '20000' }, blocks: { type: 'string', default: '8' }, cache: { type: 'string', default: '64' } } });
const KEYS = Number(a.keys);
const WRITES = Number(a.writes);
const dir = await mkdtemp(join(tmpdir(), 'metanode-statecommit-'));
const kv = await LevelKV.open(dir);
const view = kv.readView();
const storage = {
  value: (k: string) => view.get(bucketKey(Bucket.State, Uint8Array.from(k, (c) => c.charCodeAt(0)))),
  get: (k: Uint8Array) => view.get(bucketKey(Bucket.StateStore, k)),
  refresh: () => view.refresh(),
};
const opts = { history: 16, cacheBytes: Number(a.cache) * 1024 * 1024 };
const key = (i: number) => toKey(new Uint8Array([...new TextEncoder().encode('bank/bal/'), ...u64be(i * 2_654_435_761)]));
async function write(writes: Map<string, Uint8Array | null>, ops: readonly (readonly [Uint8Array, Uint8Array | null])[]) {
  const batch: BatchOp[] = [];
  for (const [k, v] of writes) {
    const sk = bucketKey(Bucket.State, Uint8Array.from(k, (c) => c.charCodeAt(0)));
    batch.push(v === null ? { type: 'del', key: sk } : { type: 'put', key: sk, value: v });
  }
  for (const [k, v] of ops) batch.push(v === null ? { type: 'del', key: bucketKey(Bucket.StateStore, k) } : { type: 'put', key: bucketKey(Bucket.StateStore, k), value: v });
  await kv.batch(batch, { sync: true });
  return batch.length;
}
let state = StoredState.empty(storage, opts);
const genesis = new Map<string, Uint8Array | null>();
for (let i = 0; i < KEYS; i++) genesis.set(key(i), u64be(i));
const g0 = performance.now();
const gs = state.stage(genesis, state.tree.updateRaw(genesis), 0);
await write(genesis, gs.ops);
state.apply(gs);
console.log(`genesis of ${KEYS} keys: ${((performance.now() - g0) / 1000).toFixed(1)} s`);
// Reopen: a node after a restart, caches cold.
const dirEntries: [Uint8Array, Uint8Array][] = [];
for await (const [k, v] of kv.entries({ gte: bucketKey(Bucket.StateStore, Uint8Array.of(StateTable.Directory)), lt: bucketKey(Bucket.StateStore, Uint8Array.of(StateTable.Directory + 1)) })) dirEntries.push([k.subarray(1), v]);
state = StoredState.open(storage, dirEntries, opts);
for (let b = 1; b <= Number(a.blocks); b++) {
  const writes = new Map<string, Uint8Array | null>();
  for (let j = 0; j < WRITES; j++) writes.set(key((b * 7919 + j * 104_729) % KEYS), u64be(b * 1000 + j));
  const t0 = performance.now();
  for (const k of writes.keys()) state.getRaw(k); // what execution reads
  const t1 = performance.now();
  const tree = state.tree.updateRaw(writes);
  const t2 = performance.now();
  const staged = state.stage(writes, tree, b);
  const t3 = performance.now();
  const ops = await write(writes, staged.ops);
  const t4 = performance.now();
  state.apply(staged);
  const t5 = performance.now();
  console.log(`block ${b}: read ${(t1 - t0).toFixed(0)} ms, tree ${(t2 - t1).toFixed(0)} ms (${tree.updateStats.hashes} hashes, ${state.nodes.reads} node reads so far), stage ${(t3 - t2).toFixed(0)} ms, batch ${(t4 - t3).toFixed(0)} ms (${ops} ops), apply ${(t5 - t4).toFixed(0)} ms; total ${(t5 - t0).toFixed(0)} ms; heap ${Math.round(process.memoryUsage().heapUsed / 1048576)} MiB`);
}
await kv.close();
await rm(dir, { recursive: true, force: true });
