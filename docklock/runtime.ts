import { blake3 } from '@noble/hashes/blake3.js';
import { HashTag, taggedHash } from '../chain/index.js';
import { DocklockError, DocklockErrorCode as E } from './errors.js';
import { EXPORT_FUEL, EXPORT_MEMORY, EXPORT_START, EXPORT_WHY, Why, instrument, type Instrumented } from './instrument.js';
import { COST_TABLE, DEFAULT_JOB_LIMITS, MAX_FUEL, type JobLimits } from './options.js';

/** How a job ended: a stable number (in receipts) and name (in JSON). */
export const JobStatus = { Ok: 0, Trap: 1, OutOfFuel: 2, OutOfMemory: 3, StackExhausted: 4, Rejected: 5 } as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];
export const JOB_STATUS_NAMES: Record<JobStatus, string> = { 0: 'ok', 1: 'trap', 2: 'out_of_fuel', 3: 'out_of_memory', 4: 'stack_exhausted', 5: 'rejected' };

/**
 * The kind of a trap (status trap) or of a refusal (status rejected): DockLock's own names, from
 * the engine's trap (mapped once, here) or from the host. Stable: receipts carry them.
 */
export const TrapKind = {
  Unreachable: 'unreachable',
  MemoryOutOfBounds: 'memory_out_of_bounds',
  DivideByZero: 'divide_by_zero',
  IntegerOverflow: 'integer_overflow',
  InvalidConversion: 'invalid_conversion',
  TableOutOfBounds: 'table_out_of_bounds',
  IndirectCallMismatch: 'indirect_call_mismatch',
  OutputLimit: 'output_limit',
  LogLimit: 'log_limit',
  /** Rejected: the input is over the cap. */
  InputTooLarge: 'input_too_large',
  /** Rejected: the fuel asked for is over the cap. */
  FuelOverCap: 'fuel_over_cap',
} as const;
export type TrapKind = (typeof TrapKind)[keyof typeof TrapKind];

/**
 * V8's trap messages (message-template.h, stable for years) to DockLock's kinds. A RuntimeError
 * with any other message is an engine fault: no result is claimed (the conformance corpus covers
 * every kind, so a V8 that renamed one fails CI, not consensus).
 */
const V8_TRAPS: [string, TrapKind][] = [
  ['unreachable', TrapKind.Unreachable],
  ['memory access out of bounds', TrapKind.MemoryOutOfBounds],
  ['data segment out of bounds', TrapKind.MemoryOutOfBounds],
  ['divide by zero', TrapKind.DivideByZero],
  ['remainder by zero', TrapKind.DivideByZero],
  ['divide result unrepresentable', TrapKind.IntegerOverflow],
  ['float unrepresentable in integer range', TrapKind.InvalidConversion],
  ['table index is out of bounds', TrapKind.TableOutOfBounds],
  ['null function or function signature mismatch', TrapKind.IndirectCallMismatch],
  ['function signature mismatch', TrapKind.IndirectCallMismatch],
];

/** A job: what the program runs on. */
export interface JobSpec {
  /** 32 bytes: seeds the random stream; the receipt binds it. */
  jobId: Uint8Array;
  input: Uint8Array;
  /** The most fuel the job may burn. */
  fuel: number;
  /** The virtual clock, milliseconds (a block's timestamp). */
  clock: bigint;
  limits?: Partial<JobLimits>;
  /** The largest fuel a job may ask for here (a chain parameter); more is rejected. */
  fuelCap?: number;
}

export interface Usage {
  /** Memory pages at the end (memory never shrinks: the peak). */
  memoryPages: number;
  hostCalls: number;
  outputBytes: number;
  logBytes: number;
}

export interface JobResult {
  status: JobStatus;
  /** The trap's or the refusal's kind; '' when none. */
  trap: string;
  fuelUsed: number;
  output: Uint8Array;
  outputHash: Uint8Array;
  witnessRoot: Uint8Array;
  logs: Uint8Array[];
  usage: Usage;
}

