// blur: a 3×3 box blur of a grayscale image, in integer arithmetic.
// Input: width u16 LE, height u16 LE, then width*height pixel bytes, row by row
// (any other length traps). Output: the same 4-byte header, then the blurred pixels.
// Each output pixel is the floor of the mean of the input pixels in the 3×3 window around it,
// the window clamped to the image: 9 pixels inside, 6 on an edge, 4 in a corner.

import { readInput, writeOutput, loadU16 } from "../lib/docklock";

export function run(): void {
  const input = readInput();
  if (input.length < 4) unreachable();
  const width = loadU16(input.dataStart);
  const height = loadU16(input.dataStart + 2);
  if (<u64>input.length != 4 + <u64>width * <u64>height) unreachable();

  const output = new Uint8Array(input.length);
  store<u32>(output.dataStart, load<u32>(input.dataStart)); // the header
  const src = input.dataStart + 4;
  const dst = output.dataStart + 4;

  for (let y = 0; y < height; y++) {
    const y0 = max(y - 1, 0), y1 = min(y + 1, height - 1);
    for (let x = 0; x < width; x++) {
      const x0 = max(x - 1, 0), x1 = min(x + 1, width - 1);
      let sum: u32 = 0;
      for (let yy = y0; yy <= y1; yy++) {
        const row = src + <usize>(yy * width);
        for (let xx = x0; xx <= x1; xx++) sum += load<u8>(row + <usize>xx);
      }
      const count = <u32>((y1 - y0 + 1) * (x1 - x0 + 1));
      store<u8>(dst + <usize>(y * width + x), <u8>(sum / count));
    }
  }
  writeOutput(output);
}
