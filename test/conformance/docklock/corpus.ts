/**
 * The DockLock conformance corpus (corpus.json next to this file, in the source tree): what it
 * holds, how its programs are built and how a vector is run. Shared by the generator
 * (generate.ts), the test (corpus.test.ts) and the script the test runs in child processes
 * (run-corpus.ts), so that all three read and run the vectors the same way.
 */
import { readFileSync } from 'node:fs';
import { blake3 } from '@noble/hashes/blake3.js';
import wabt from 'wabt';
import { fromHex, toHex, utf8 } from '../../../chain/index.js';
import {
  ABI,
  ABI_VERSION,
  CONSENSUS_CONSTANTS,
  JOB_STATUS_NAMES,
  execute,
  loadProgram,
  type JobLimits,
  type JobResult,
  type JobSpec,
  type LoadedProgram,
  type Usage,
} from '../../../docklock/index.js';

export const CORPUS_VERSION = 'docklock-corpus-1';

/** test/conformance/docklock/ in the source tree (this file runs from dist/test/conformance/docklock/). */
export const CORPUS_DIR = new URL('../../../../test/conformance/docklock/', import.meta.url);
export const REPO_ROOT = new URL('../../../../', import.meta.url);
export const CORPUS_FILE = new URL('corpus.json', CORPUS_DIR);

/** What a vector pins: every field a receipt carries about the result, and the instrumented module's hash. */
export interface Expectation {
  status: string;
  trap: string;
  fuelUsed: number;
  outputHash: string;
  witnessRoot: string;
  programHash: string;
  usage: Usage;
}

/** A vector's job. `program` is "programs/x.wat" (in this directory) or a path from the repository's root. */
export interface VectorJob {
  name: string;
  program: string;
  /** 0x-hex. */
  input: string;
  fuel: number;
  /** Decimal (a u64). */
  clock: string;
  /** 0x-hex, 32 bytes. */
  jobId: string;
  limits?: Partial<JobLimits>;
  fuelCap?: number;
}

export interface Vector extends VectorJob {
  expect: Expectation;
}

export interface Corpus {
  version: typeof CORPUS_VERSION;
  instrumenter: number;
  /** toHex(BLAKE3(JSON of DockLock's consensus constants and the ABI)): costTableHash(). */
  costTable: string;
  vectors: Vector[];
}

/** The hash the corpus records of DockLock's consensus constants (besides INSTRUMENTER_VERSION). */
export function costTableHash(): string {
  return toHex(blake3(utf8(JSON.stringify({ ...CONSENSUS_CONSTANTS, ABI_VERSION, ABI }))));
}

export function loadCorpus(): Corpus {
  return JSON.parse(readFileSync(CORPUS_FILE, 'utf8')) as Corpus;
}

/** The wabt features the corpus's programs are written with: exactly DockLock's whitelist. */
export const WAT_FEATURES = { mutable_globals: true, sat_float_to_int: true, sign_extension: true, multi_value: true, bulk_memory: true };

let wabtModule: ReturnType<typeof wabt> | undefined;

/** WAT text to a binary, with `features` (DockLock's by default). */
export async function compileWat(text: string, features: Record<string, boolean> = WAT_FEATURES, name = 'program.wat'): Promise<Uint8Array> {
  const w = await (wabtModule ??= wabt());
  const m = w.parseWat(name, text, features);
  try {
    // A copy: the buffer is a view into wabt's heap.
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

export function programUrl(path: string): URL {
  return new URL(path, path.startsWith('programs/') ? CORPUS_DIR : REPO_ROOT);
}

/** A vector's program, as bytes (a .wat is compiled with WAT_FEATURES). */
export async function programBytes(path: string): Promise<Uint8Array> {
  const url = programUrl(path);
  if (path.endsWith('.wat')) return compileWat(readFileSync(url, 'utf8'), WAT_FEATURES, path);
  return new Uint8Array(readFileSync(url));
}

/** Every distinct program of the corpus, by path. */
export async function loadProgramBytes(vectors: readonly VectorJob[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const v of vectors) if (!out.has(v.program)) out.set(v.program, await programBytes(v.program));
  return out;
}

export function vectorSpec(v: VectorJob): JobSpec {
  const spec: JobSpec = { jobId: fromHex(v.jobId, 32, 'jobId'), input: new Uint8Array(fromHex(v.input, undefined, 'input')), fuel: v.fuel, clock: BigInt(v.clock) };
  if (v.limits) spec.limits = v.limits;
  if (v.fuelCap !== undefined) spec.fuelCap = v.fuelCap;
  return spec;
}

/** What a result shows of the expectation's fields. */
export function observe(programHash: Uint8Array, r: JobResult): Expectation {
  return {
    status: JOB_STATUS_NAMES[r.status],
    trap: r.trap,
    fuelUsed: r.fuelUsed,
    outputHash: toHex(r.outputHash),
    witnessRoot: toHex(r.witnessRoot),
    programHash: toHex(programHash),
    usage: { memoryPages: r.usage.memoryPages, hostCalls: r.usage.hostCalls, outputBytes: r.usage.outputBytes, logBytes: r.usage.logBytes },
  };
}

/** Runs every vector on this thread: its observation, by name. */
export function runVectors(vectors: readonly VectorJob[], programs: Map<string, Uint8Array>): Record<string, Expectation> {
  const loaded = new Map<string, LoadedProgram>();
  const out: Record<string, Expectation> = {};
  for (const v of vectors) {
    let p = loaded.get(v.program);
    if (!p) loaded.set(v.program, (p = loadProgram(programs.get(v.program)!)));
    out[v.name] = observe(p.hash, execute(p, vectorSpec(v)));
  }
  return out;
}