/** The caps a job runs under (the receipt records them: a re-execution runs under the same). */
export interface JobCaps extends JobLimits {
  /** The largest fuel limit accepted (more is rejected: fuel_over_cap). */
  fuelCap: number;
}

/** The caps a spec asks for, DockLock's defaults filled in. */
export function jobCaps(spec: Pick<JobSpec, 'limits' | 'fuelCap'>): JobCaps {
  return { ...DEFAULT_JOB_LIMITS, ...spec.limits, fuelCap: Math.min(spec.fuelCap ?? MAX_FUEL, MAX_FUEL) };
}

/** A program ready to run: instrumented, hashed and compiled (cached by the caller: Programs). */
export interface LoadedProgram {
  /** The program's id: the tagged hash of its original bytes. */
  id: Uint8Array;
  /** The tagged hash of the instrumented module (what receipts carry). */
  hash: Uint8Array;
  instrumented: Instrumented;
  module: WebAssembly.Module;
}

export const programId = (bytes: Uint8Array): Uint8Array => taggedHash(HashTag.DocklockProgram, bytes);
export const inputHash = (bytes: Uint8Array): Uint8Array => taggedHash(HashTag.DocklockInput, bytes);
export const outputHash = (bytes: Uint8Array): Uint8Array => taggedHash(HashTag.DocklockOutput, bytes);

/** Instruments and compiles a program (throws DocklockError naming what is wrong with it); `id`: its programId, when the caller has it. */
export function loadProgram(bytes: Uint8Array, maxBytes?: number, id: Uint8Array = programId(bytes)): LoadedProgram {
  const instrumented = instrument(bytes, maxBytes);
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(instrumented.code as Uint8Array<ArrayBuffer>);
  } catch (e) {
    // The engine's message goes to the context only: receipts carry DockLock's own text.
    throw new DocklockError(E.Invalid, 'the program is not valid WebAssembly (it does not type-check)', { engine: (e as Error).message });
  }
  return { id, hash: taggedHash(HashTag.DocklockInstrumented, instrumented.code), instrumented, module };
}

/** Each host call's id in the witness (ABI v1). */
export const WitnessCall = { InputSize: 1, InputRead: 2, OutputWrite: 3, RandomFill: 4, Clock: 5, Log: 6 } as const;

/** A trap raised by a host call (it unwinds the job like a wasm trap). */
class HostTrap extends Error {
  constructor(
    readonly status: JobStatus,
    readonly kind: string,
  ) {
    super(kind);
  }
}

const EMPTY = new Uint8Array(0);
const ZERO32 = new Uint8Array(32);

/**
 * Runs a job synchronously on this thread (the chain's path: inside a block; the worker pool's
 * path for everything else). Deterministic: the result depends only on the program, the spec and
 * DockLock's constants. Throws DocklockError(ENGINE_FAULT) only when the engine failed in a way
 * the instrumentation should have made impossible; then no result is claimed.
 */
