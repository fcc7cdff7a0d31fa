/**
 * Writes test/conformance/docklock/corpus.json: runs every vector below on this thread and records
 * what it gives. Run by hand, on purpose, only when INSTRUMENTER_VERSION or the cost table changed
 * (or to add a vector):
 *
 *   npx tsc -p tsconfig.json && node dist/test/conformance/docklock/generate.js
 *
 * The corpus exists to catch a change of DockLock's results that nobody meant: regenerating it to
 * make corpus.test.ts pass again defeats it. Review the diff of corpus.json vector by vector.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { blake3 } from '@noble/hashes/blake3.js';
import { toHex, utf8 } from '../../../chain/index.js';
import { INSTRUMENTER_VERSION, type JobLimits } from '../../../docklock/index.js';
import { CORPUS_FILE, CORPUS_VERSION, REPO_ROOT, costTableHash, loadProgramBytes, runVectors, type Corpus, type Vector, type VectorJob } from './corpus.js';

/** u32 little-endian values as 0x-hex. */
const u32 = (...xs: number[]): string => toHex(new Uint8Array(Uint32Array.from(xs).buffer));
const text = (s: string): string => toHex(utf8(s));
const file = (path: string): string => toHex(readFileSync(new URL(path, REPO_ROOT)));

/** 2023-11-14T22:13:20Z: a block's timestamp, in ms. */
const CLOCK = '1700000000000';

interface Def {
  name: string;
  program: string;
  input?: string;
  fuel?: number;
  clock?: string;
  limits?: Partial<JobLimits>;
  fuelCap?: number;
}

const P = (name: string) => `programs/${name}.wat`;

