// Runs a DockLock job in plain V8, with no fuel metering and no NaN canonicalisation: a quick way
// to check what a job computes, not how DockLock runs it.
//
//   node examples/jobs/run-plain.mjs <job.wasm> <input-hex | @file>
//
// Prints the output as hex on stdout and the job's log lines on stderr. The random stream is a
// fixed counter pattern (byte i of the stream is i*37+11 mod 256) and the clock reads 0.
/* global WebAssembly */
import { readFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import { TextDecoder } from 'node:util';
import path from 'node:path';
import process from 'node:process';
import console from 'node:console';

export const OUTPUT_CAP = 64 * 1024;
const LOG_CAP = 256;

/** Instantiates the job, calls run() and returns { output, logs }. Throws when the job traps. */
export async function runPlain(wasm, input, { clock = 0n } = {}) {
  let memory = null;
  const view = (ptr, len) => {
    ptr >>>= 0;
    len >>>= 0;
    if (ptr + len > memory.buffer.byteLength) throw new Error(`host call out of bounds: ${ptr}+${len}`);
    return new Uint8Array(memory.buffer, ptr, len);
  };
  const output = [];
  let outputSize = 0;
  let randomPos = 0;
  const logs = [];

  const docklock = {
    input_size: () => input.length,
    input_read(offset, ptr, len) {
      offset >>>= 0;
      const n = Math.max(0, Math.min(len >>> 0, input.length - offset));
      view(ptr, n).set(input.subarray(offset, offset + n));
      return n;
    },
    output_write(ptr, len) {
      outputSize += len >>> 0;
      if (outputSize > OUTPUT_CAP) throw new Error(`output over the ${OUTPUT_CAP}-byte cap`);
      output.push(Buffer.from(view(ptr, len)));
    },
    random_fill(ptr, len) {
      const dst = view(ptr, len);
      for (let i = 0; i < dst.length; i++) dst[i] = ((randomPos++) * 37 + 11) & 0xff;
    },
    clock: () => clock,
    log(ptr, len) {
      logs.push(new TextDecoder().decode(view(ptr, Math.min(len >>> 0, LOG_CAP))));
    },
  };

  const { instance } = await WebAssembly.instantiate(wasm, { docklock });
  memory = instance.exports.memory;
  instance.exports.run();
  return { output: Buffer.concat(output), logs };
}

/** An input argument: hex, or @path to read a file. */
export function parseInput(arg) {
  if (arg.startsWith('@')) return readFileSync(arg.slice(1));
  if (!/^([0-9a-fA-F]{2})*$/.test(arg)) throw new Error('the input must be hex or @file');
  return Buffer.from(arg, 'hex');
}

async function main() {
  const [wasmPath, inputArg = ''] = process.argv.slice(2);
  if (!wasmPath) {
    console.error('usage: node examples/jobs/run-plain.mjs <job.wasm> <input-hex | @file>');
    process.exit(2);
  }
  const { output, logs } = await runPlain(readFileSync(wasmPath), parseInput(inputArg));
  for (const line of logs) console.error(`log: ${line}`);
  console.log(output.toString('hex'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