export function execute(program: LoadedProgram, spec: JobSpec): JobResult {
  const limits = jobCaps(spec);
  const fuelCap = limits.fuelCap;
  const rejected = (kind: string): JobResult => ({ status: JobStatus.Rejected, trap: kind, fuelUsed: 0, output: EMPTY, outputHash: outputHash(EMPTY), witnessRoot: ZERO32, logs: [], usage: { memoryPages: 0, hostCalls: 0, outputBytes: 0, logBytes: 0 } });
  if (!Number.isSafeInteger(spec.fuel) || spec.fuel < 0 || spec.fuel > fuelCap) return rejected(TrapKind.FuelOverCap);
  if (spec.input.length > limits.maxInputBytes) return rejected(TrapKind.InputTooLarge);

  // The witness: a hash chain of every host call with its arguments and results. Bulk bytes (input
  // read, output written, random bytes) are named by their place in the input, the output and the
  // random stream, which the receipt's input hash, output hash and job id already bind; so the
  // witness costs per call, not per byte. A log line's bytes are in it.
  // A link: taggedHash(DocklockWitness, previous link ‖ call id (1 byte) ‖ each argument and
  // result as 8 bytes big-endian ‖ the call's own bytes (a log line; nothing for the others)).
  let witness: Uint8Array = ZERO32;
  const entry = new Uint8Array(1 + 8 * 4);
  const entryView = new DataView(entry.buffer);
  const log = (call: number, args: readonly (number | bigint)[], data: Uint8Array) => {
    entry[0] = call;
    for (let i = 0; i < args.length; i++) entryView.setBigUint64(1 + 8 * i, BigInt(args[i]!));
    witness = taggedHash(HashTag.DocklockWitness, witness, entry.subarray(0, 1 + 8 * args.length), data);
  };
  const input = spec.input;
  const output: Uint8Array[] = [];
  let outputBytes = 0;
  const logs: Uint8Array[] = [];
  let logBytes = 0;
  let hostCalls = 0;
  const random = blake3.create({}).update(Uint8Array.of(HashTag.DocklockRandom)).update(spec.jobId);
  let fuel!: WebAssembly.Global;
  let memory: WebAssembly.Memory | undefined;
  const pay = (bytes: number) => {
    const before = fuel.value as bigint;
    if (before < 0n) throw new HostTrap(JobStatus.OutOfFuel, ''); // ran out before this call
    hostCalls++;
    const left = before - BigInt(COST_TABLE.hostCall + Math.ceil(bytes / COST_TABLE.bytesPerFuel));
    fuel.value = left;
    if (left < 0n) throw new HostTrap(JobStatus.OutOfFuel, '');
  };
  const view = (ptr: number, len: number): Uint8Array => {
    const p = ptr >>> 0;
    const buf = memory?.buffer;
    if (!buf || p + len > buf.byteLength) throw new HostTrap(JobStatus.Trap, TrapKind.MemoryOutOfBounds);
    return new Uint8Array(buf, p, len);
  };
  const host = {
    input_size: (): number => {
      pay(0);
      log(WitnessCall.InputSize, [input.length], EMPTY);
      return input.length;
    },
    input_read: (offset: number, ptr: number, len: number): number => {
      const off = offset >>> 0;
      const n = Math.max(0, Math.min(len >>> 0, input.length - off));
      pay(n);
      view(ptr, n).set(input.subarray(off, off + n));
      log(WitnessCall.InputRead, [off, ptr >>> 0, len >>> 0, n], EMPTY);
      return n;
    },
    output_write: (ptr: number, len: number): void => {
      const n = len >>> 0;
      pay(n);
      if (outputBytes + n > limits.maxOutputBytes) throw new HostTrap(JobStatus.Trap, TrapKind.OutputLimit);
      const chunk = view(ptr, n).slice();
      output.push(chunk);
      outputBytes += n;
      log(WitnessCall.OutputWrite, [ptr >>> 0, n], EMPTY);
    },
    random_fill: (ptr: number, len: number): void => {
      const n = len >>> 0;
      pay(n);
      const target = view(ptr, n);
      target.set(random.xof(n));
      log(WitnessCall.RandomFill, [ptr >>> 0, n], EMPTY);
    },
    clock: (): bigint => {
      pay(0);
      log(WitnessCall.Clock, [spec.clock], EMPTY);
      return spec.clock;
    },
    log: (ptr: number, len: number): void => {
      const n = len >>> 0;
      pay(n);
      if (logs.length + 1 > limits.maxLogLines || logBytes + n > limits.maxLogBytes) throw new HostTrap(JobStatus.Trap, TrapKind.LogLimit);
      const line = view(ptr, n).slice();
      logs.push(line);
      logBytes += n;
      log(WitnessCall.Log, [ptr >>> 0, n], line);
    },
  };

  let status: JobStatus = JobStatus.Ok;
  let trap = '';
  let instance: WebAssembly.Instance | undefined;
  const startCost = jobStartFuel(program);
  if (startCost > spec.fuel) {
    // Not even the start is paid for: nothing is made (the instance's memory is work too).
    return { status: JobStatus.OutOfFuel, trap: '', fuelUsed: spec.fuel, output: EMPTY, outputHash: outputHash(EMPTY), witnessRoot: ZERO32, logs: [], usage: { memoryPages: 0, hostCalls: 0, outputBytes: 0, logBytes: 0 } };
  }
  try {
    instance = new WebAssembly.Instance(program.module, { docklock: host });
    const exports = instance.exports as Record<string, unknown>;
    fuel = exports[EXPORT_FUEL] as WebAssembly.Global;
    memory = exports[EXPORT_MEMORY] as WebAssembly.Memory | undefined;
    fuel.value = BigInt(spec.fuel - startCost);
    if (program.instrumented.hasStart) (exports[EXPORT_START] as () => void)();
    (exports.run as () => void)();
  } catch (e) {
    ({ status, trap } = classify(e, instance));
  }
  // The fuel counter is checked only at function and loop starts (instrument.ts charge): whatever
  // ended the job, a counter below zero means the fuel ran out first.
  const left = fuel ? Number(fuel.value as bigint) : spec.fuel - startCost;
  if (left < 0) status = JobStatus.OutOfFuel;
  const fuelUsed = status === JobStatus.OutOfFuel ? spec.fuel : spec.fuel - left;
  if (status === JobStatus.OutOfFuel) trap = '';
  const out = concat(output, outputBytes);
  return {
    status,
    trap,
    fuelUsed,
    output: out,
    outputHash: outputHash(out),
    witnessRoot: witness,
    logs,
    usage: { memoryPages: memory ? memory.buffer.byteLength / 65536 : 0, hostCalls, outputBytes, logBytes },
  };
}

