// Builds the DockLock example jobs: examples/jobs/<name>/index.ts → examples/jobs/<name>.wasm.
//
//   node examples/jobs/build.mjs           build every job, check it, write the .wasm files
//   node examples/jobs/build.mjs --check   build and check, and fail if a checked-in .wasm differs
//
// Every job is compiled twice (the two builds must give the same bytes), then checked: valid under
// exactly the wasm features DockLock allows, imports only the docklock ABI v1 functions with their
// exact signatures, exports `run: () -> ()` and its memory as "memory".
import asc from 'assemblyscript/asc';
import wabtInit from 'wabt';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import process from 'node:process';
import console from 'node:console';

const JOBS_DIR = path.dirname(fileURLToPath(import.meta.url));

// asc 0.28 enables sign-extension, mutable-globals, nontrapping-f2i and bulk-memory by default and
// nothing else (no SIMD, threads, reference types, GC…): exactly within DockLock's set, so no
// --enable/--disable is needed; the wabt check below enforces it anyway.
export const ASC_FLAGS = [
  '-O3', // optimise for speed (optimizeLevel 3, shrinkLevel 0)
  '--runtime', 'stub', // a bump allocator that never frees: no GC, no GC exports
  '--use', 'abort=', // failed assertions and bounds checks become `unreachable`, not an env.abort import
  '--noColors',
];

// The wasm features DockLock allows, spelled out for wabt. Every key is given: wabt turns SIMD and
// reference types on when they are left out.
const FEATURES = {
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  multi_value: true,
  bulk_memory: true,
  exceptions: false,
  simd: false,
  threads: false,
  function_references: false,
  tail_call: false,
  reference_types: false,
  annotations: false,
  code_metadata: false,
  gc: false,
  memory64: false,
  multi_memory: false,
  extended_const: false,
  relaxed_simd: false,
};

// wabt's bulk_memory also admits the table instructions; DockLock takes only the memory ones.
const FORBIDDEN_TEXT = /\b(table\.\w+|elem\.drop)\b/;

// The docklock ABI v1: import name → [params, results].
const ABI = {
  input_size: [[], ['i32']],
  input_read: [['i32', 'i32', 'i32'], ['i32']],
  output_write: [['i32', 'i32'], []],
  random_fill: [['i32', 'i32'], []],
  clock: [[], ['i64']],
  log: [['i32', 'i32'], []],
};

/** The jobs: every directory here with an index.ts. */
export async function listJobs() {
  const entries = await readdir(JOBS_DIR, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(path.join(JOBS_DIR, e.name, 'index.ts')))
    .map((e) => e.name)
    .sort();
}

/** Compiles one job in memory and returns its bytes. */
export async function compile(name) {
  let binary = null;
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  const args = [`${name}/index.ts`, '--outFile', `${name}.wasm`, '--baseDir', JOBS_DIR, ...ASC_FLAGS];
  const { error } = await asc.main(args, {
    stdout,
    stderr,
    writeFile(filename, contents) {
      if (filename === `${name}.wasm`) binary = contents;
    },
  });
  if (error || !binary) throw new Error(`asc failed on ${name}: ${error?.message ?? 'no output'}\n${stderr.toString()}`);
  return Uint8Array.from(binary);
}

// --- a minimal reader of the wasm sections the checks need ---

const VALTYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS = ['func', 'table', 'memory', 'global', 'tag'];

function reader(bytes, pos = 0) {
  const r = {
    pos,
    byte: () => bytes[r.pos++],
    u32() {
      let result = 0;
      let shift = 0;
      for (;;) {
        const b = r.byte();
        result |= (b & 0x7f) << shift;
        if (!(b & 0x80)) return result >>> 0;
        shift += 7;
      }
    },
    name() {
      const len = r.u32();
      const s = new TextDecoder().decode(bytes.subarray(r.pos, r.pos + len));
      r.pos += len;
      return s;
    },
    valtypes() {
      return Array.from({ length: r.u32() }, () => VALTYPES[r.byte()] ?? 'unknown');
    },
  };
  return r;
}

