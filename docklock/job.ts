import { HashTag, rlpEncode, taggedHash, toKey, toHex } from '../chain/index.js';
import { diffReceipts, receiptOf, type DocklockReceipt, type FieldDifference } from './receipt.js';
import { execute, inputHash, jobCaps, loadProgram, programId, type JobResult, type JobSpec, type LoadedProgram } from './runtime.js';

/**
 * Compiled programs by id, least recently used dropped first: instrumenting and compiling is done
 * once per program, not per job.
 */
export class ProgramCache {
  private readonly map = new Map<string, LoadedProgram>();
  constructor(private readonly capacity = 64) {}

  /** The program of these bytes (`id`: its programId, when the caller has it), loaded (instrumented, compiled) if it is not cached. Throws DocklockError if it is refused. */
  load(bytes: Uint8Array, maxBytes?: number, id: Uint8Array = programId(bytes)): LoadedProgram {
    const key = toKey(id);
    return this.get(key) ?? this.put(key, loadProgram(bytes, maxBytes, id));
  }

  /** The cached program with this id, if any. */
  byId(id: Uint8Array): LoadedProgram | undefined {
    return this.get(toKey(id));
  }

  private get(key: string): LoadedProgram | undefined {
    const p = this.map.get(key);
    if (p) {
      this.map.delete(key);
      this.map.set(key, p);
    }
    return p;
  }

  private put(key: string, p: LoadedProgram): LoadedProgram {
    this.map.set(key, p);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    return p;
  }
}

/** The id of a job run outside the chain: the tagged hash of its program, input, fuel and clock. */
export function localJobId(program: Uint8Array, input: Uint8Array, fuel: number, clock: bigint): Uint8Array {
  return taggedHash(HashTag.DocklockJob, rlpEncode([programId(program), inputHash(input), fuel, clock]));
}

export interface JobRun {
  result: JobResult;
  /** Unsigned: sign it with the executor's key. */
  receipt: DocklockReceipt;
}

/** Runs a job on this thread and makes its receipt. */
export function runJob(program: LoadedProgram, spec: JobSpec): JobRun {
  const result = execute(program, spec);
  return { result, receipt: receiptOf({ jobId: spec.jobId, programHash: program.hash, inputHash: inputHash(spec.input), fuel: spec.fuel, clock: spec.clock, caps: jobCaps(spec) }, result) };
}

export interface Verdict {
  /** True when the re-execution gives every result field the receipt claims and any signature is valid. */
  match: boolean;
  differences: FieldDifference[];
  signature: 'valid' | 'invalid' | 'unsigned';
  /** The re-execution's receipt (unsigned). */
  actual: DocklockReceipt;
}

/**
 * Re-executes the job a receipt describes, from the program and the input (checked against the
 * receipt's input hash by the comparison), and says which fields differ.
 */
export function verifyReceipt(claimed: DocklockReceipt, program: LoadedProgram, input: Uint8Array): Verdict {
  return judge(claimed, runJob(program, reExecution(claimed, input)).receipt);
}

/** The job a receipt describes, under the caps it names, to run again (on this thread, or in a WorkerPool). */
export function reExecution(claimed: DocklockReceipt, input: Uint8Array): JobSpec {
  const { fuelCap, ...limits } = claimed.caps;
  return { jobId: claimed.jobId, input, fuel: claimed.fuelLimit, clock: claimed.clock, fuelCap, limits };
}

/** The verdict on a receipt given the receipt of its re-execution. */
export function judge(claimed: DocklockReceipt, actual: DocklockReceipt): Verdict {
  const differences = diffReceipts(claimed, actual);
  const signature = !claimed.signed ? 'unsigned' : claimed.verifySignature() ? 'valid' : 'invalid';
  if (signature === 'invalid') differences.push({ field: 'signature', claimed: JSON.stringify(toHex(claimed.signature)), actual: '"not the executor\'s signature over the receipt\'s hash"' });
  return { match: differences.length === 0, differences, signature, actual };
}