/** What starting a job of this program costs (COST_TABLE.instantiate): its initial memory and data are paid before they are made. */
export function jobStartFuel(program: LoadedProgram): number {
  const i = program.instrumented;
  return COST_TABLE.instantiate + i.memory.initial * COST_TABLE.growPage + Math.ceil(i.dataBytes / COST_TABLE.bytesPerFuel);
}

function classify(e: unknown, instance: WebAssembly.Instance | undefined): { status: JobStatus; trap: string } {
  if (e instanceof HostTrap) return { status: e.status, trap: e.kind };
  if (e instanceof WebAssembly.RuntimeError) {
    const why = instance ? ((instance.exports[EXPORT_WHY] as WebAssembly.Global).value as number) : Why.None;
    if (e.message === 'unreachable' || e.message.endsWith(': unreachable')) {
      if (why === Why.Fuel) return { status: JobStatus.OutOfFuel, trap: '' };
      if (why === Why.Stack) return { status: JobStatus.StackExhausted, trap: '' };
      if (why === Why.Memory) return { status: JobStatus.OutOfMemory, trap: '' };
      if (why === Why.Engine) throw new DocklockError(E.EngineFault, 'the engine could not grow the memory within the job’s maximum: no result is claimed');
    }
    for (const [text, kind] of V8_TRAPS) if (e.message === text || e.message.endsWith(`: ${text}`)) return { status: JobStatus.Trap, trap: kind };
    throw new DocklockError(E.EngineFault, 'the engine reported a trap DockLock does not know: no result is claimed', { engine: e.message });
  }
  if (e instanceof RangeError) throw new DocklockError(E.EngineFault, 'the engine ran out of native stack before the injected stack limit (a DockLock bug): no result is claimed', { engine: e.message });
  throw new DocklockError(E.EngineFault, 'the job failed outside WebAssembly: no result is claimed', { engine: e instanceof Error ? e.message : String(e) });
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}


