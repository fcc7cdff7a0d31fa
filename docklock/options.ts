/**
 * The consensus constants of DockLock: the instrumenter's version, its cost table and the limits it
 * injects. Changing any of them changes the fuel, the instrumented hash or the result of some job,
 * so they are versioned together (INSTRUMENTER_VERSION) and pinned by the conformance corpus
 * (test/conformance/docklock), which records COST_TABLE_HASH: a change must bump the version and
 * regenerate the corpus on purpose.
 */
export const INSTRUMENTER_VERSION = 1;

/**
 * Fuel costs. Every instruction costs `instruction`, except the structural ones that do no work
 * (nop, block, loop, else, end), which cost 0; fuel is charged per metering block (a straight run
 * of instructions ending at a control instruction), all of it before the block runs.
 */
export const COST_TABLE = {
  instruction: 1,
  /** Extra per page (64 KiB) that memory.grow asks for, charged before it grows. */
  growPage: 8192,
  /** Bulk memory (memory.fill/copy/init) and host calls: one unit per this many bytes, rounded up. */
  bytesPerFuel: 8,
  /** Each host call, besides its bytes. */
  hostCall: 20,
  /**
   * Starting a job: this, plus growPage per initial memory page, plus its data segments' bytes
   * (one unit per bytesPerFuel), charged before the instance is made (less fuel: out of fuel,
   * nothing made). A run's memory and data cost the same whether declared or grown.
   */
  instantiate: 100,
} as const;

/**
 * The stack-height limit: each call adds its callee's frame cost (FRAME_BASE + params + locals +
 * the most operands it holds, in 8-byte units) to a counter inside the module, which traps past
 * STACK_LIMIT. On V8 a Liftoff frame takes ~48 bytes plus 8 per local (measured, docs/docklock.md),
 * so STACK_LIMIT units are ~256 KiB of real stack: a quarter of the smallest native stack DockLock
 * runs on (the main thread's ~984 KiB), so the injected trap fires before V8's own RangeError.
 */
export const FRAME_BASE = 8;
export const STACK_LIMIT = 32_768;

/** Scratch locals appended to every function (an i32 and an i64 for sizes, an f32 and an f64 for NaN checks): part of each frame's cost. */
export const SCRATCH_LOCALS = 4;
/** Operands the injected code holds on top of a function's own: part of each frame's cost. */
export const INSTRUMENT_STACK = 3;

/** The version of the witness log's link format (runtime.ts). */
export const WITNESS_VERSION = 1;

/** The most memory a job may have, in 64 KiB pages (16 MiB): the module's maximum is rewritten to at most this. */
export const MAX_PAGES = 256;

/** Structural limits checked at deploy (bounded work to instrument and compile). */
export const LIMITS = {
  /** The largest program accepted (bytes of the original module). */
  programBytes: 4 * 1024 * 1024,
  functions: 10_000,
  /** Locals (and params) of one function. */
  locals: 10_000,
  /** Bytes of one function body. */
  bodyBytes: 1024 * 1024,
  /** Nesting of blocks in one function. */
  nesting: 1024,
  types: 10_000,
  tableEntries: 100_000,
  globals: 10_000,
  exports: 10_000,
  dataSegments: 100_000,
  /** Operands one function may hold on its stack at once. */
  operandStack: 1024,
  /**
   * Σ over functions of (most operands × conditional branches, the injected checks included): V8's
   * baseline compiler copies the operand stack at each branch, so this bounds compile time (a 30 KB
   * program with 10,000 values on its stack and 10,000 calls took 4 s and 1.4 GB to compile).
   */
  compileWork: 2_000_000,
} as const;

/** What a job may take in and give out (per job; the chain's parameters may set lower caps). */
export interface JobLimits {
  /** Bytes of input. */
  maxInputBytes: number;
  /** Bytes of output (output_write past it traps with output_limit). */
  maxOutputBytes: number;
  /** Bytes of log, all lines together (log past it traps with log_limit). */
  maxLogBytes: number;
  /** Log lines. */
  maxLogLines: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = {
  maxInputBytes: 16 * 1024 * 1024,
  maxOutputBytes: 1024 * 1024,
  maxLogBytes: 16 * 1024,
  maxLogLines: 256,
};

/** The largest fuel limit a job may ask for (2^53-1: fuel is carried as a safe integer). */
export const MAX_FUEL = Number.MAX_SAFE_INTEGER;

/**
 * Everything about DockLock that decides a job's result besides the program and the job itself
 * (the conformance corpus records a hash of it; ABI_VERSION is in abi.ts).
 */
export const CONSENSUS_CONSTANTS = { INSTRUMENTER_VERSION, COST_TABLE, FRAME_BASE, STACK_LIMIT, SCRATCH_LOCALS, INSTRUMENT_STACK, MAX_PAGES, LIMITS, DEFAULT_JOB_LIMITS, WITNESS_VERSION, MAX_FUEL } as const;