const DEFS: Def[] = [
  // Fuel: the job costs exactly 5102: 100 to start (no memory, no data) and 5002 for the loop (see fuel-loop.wat).
  { name: 'fuel-exact', program: P('fuel-loop'), fuel: 5102 },
  { name: 'fuel-one-short', program: P('fuel-loop'), fuel: 5101 },
  { name: 'fuel-at-cap', program: P('fuel-loop'), fuel: 5102, fuelCap: 5102 },
  { name: 'rejected-fuel-over-cap', program: P('fuel-loop'), fuel: 5102, fuelCap: 5101 },
  { name: 'input-at-cap', program: P('fuel-loop'), input: text('abcd'), fuel: 5102, limits: { maxInputBytes: 4 } },
  { name: 'rejected-input-too-large', program: P('fuel-loop'), input: text('abcde'), fuel: 5102, limits: { maxInputBytes: 4 } },
  { name: 'start-unpaid', program: P('fuel-loop'), fuel: 99 },
  // The stack limit: 1820 calls of an 18-unit frame fit (see recurse.wat).
  { name: 'stack-deepest', program: P('recurse'), input: u32(1818) },
  { name: 'stack-exhausted', program: P('recurse'), input: u32(1819) },
  // Memory.
  { name: 'grow-none', program: P('grow'), input: u32(0) },
  { name: 'grow-3', program: P('grow'), input: u32(3) },
  { name: 'grow-to-max', program: P('grow'), input: u32(255) }, // from 1 page to MAX_PAGES (256)
  { name: 'grow-past-max', program: P('grow'), input: u32(256) },
  { name: 'grow-huge', program: P('grow'), input: u32(0xffffffff) },
  { name: 'grow-declared-max', program: P('grow-declared-max'), input: u32(1) },
  { name: 'grow-past-declared-max', program: P('grow-declared-max'), input: u32(2) },
  // Every trap kind.
  { name: 'trap-unreachable', program: P('unreachable') },
  { name: 'trap-memory-out-of-bounds', program: P('oob-load') },
  { name: 'trap-host-bad-pointer', program: P('oob-host') },
  { name: 'trap-divide-by-zero', program: P('divide-by-zero') },
  { name: 'trap-integer-overflow', program: P('integer-overflow') },
  { name: 'trap-invalid-conversion-nan', program: P('invalid-conversion') },
  { name: 'trap-invalid-conversion-1e100', program: P('invalid-conversion'), input: '0x01' },
  { name: 'trap-table-out-of-bounds', program: P('table-out-of-bounds') },
  { name: 'trap-indirect-signature', program: P('indirect-call-mismatch') },
  { name: 'trap-indirect-null', program: P('indirect-call-mismatch'), input: '0x01' },
  { name: 'trap-output-limit', program: P('output-limit') },
  { name: 'trap-log-lines', program: P('log-limit') },
  { name: 'trap-log-bytes', program: P('log-limit'), limits: { maxLogBytes: 100 } },
  // Floats.
  { name: 'nan-canonical', program: P('nan') },
  // Bulk memory: [fill, copy] lengths.
  { name: 'bulk-empty', program: P('bulk'), input: u32(0, 0) },
  { name: 'bulk-small', program: P('bulk'), input: u32(1, 9) },
  { name: 'bulk-large', program: P('bulk'), input: u32(60000, 4000) },
  { name: 'bulk-fill-out-of-bounds', program: P('bulk'), input: u32(200000, 0) },
  // The start function.
  { name: 'start', program: P('start') },
  // 8292 to start (100 + one page), then 4 of the start function's 5.
  { name: 'start-out-of-fuel', program: P('start'), fuel: 8296 },
  // Every host call.
  { name: 'hostcalls', program: P('hostcalls'), input: text('docklock corpus') },
  { name: 'hostcalls-clock-u64-max', program: P('hostcalls'), input: '0x', clock: '18446744073709551615' },
  // The example jobs, each with its sample input.
  { name: 'example-sha256', program: 'examples/jobs/sha256.wasm', input: file('examples/jobs/inputs/abc.bin'), fuel: 100_000_000 },
  { name: 'example-sort', program: 'examples/jobs/sort.wasm', input: file('examples/jobs/inputs/sort-1024.bin'), fuel: 100_000_000 },
  { name: 'example-blur', program: 'examples/jobs/blur.wasm', input: file('examples/jobs/inputs/blur-64x64.bin'), fuel: 100_000_000 },
  { name: 'example-mandelbrot', program: 'examples/jobs/mandelbrot.wasm', input: file('examples/jobs/inputs/mandelbrot-64x64x100.bin'), fuel: 100_000_000 },
  { name: 'example-hostcalls', program: 'examples/jobs/hostcalls.wasm', input: file('examples/jobs/inputs/hostcalls.bin'), fuel: 100_000_000 },
];

function job(d: Def): VectorJob {
  const v: VectorJob = {
    name: d.name,
    program: d.program,
    input: d.input ?? '0x',
    fuel: d.fuel ?? 10_000_000,
    clock: d.clock ?? CLOCK,
    jobId: toHex(blake3(utf8(`${CORPUS_VERSION}/${d.name}`))),
  };
  if (d.limits) v.limits = d.limits;
  if (d.fuelCap !== undefined) v.fuelCap = d.fuelCap;
  return v;
}

console.warn(
  'WARNING: rewriting the DockLock conformance corpus. Do this only on purpose: when INSTRUMENTER_VERSION ' +
    'or the cost table changed (and the version was bumped), or to add a vector. Review the diff of corpus.json.',
);
const jobs = DEFS.map(job);
if (new Set(jobs.map((j) => j.name)).size !== jobs.length) throw new Error('two vectors share a name');
const results = runVectors(jobs, await loadProgramBytes(jobs));
const vectors: Vector[] = jobs.map((j) => ({ ...j, expect: results[j.name]! }));
const corpus: Corpus = { version: CORPUS_VERSION, instrumenter: INSTRUMENTER_VERSION, costTable: costTableHash(), vectors };
writeFileSync(CORPUS_FILE, JSON.stringify(corpus, null, 2) + '\n');
console.log(`wrote ${vectors.length} vectors to ${CORPUS_FILE.pathname}`);
