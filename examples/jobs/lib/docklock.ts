// DockLock host ABI v1: the only imports a job may have, all from the module "docklock".
// Integers only: pointers and lengths are i32 (usize on wasm32), the clock is an i64.
// The full ABI is in docs/docklock.md.

/** The input's length in bytes. */
// @ts-ignore: decorator
@external("docklock", "input_size")
export declare function input_size(): i32;

/** Copies up to `len` input bytes from `offset` to `ptr`; returns how many were copied (0 at the end). */
// @ts-ignore: decorator
@external("docklock", "input_read")
export declare function input_read(offset: i32, ptr: usize, len: i32): i32;

/** Appends `len` bytes at `ptr` to the job's output (the output is capped; going over traps). */
// @ts-ignore: decorator
@external("docklock", "output_write")
export declare function output_write(ptr: usize, len: i32): void;

/** Fills `len` bytes at `ptr` from the job's deterministic random stream. */
// @ts-ignore: decorator
@external("docklock", "random_fill")
export declare function random_fill(ptr: usize, len: i32): void;

/** The virtual clock in milliseconds: the block's time, not the machine's. */
// @ts-ignore: decorator
@external("docklock", "clock")
export declare function clock(): i64;

/** Writes one bounded log line of `len` UTF-8 bytes at `ptr`. */
// @ts-ignore: decorator
@external("docklock", "log")
export declare function log(ptr: usize, len: i32): void;

/** Reads the whole input into a new buffer. */
export function readInput(): Uint8Array {
  const size = input_size();
  const buf = new Uint8Array(size);
  let done = 0;
  while (done < size) {
    const n = input_read(done, buf.dataStart + <usize>done, size - done);
    if (n <= 0) unreachable(); // the input is shorter than input_size() said
    done += n;
  }
  return buf;
}

/** Appends the whole buffer to the output. */
export function writeOutput(bytes: Uint8Array): void {
  output_write(bytes.dataStart, bytes.length);
}

/** Logs a string as one UTF-8 line. */
export function logString(line: string): void {
  const utf8 = String.UTF8.encode(line);
  log(changetype<usize>(utf8), utf8.byteLength);
}

/** Reads a little-endian u16 at `ptr` (wasm memory is little-endian). */
export function loadU16(ptr: usize): i32 {
  return <i32>load<u16>(ptr);
}
