import { ValType } from './wasm.js';

const { I32, I64 } = ValType;

/**
 * The host interface, ABI version 1: the only imports a program may have, all from the module
 * "docklock", integers and linear memory only (no float crosses the boundary). docs/docklock.md
 * documents each call; runtime.ts (execute) implements them and logs each to the witness.
 */
export const ABI_MODULE = 'docklock';
export const ABI_VERSION = 1;

export const ABI: Record<string, { params: number[]; results: number[] }> = {
  /** () -> the input's length in bytes. */
  input_size: { params: [], results: [I32] },
  /** (offset, ptr, len) -> bytes copied: input[offset, offset+len) to memory[ptr…], fewer at the end. */
  input_read: { params: [I32, I32, I32], results: [I32] },
  /** (ptr, len): appends memory[ptr, ptr+len) to the output. */
  output_write: { params: [I32, I32], results: [] },
  /** (ptr, len): fills memory[ptr, ptr+len) with the next bytes of the job's random stream. */
  random_fill: { params: [I32, I32], results: [] },
  /** () -> the virtual clock: the job's time in milliseconds (a block's timestamp, never the machine's). */
  clock: { params: [], results: [I64] },
  /** (ptr, len): one log line, memory[ptr, ptr+len). */
  log: { params: [I32, I32], results: [] },
};

/** The names a program may not export (the instrumenter's own exports). */
export const RESERVED_EXPORT_PREFIX = '__docklock';
/** The entry point: an export `run` of type [] -> []. */
export const ENTRY = 'run';
