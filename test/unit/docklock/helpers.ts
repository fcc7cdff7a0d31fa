/** Shared by the DockLock unit tests: WAT to wasm (wabt), the ABI imports, a job spec. */
import { readFileSync } from 'node:fs';
import wabt from 'wabt';
import type { JobSpec } from '../../../docklock/index.js';

/** DockLock's whitelist, as wabt features. */
export const DOCKLOCK_FEATURES = { mutable_globals: true, sat_float_to_int: true, sign_extension: true, multi_value: true, bulk_memory: true };

/** Every feature wabt knows, to write programs DockLock must refuse. */
export const ALL_FEATURES = {
  ...DOCKLOCK_FEATURES,
  simd: true,
  threads: true,
  exceptions: true,
  reference_types: true,
  tail_call: true,
  memory64: true,
  multi_memory: true,
  extended_const: true,
};

let module: ReturnType<typeof wabt> | undefined;

/** WAT text to wasm bytes (a copy of wabt's buffer: wabt.js misreads views with a byte offset). */
export async function wat(text: string, features: Record<string, boolean> = DOCKLOCK_FEATURES, opts: { names?: boolean } = {}): Promise<Uint8Array> {
  const w = await (module ??= wabt());
  const m = w.parseWat('test.wat', text, features);
  try {
    return new Uint8Array(m.toBinary({ write_debug_names: opts.names ?? false }).buffer);
  } finally {
    m.destroy();
  }
}

/** The module's text, as wabt prints it (to look inside an instrumented module). */
export async function wasmText(bytes: Uint8Array): Promise<string> {
  const w = await (module ??= wabt());
  const m = w.readWasm(new Uint8Array(bytes), { readDebugNames: false, ...DOCKLOCK_FEATURES });
  try {
    return m.toText({ foldExprs: false, inlineExport: false });
  } finally {
    m.destroy();
  }
}

/** The six ABI imports, named $input_size … $log. */
export const IMPORTS = `
  (import "docklock" "input_size" (func $input_size (result i32)))
  (import "docklock" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "docklock" "output_write" (func $output_write (param i32 i32)))
  (import "docklock" "random_fill" (func $random_fill (param i32 i32)))
  (import "docklock" "clock" (func $clock (result i64)))
  (import "docklock" "log" (func $log (param i32 i32)))`;

export function spec(over: Partial<JobSpec> = {}): JobSpec {
  return { jobId: new Uint8Array(32).fill(0x11), input: new Uint8Array(0), fuel: 10_000_000, clock: 1_700_000_000_000n, ...over };
}

export const EXAMPLE_JOBS = ['sha256', 'sort', 'blur', 'mandelbrot', 'hostcalls'] as const;
const EXAMPLE_INPUTS: Record<(typeof EXAMPLE_JOBS)[number], string> = {
  sha256: 'abc.bin',
  sort: 'sort-1024.bin',
  blur: 'blur-64x64.bin',
  mandelbrot: 'mandelbrot-64x64x100.bin',
  hostcalls: 'hostcalls.bin',
};
const JOBS_DIR = new URL('../../../../examples/jobs/', import.meta.url);

export function exampleJob(name: (typeof EXAMPLE_JOBS)[number]): { program: Uint8Array; input: Uint8Array } {
  return { program: new Uint8Array(readFileSync(new URL(`${name}.wasm`, JOBS_DIR))), input: new Uint8Array(readFileSync(new URL(`inputs/${EXAMPLE_INPUTS[name]}`, JOBS_DIR))) };
}

/** u32 values little-endian. */
export const u32le = (...xs: number[]): Uint8Array => new Uint8Array(Uint32Array.from(xs).buffer);

export function u64le(x: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, x, true);
  return b;
}

/** Section ids of a module, in order (0 = custom). */
export function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++]!;
    let size = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++]!;
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    ids.push(id);
    p += size;
  }
  return ids;
}
