/**
 * State tree benchmark: one block's worth of writes (10,000 changes) applied to a state of
 * 100,000 keys. Run after a build with `node dist/bench/smt.js`.
 *
 * The batch is 80% overwrites, 10% new keys and 10% deletions. Each run starts from the same
 * base tree (it is persistent, so the base is never modified) and the median is reported.
 */
import { u64be, utf8, verifyStateProof } from '../chain/index.js';
import { SparseMerkleTree } from '../vm/state/smt.js';

const STATE_KEYS = 100_000;
const BATCH = 10_000;
const RUNS = 7;

const key = (i: number): Uint8Array => utf8(`account/${i}`);

function batch(run: number): [Uint8Array, Uint8Array | undefined][] {
  const out: [Uint8Array, Uint8Array | undefined][] = [];
  for (let j = 0; j < BATCH; j++) {
    const i = (j * 9973 + run * 7919) % STATE_KEYS; // spread over the whole state
    if (j % 10 === 0) out.push([key(STATE_KEYS + run * BATCH + j), u64be(j)]);
    else if (j % 10 === 1) out.push([key(i), undefined]);
    else out.push([key(i), u64be(BigInt(run) * 1_000_000n + BigInt(j))]);
  }
  return out;
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const result = fn();
  return [result, performance.now() - t0];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

const [base, buildMs] = time(() => SparseMerkleTree.empty().update(Array.from({ length: STATE_KEYS }, (_, i) => [key(i), u64be(i)] as const)));
console.log(`build ${STATE_KEYS} keys in one batch: ${ms(buildMs)} (${(base.updateStats.hashes / STATE_KEYS).toFixed(2)} hashes/key)`);

const batchMs: number[] = [];
let next = base;
for (let run = 0; run < RUNS; run++) {
  const changes = batch(run);
  const [t, elapsed] = time(() => base.update(changes));
  batchMs.push(elapsed);
  next = t;
}
const { changes, hashes } = next.updateStats;
const batchMedian = median(batchMs);
console.log(`apply ${BATCH} updates to ${STATE_KEYS} keys: median ${ms(batchMedian)} over ${RUNS} runs (${((batchMedian * 1000) / BATCH).toFixed(2)} µs/update)`);
console.log(`  ${changes} distinct changes, ${hashes} hashes = ${(hashes / changes).toFixed(2)} hashes/update (value + leaf + inner nodes; key paths are cached)`);

const [oneByOne, seqMs] = time(() => {
  let t = base;
  let total = 0;
  for (const c of batch(RUNS - 1)) {
    t = t.update([c]);
    total += t.updateStats.hashes;
  }
  return { t, total };
});
console.log(`same ${BATCH} updates one at a time: ${ms(seqMs)}, ${(oneByOne.total / BATCH).toFixed(2)} hashes/update, same root: ${String(oneByOne.t.root.every((b, i) => b === next.root[i]))}`);

const root = next.root;
const probe = Array.from({ length: 1000 }, (_, i) => key(i * 97));
const [proofs, proveMs] = time(() => probe.map((k) => next.prove(k)));
const [valid, verifyMs] = time(() => probe.filter((k, i) => verifyStateProof(root, k, next.get(k), proofs[i]!)).length);
const sides = proofs.reduce((s, p) => s + p.sideNodes.length, 0) / proofs.length;
console.log(`1000 proofs: prove ${ms(proveMs)}, verify ${ms(verifyMs)}, ${valid} valid, ${sides.toFixed(1)} side nodes on average`);
