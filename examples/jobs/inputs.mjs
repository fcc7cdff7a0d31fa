// Writes the sample inputs in examples/jobs/inputs/. They are generated from a fixed seed, so
// running this again gives the same bytes.
//
//   node examples/jobs/inputs.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import process from 'node:process';
import console from 'node:console';

const INPUTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'inputs');

/** mulberry32: a small seeded generator of u32 values. */
export function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** width u16 LE, height u16 LE, then the pixels: a diagonal gradient, a bright disc and some noise. */
export function blurImage(width, height, next) {
  const image = Buffer.alloc(4 + width * height);
  image.writeUInt16LE(width, 0);
  image.writeUInt16LE(height, 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - width / 2;
      const dy = y - height / 2;
      const disc = dx * dx + dy * dy < (width * height) / 16 ? 96 : 0;
      const value = Math.floor(((x + y) * 128) / (width + height)) + disc + (next() % 32);
      image[4 + y * width + x] = Math.min(255, value);
    }
  }
  return image;
}

export function header(...values) {
  const bytes = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => bytes.writeUInt16LE(v, i * 2));
  return bytes;
}

export function sampleInputs() {
  const next = generator(0xd0c10c);
  const sort = Buffer.alloc(4096);
  for (let i = 0; i < sort.length; i += 4) sort.writeUInt32LE(next(), i);
  return {
    'abc.bin': Buffer.from('abc'),
    'sort-1024.bin': sort, // 1024 values, 4 KiB
    'blur-64x64.bin': blurImage(64, 64, next),
    'mandelbrot-64x64x100.bin': header(64, 64, 100),
    'hostcalls.bin': Buffer.from('hello, DockLock'),
  };
}

function main() {
  mkdirSync(INPUTS_DIR, { recursive: true });
  for (const [name, bytes] of Object.entries(sampleInputs())) {
    writeFileSync(path.join(INPUTS_DIR, name), bytes);
    console.log(`${name.padEnd(26)} ${String(bytes.length).padStart(5)} bytes`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
