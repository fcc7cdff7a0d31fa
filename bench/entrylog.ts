/**
 * In process: what the entry log's commitment (vm/state/twigs.ts, chain/stateentry.ts) costs a
 * block, and the memory it holds, at a state of --entries active entries: each block appends
 * --writes entries and deactivates as many (a key updated: its new entry in, its old one out, at
 * a random place in the log). Only the Merkle work: the key index and the entries' own records
 * are LevelDB's, and not in this figure. Compare `bench/statecommit.js`'s tree phase for the
 * sparse Merkle tree the node commits to now.
 * `node dist/bench/entrylog.js [--entries 4000000] [--writes 20000] [--blocks 8] [--proofs 200]`
 * after a build; the 40,000,000 case fits in well under a GB but takes a minute to fill.
 */
import { parseArgs } from 'node:util';
import { rootOfEntryPath, TWIG_ENTRIES } from '../chain/stateentry.js';
import { TwigTree } from '../vm/state/twigs.js';

const { values: a } = parseArgs({
  options: { entries: { type: 'string', default: '4000000' }, writes: { type: 'string', default: '20000' }, blocks: { type: 'string', default: '8' }, proofs: { type: 'string', default: '200' } },
});
const N = Number(a.entries);
/** Updates a block: at most half the entries (they must find active ones to replace). */
const W = Math.min(Number(a.writes), Math.floor(Number(a.entries) / 2));
const BLOCKS = Number(a.blocks);
const PROOFS = Number(a.proofs);

/** A seeded stream (mulberry32): the same log every run. */
let seed = 12345;
function u32(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
/** A distinct, non-zero stand-in for an entry hash. */
function entryHash(i: number): Uint8Array {
  const h = new Uint8Array(32);
  const v = new DataView(h.buffer);
  for (let w = 0; w < 8; w++) v.setUint32(4 * w, u32());
  v.setUint32(0, i + 1);
  return h;
}

const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => {
  gc?.();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
};

// Twigs whose entry trees are kept for the proofs (a node stores every full twig's; here a sample).
const sampleTwigs = new Set<number>();
for (let i = 0; i < 16; i++) sampleTwigs.add(Math.floor((i / 16) * (N / TWIG_ENTRIES)));
const store = new Map<number, Uint8Array>();
const hashes = new Map<number, Uint8Array>();

const h0 = heap();
const f0 = performance.now();
let tree = TwigTree.empty();
const STEP = 64 * TWIG_ENTRIES;
for (let at = 0; at < N; at += STEP) {
  const appends: Uint8Array[] = [];
  for (let i = at; i < Math.min(N, at + STEP); i++) {
    const h = entryHash(i);
    appends.push(h);
    if (sampleTwigs.has(Math.floor(i / TWIG_ENTRIES)) && i % 64 === 0) hashes.set(i, h);
  }
  const u = tree.update({ appends, deactivate: [] });
  for (const f of u.filled) if (sampleTwigs.has(f.twig)) store.set(f.twig, f.nodes);
  tree = u.tree;
}
const fillS = (performance.now() - f0) / 1000;
const held = heap() - h0 - [...store.values()].reduce((s, n) => s + n.length, 0) - hashes.size * 200;
console.log(`${N.toLocaleString('en-US')} entries: filled in ${fillS.toFixed(1)} s; the trees' arrays ${(tree.bytes / 2 ** 20).toFixed(1)} MiB (${(tree.bytes / N).toFixed(2)} B an entry), the heap's growth ${(held / 2 ** 20).toFixed(1)} MiB`);

const times: number[] = [];
let next = N;
for (let b = 0; b < BLOCKS; b++) {
  const appends: Uint8Array[] = [];
  const deactivate = new Set<number>();
  while (deactivate.size < W) {
    const p = u32() % next;
    if (!hashes.has(p) && tree.isActive(p)) deactivate.add(p);
  }
  for (let i = 0; i < W; i++) appends.push(entryHash(next + i));
  const t0 = performance.now();
  const u = tree.update({ appends, deactivate });
  times.push(performance.now() - t0);
  tree = u.tree;
  next = tree.next;
}
times.sort((x, y) => x - y);
const med = times[Math.floor(times.length / 2)]!;
console.log(`blocks of ${W.toLocaleString('en-US')} updates: ${med.toFixed(1)} ms median (${times[0]!.toFixed(1)}–${times[times.length - 1]!.toFixed(1)}), ${((1000 * med) / W).toFixed(2)} µs an update`);

const positions = [...hashes.keys()].filter((p) => tree.isActive(p));
let bytes = 0;
const p0 = performance.now();
for (let i = 0; i < PROOFS; i++) {
  const p = positions[(u32() % positions.length) | 0]!;
  const path = tree.path(p, { twigNodes: (t) => store.get(t) });
  bytes = 32 * (path.twigPath.length + path.bitsPath.length + path.upperPath.length + 1) + 8;
  if (i < 20 && rootOfEntryPath(hashes.get(p)!, path) === undefined) throw new Error(`the path of position ${p} does not verify`);
}
console.log(`paths: ${((1000 * (performance.now() - p0)) / PROOFS).toFixed(0)} µs each, ${bytes} bytes (without the entry)`);
