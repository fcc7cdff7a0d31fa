// Checks what every example job computes, in plain V8 (run-plain.mjs), against references in JS.
//
//   node examples/jobs/check.mjs
/* global WebAssembly */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import process from 'node:process';
import console from 'node:console';
import { runPlain } from './run-plain.mjs';
import { blurImage, generator, header, sampleInputs } from './inputs.mjs';

const JOBS_DIR = path.dirname(fileURLToPath(import.meta.url));
const wasm = (name) => readFileSync(path.join(JOBS_DIR, `${name}.wasm`));
const next = generator(42);
const randomBytes = (n) => Buffer.from(Array.from({ length: n }, () => next() & 0xff));

async function output(job, input, options) {
  return (await runPlain(wasm(job), input, options)).output;
}

async function traps(job, input) {
  await assert.rejects(runPlain(wasm(job), input), (err) => err instanceof WebAssembly.RuntimeError && /unreachable/.test(err.message));
}

// --- references ---

function blurReference(image) {
  const width = image.readUInt16LE(0);
  const height = image.readUInt16LE(2);
  const out = Buffer.from(image);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let count = 0;
      for (let yy = y - 1; yy <= y + 1; yy++) {
        for (let xx = x - 1; xx <= x + 1; xx++) {
          if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          sum += image[4 + yy * width + xx];
          count++;
        }
      }
      out[4 + y * width + x] = Math.floor(sum / count);
    }
  }
  return out;
}

function mandelbrotReference(width, height, maxIter) {
  const out = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) {
    const ci = -1.5 + (y + 0.5) * (3 / height);
    for (let x = 0; x < width; x++) {
      const cr = -2 + (x + 0.5) * (3 / width);
      let zr = 0;
      let zi = 0;
      let i = 0;
      while (i < maxIter) {
        const zr2 = zr * zr;
        const zi2 = zi * zi;
        if (zr2 + zi2 > 4) break;
        zi = 2 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        i++;
      }
      out[y * width + x] = Math.min(i, 255);
    }
  }
  return out;
}

const u32s = (values) => {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeUInt32LE(v, i * 4));
  return bytes;
};

// --- the checks ---

