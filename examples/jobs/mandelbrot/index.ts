// mandelbrot: iteration counts of the Mandelbrot set over [-2, 1] × [-1.5, 1.5], in f64 on purpose.
// Input: width u16 LE, height u16 LE, maxIter u16 LE (exactly 6 bytes, otherwise the job traps).
// Output: width*height bytes, row by row, each the number of iterations before |z| > 2
// (at most maxIter, clamped to 255), sampled at pixel centres; then 8 more bytes: the bits of a
// NaN computed at run time (the square root of a negative number) as a little-endian u64.
// Wasm leaves the bits of such a NaN to the machine, so that NaN is what a deterministic runtime
// has to canonicalise; the counts themselves are exact IEEE arithmetic, the same everywhere.
// The output is width*height + 8 bytes: keep it under the output cap (64×64 is 4104 bytes).

import { readInput, loadU16, output_write } from "../lib/docklock";

export function run(): void {
  const input = readInput();
  if (input.length != 6) unreachable();
  const width = loadU16(input.dataStart);
  const height = loadU16(input.dataStart + 2);
  const maxIter = loadU16(input.dataStart + 4);

  const row = new Uint8Array(width);
  const dx = 3.0 / <f64>width;
  const dy = 3.0 / <f64>height;
  for (let y = 0; y < height; y++) {
    const ci = -1.5 + (<f64>y + 0.5) * dy;
    for (let x = 0; x < width; x++) {
      const cr = -2.0 + (<f64>x + 0.5) * dx;
      let zr = 0.0, zi = 0.0;
      let i = 0;
      while (i < maxIter) {
        const zr2 = zr * zr, zi2 = zi * zi;
        if (zr2 + zi2 > 4.0) break;
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        i++;
      }
      store<u8>(row.dataStart + <usize>x, <u8>min(i, 255));
    }
    output_write(row.dataStart, width);
  }

  // The operand depends on the input so that the compiler cannot fold the NaN into a constant.
  const nan = Math.sqrt(-1.0 - <f64>maxIter);
  const bits = memory.data(8);
  store<u64>(bits, reinterpret<u64>(nan));
  output_write(bits, 8);
}
