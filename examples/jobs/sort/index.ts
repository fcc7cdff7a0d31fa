// sort: sorts little-endian u32 values ascending.
// Input: n little-endian u32 (its length must be a multiple of 4, otherwise the job traps).
// Output: the same n values, ascending, little-endian u32.
// Heapsort, in place on the input buffer: O(n log n) time, no extra memory, no recursion.

import { readInput, writeOutput } from "../lib/docklock";

/** Moves the value at `root` down the max-heap of `end` values at `base` until both children are smaller. */
function siftDown(base: usize, root: u32, end: u32): void {
  const value = load<u32>(base + (<usize>root << 2));
  while (true) {
    let child = root * 2 + 1;
    if (child >= end) break;
    if (child + 1 < end && load<u32>(base + (<usize>(child + 1) << 2)) > load<u32>(base + (<usize>child << 2))) child++;
    const larger = load<u32>(base + (<usize>child << 2));
    if (larger <= value) break;
    store<u32>(base + (<usize>root << 2), larger);
    root = child;
  }
  store<u32>(base + (<usize>root << 2), value);
}

function heapsort(base: usize, n: u32): void {
  if (n < 2) return;
  for (let i = n >>> 1; i > 0; i--) siftDown(base, i - 1, n);
  for (let end = n - 1; end > 0; end--) {
    // The largest value is at the root: swap it to the end and restore the heap before it.
    const top = load<u32>(base);
    store<u32>(base, load<u32>(base + (<usize>end << 2)));
    store<u32>(base + (<usize>end << 2), top);
    siftDown(base, 0, end);
  }
}

export function run(): void {
  const input = readInput();
  if (input.length & 3) unreachable(); // not a whole number of u32
  heapsort(input.dataStart, <u32>(input.length >>> 2));
  writeOutput(input);
}