/** Reads the types, imports, function types, exports and section ids of a (valid) module. */
export function inspect(bytes) {
  const types = [];
  const imports = [];
  const funcTypes = []; // the type index of every function, imported ones first
  const exports = [];
  const sections = [];
  const r = reader(bytes, 8);
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    sections.push(id);
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        if (r.byte() !== 0x60) throw new Error('unexpected type form');
        types.push([r.valtypes(), r.valtypes()]);
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const imp = { module: r.name(), name: r.name(), kind: KINDS[r.byte()] };
        if (imp.kind === 'func') funcTypes.push((imp.type = r.u32()));
        imports.push(imp);
        if (imp.kind !== 'func') break; // the checks reject any other import kind; stop decoding here
      }
    } else if (id === 3) {
      for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) exports.push({ name: r.name(), kind: KINDS[r.byte()], index: r.u32() });
    }
    r.pos = end;
  }
  return { types, imports, funcTypes, exports, hasStart: sections.includes(8) };
}

const sig = ([params, results]) => `(${params.join(', ')}) -> (${results.join(', ')})`;

/** Checks one built job; returns a list of problems (empty when it is fine). */
export function check(wabt, bytes) {
  const problems = [];
  let text;
  try {
    // A copy: wabt.js reads a view's whole underlying ArrayBuffer from 0 (byteOffset and length ignored).
    const m = wabt.readWasm(new Uint8Array(bytes), FEATURES);
    try {
      m.validate();
      text = m.toText({});
    } finally {
      m.destroy();
    }
  } catch (err) {
    return [`not valid under DockLock's features: ${err.message.trim()}`];
  }
  const forbidden = text.match(FORBIDDEN_TEXT);
  if (forbidden) problems.push(`uses ${forbidden[0]}`);

  const { types, imports, funcTypes, exports } = inspect(bytes);
  for (const imp of imports) {
    const expected = imp.module === 'docklock' && imp.kind === 'func' ? ABI[imp.name] : undefined;
    if (!expected) {
      problems.push(`imports ${imp.kind} ${imp.module}.${imp.name}, not part of the docklock ABI`);
    } else if (sig(types[imp.type]) !== sig(expected)) {
      problems.push(`imports docklock.${imp.name} as ${sig(types[imp.type])}, the ABI has ${sig(expected)}`);
    }
  }
  const run = exports.find((e) => e.name === 'run');
  if (!run || run.kind !== 'func') problems.push('does not export a function "run"');
  else if (sig(types[funcTypes[run.index]]) !== '() -> ()') problems.push(`run is ${sig(types[funcTypes[run.index]])}, not () -> ()`);
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) problems.push('does not export its memory as "memory"');
  return problems;
}

async function main() {
  const checkOnly = process.argv.includes('--check');
  const wabt = await wabtInit();
  let failed = false;
  for (const name of await listJobs()) {
    const bytes = await compile(name);
    const again = await compile(name);
    const problems = check(wabt, bytes);
    if (Buffer.compare(bytes, again) !== 0) problems.push('two builds gave different bytes');

    const file = path.join(JOBS_DIR, `${name}.wasm`);
    const committed = existsSync(file) ? new Uint8Array(await readFile(file)) : null;
    const same = committed !== null && Buffer.compare(bytes, committed) === 0;
    if (checkOnly && !same) problems.push(`${name}.wasm is not what the sources build (run npm run build:jobs)`);
    if (!checkOnly && problems.length === 0 && !same) await writeFile(file, bytes);

    const { imports, hasStart } = inspect(bytes);
    const note = `${imports.map((i) => i.name).join(', ')}${hasStart ? '; start function' : ''}`;
    console.log(`${problems.length ? 'FAIL' : 'ok  '} ${`${name}.wasm`.padEnd(16)} ${String(bytes.length).padStart(6)} bytes  ${same ? 'unchanged' : checkOnly ? 'DIFFERS' : 'written'}  (${note})`);
    for (const p of problems) console.log(`       ${p}`);
    failed ||= problems.length > 0;
  }
  if (failed) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
