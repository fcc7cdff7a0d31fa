// hostcalls: calls every host function of the DockLock ABI once or more.
// Input: any bytes (at most the output cap minus 24).
// Output: the input reversed, then 16 bytes of the job's random stream, then the virtual clock
// as a little-endian i64 (8 bytes). Log: one line, "hostcalls: <n> bytes" (n = the input's length).

import { readInput, output_write, random_fill, clock, logString } from "../lib/docklock";

export function run(): void {
  const input = readInput(); // input_size, input_read
  const n = input.length;

  const reversed = new Uint8Array(n);
  for (let i = 0; i < n; i++) store<u8>(reversed.dataStart + <usize>i, load<u8>(input.dataStart + <usize>(n - 1 - i)));
  output_write(reversed.dataStart, n);

  const tail = memory.data(24);
  random_fill(tail, 16);
  store<i64>(tail + 16, clock());
  output_write(tail, 24);

  logString("hostcalls: " + n.toString() + " bytes");
}