const checks = {
  async sha256() {
    const sha = (data) => createHash('sha256').update(data).digest();
    const inputs = [Buffer.alloc(0), Buffer.from('abc'), randomBytes(1 << 20)];
    for (let n = 1; n <= 200; n++) inputs.push(randomBytes(n)); // every padding case, several 4 KiB buffer tails
    inputs.push(randomBytes(4095), randomBytes(4096), randomBytes(4097), randomBytes(12345));
    for (const input of inputs) assert.deepEqual(await output('sha256', input), sha(input), `sha256 of ${input.length} bytes`);
    assert.equal((await output('sha256', Buffer.from('abc'))).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    return `${inputs.length} inputs (0 to 1 MiB) match node:crypto`;
  },

  async sort() {
    const cases = [
      [],
      [7],
      Array.from({ length: 10000 }, () => next()),
      Array.from({ length: 1000 }, () => next() % 10), // many duplicates
      Array.from({ length: 500 }, (_, i) => i), // sorted
      Array.from({ length: 500 }, (_, i) => 500 - i), // reversed
      [0xffffffff, 0, 0x80000000, 0x7fffffff, 1, 0xffffffff, 0], // unsigned order, not signed
    ];
    for (const values of cases) {
      const sorted = [...values].sort((a, b) => a - b);
      assert.deepEqual(await output('sort', u32s(values)), u32s(sorted), `sort of ${values.length} values`);
    }
    for (const n of [1, 2, 3, 5, 4099]) await traps('sort', randomBytes(n));
    return `${cases.length} arrays (up to 10k values) match Array.prototype.sort; lengths not a multiple of 4 trap`;
  },

  async blur() {
    const sizes = [[0, 0], [0, 5], [5, 0], [1, 1], [1, 7], [7, 1], [2, 2], [3, 3], [17, 13], [64, 64], [300, 200]];
    for (const [w, h] of sizes) {
      const image = Buffer.concat([header(w, h), randomBytes(w * h)]);
      assert.deepEqual(await output('blur', image), blurReference(image), `blur of ${w}×${h}`);
    }
    const smooth = blurImage(40, 30, next);
    assert.deepEqual(await output('blur', smooth), blurReference(smooth));
    for (const bad of [Buffer.alloc(0), Buffer.from([1, 0, 1]), Buffer.concat([header(3, 3), randomBytes(8)]), Buffer.concat([header(3, 3), randomBytes(10)]), header(0xffff, 0xffff)]) {
      await traps('blur', bad);
    }
    return `${sizes.length + 1} images match the JS reference; bad sizes trap`;
  },

  async mandelbrot() {
    for (const [w, h, maxIter] of [[32, 32, 50], [64, 64, 100], [7, 5, 1000], [1, 1, 0], [0, 3, 10], [200, 100, 300]]) {
      const out = await output('mandelbrot', header(w, h, maxIter));
      assert.equal(out.length, w * h + 8);
      assert.deepEqual(out.subarray(0, w * h), mandelbrotReference(w, h, maxIter), `mandelbrot ${w}×${h}×${maxIter}`);
      const bits = out.readBigUInt64LE(w * h);
      assert.equal(bits & 0x7ff0000000000000n, 0x7ff0000000000000n, 'the last 8 bytes are a NaN: exponent all ones');
      assert.notEqual(bits & 0x000fffffffffffffn, 0n, 'the last 8 bytes are a NaN: mantissa not zero');
    }
    const nan = (await output('mandelbrot', header(1, 1, 1))).readBigUInt64LE(1);
    for (const bad of [header(1, 1), Buffer.concat([header(1, 1, 1), Buffer.from([0])])]) await traps('mandelbrot', bad);
    await assert.rejects(runPlain(wasm('mandelbrot'), header(256, 256, 10)), /cap/); // 65544 bytes of output
    return `6 sizes match the JS reference; the NaN here is 0x${nan.toString(16)}; wrong lengths trap; over the output cap traps`;
  },

  async hostcalls() {
    const clock = 1_700_000_000_123n;
    for (const input of [Buffer.alloc(0), Buffer.from('hello, DockLock'), randomBytes(5000)]) {
      const { output: out, logs } = await runPlain(wasm('hostcalls'), input, { clock });
      const tail = Buffer.alloc(24);
      for (let i = 0; i < 16; i++) tail[i] = (i * 37 + 11) & 0xff; // run-plain's random stream
      tail.writeBigInt64LE(clock, 16);
      assert.deepEqual(out, Buffer.concat([Buffer.from(input).reverse(), tail]));
      assert.deepEqual(logs, [`hostcalls: ${input.length} bytes`]);
    }
    return 'reversed input, 16 random bytes, the clock (LE i64) and the log line are right';
  },

  async samples() {
    const expected = {
      'abc.bin': 'sha256',
      'sort-1024.bin': 'sort',
      'blur-64x64.bin': 'blur',
      'mandelbrot-64x64x100.bin': 'mandelbrot',
      'hostcalls.bin': 'hostcalls',
    };
    for (const [name, bytes] of Object.entries(sampleInputs())) {
      assert.deepEqual(readFileSync(path.join(JOBS_DIR, 'inputs', name)), bytes, `inputs/${name} is what inputs.mjs generates`);
      await runPlain(wasm(expected[name]), bytes);
    }
    return 'inputs/ match inputs.mjs and every job runs on its sample';
  },
};

let failed = false;
for (const [name, check] of Object.entries(checks)) {
  try {
    console.log(`ok   ${name}: ${await check()}`);
  } catch (err) {
    failed = true;
    console.log(`FAIL ${name}: ${err.stack}`);
  }
}
if (failed) process.exitCode = 1;
