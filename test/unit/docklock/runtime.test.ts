import { blake3 } from '@noble/hashes/blake3.js';
import { expect } from 'chai';
import { HashTag, taggedHash, toHex, utf8 } from '../../../chain/index.js';
import { COST_TABLE, JobStatus, WitnessCall, execute, jobStartFuel, loadProgram, outputHash, type JobResult, type JobSpec, type LoadedProgram } from '../../../docklock/index.js';
import { IMPORTS, exampleJob, spec, u32le, u64le, wat } from './helpers.js';

const hex = toHex;
const hostCall = (bytes: number) => COST_TABLE.hostCall + Math.ceil(bytes / COST_TABLE.bytesPerFuel);

type Call = keyof typeof WitnessCall;

/**
 * The witness root of these host calls, from its definition (docklock/runtime.ts): each link is
 * taggedHash(DocklockWitness, previous ‖ call id ‖ each argument and result as u64 big-endian ‖ a
 * log line's bytes). Written out here, not taken from the runtime.
 */
function witnessOf(calls: [Call, (number | bigint)[], Uint8Array?][]): Uint8Array {
  let w: Uint8Array = new Uint8Array(32);
  for (const [call, args, data] of calls) {
    const entry = new Uint8Array(1 + 8 * args.length);
    const dv = new DataView(entry.buffer);
    entry[0] = { InputSize: 1, InputRead: 2, OutputWrite: 3, RandomFill: 4, Clock: 5, Log: 6 }[call];
    args.forEach((a, i) => dv.setBigUint64(1 + 8 * i, BigInt(a)));
    w = taggedHash(HashTag.DocklockWitness, w, entry, data ?? new Uint8Array(0));
  }
  return w;
}

const randomStream = (jobId: Uint8Array, n: number) => blake3(Uint8Array.of(HashTag.DocklockRandom, ...jobId), { dkLen: n });

let programs: Record<string, LoadedProgram>;

/** Every host call: input (whole, to 1024), 16 random bytes (5 then 11) and the clock to 512, a log line, output. */
const ALL_CALLS = `(module ${IMPORTS}
  (memory 1)
  (data (i32.const 0) "line")
  (func (export "run")
    (local $n i32)
    (local.set $n (call $input_size))
    (drop (call $input_read (i32.const 0) (i32.const 1024) (local.get $n)))
    (call $random_fill (i32.const 512) (i32.const 5))
    (call $random_fill (i32.const 517) (i32.const 11))
    (i64.store (i32.const 528) (call $clock))
    (call $log (i32.const 0) (i32.const 4))
    (call $output_write (i32.const 512) (i32.const 24))
    (call $output_write (i32.const 1024) (local.get $n))))`;

const PROGRAMS: Record<string, string> = {
  all: ALL_CALLS,
  // Copies the whole input to 0 and writes it out.
  echo: `(module ${IMPORTS} (memory 1)
    (func (export "run")
      (local $n i32)
      (local.set $n (call $input_size))
      (drop (call $input_read (i32.const 0) (i32.const 0) (local.get $n)))
      (call $output_write (i32.const 0) (local.get $n))))`,
  // Writes input_size() bytes of memory: 3 instructions (i32.const, call, call), 2 host calls.
  write: `(module ${IMPORTS} (memory 1) (func (export "run") (call $output_write (i32.const 0) (call $input_size))))`,
  // input_read asking for 1000 bytes at offset 2: it copies (and is charged for) what there is.
  readMore: `(module ${IMPORTS} (memory 1) (func (export "run") (drop (call $input_read (i32.const 2) (i32.const 0) (i32.const 1000)))))`,
  // Logs n lines "abc" (n = input_size()).
  logs: `(module ${IMPORTS} (memory 1) (data (i32.const 0) "abc")
    (func (export "run") (local $i i32)
      (block $done (loop $again
        (br_if $done (i32.ge_u (local.get $i) (call $input_size)))
        (call $log (i32.const 0) (i32.const 3))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $again)))))`,
  // The clock, as i64 LE, and whether it is negative as an i64 (1 byte).
  clock: `(module ${IMPORTS} (memory 1)
    (func (export "run")
      (i64.store (i32.const 0) (call $clock))
      (i32.store8 (i32.const 8) (i64.lt_s (i64.load (i32.const 0)) (i64.const 0)))
      (call $output_write (i32.const 0) (i32.const 9))))`,
  // start stores 7 at 0 (3 instructions: i32.const, i32.const, i32.store); run writes it (3 + the call).
  start: `(module ${IMPORTS} (memory 1)
    (func $init (i32.store (i32.const 0) (i32.const 7)))
    (start $init)
    (func (export "run") (call $output_write (i32.const 0) (i32.const 1))))`,
  // A start function that traps: run never runs.
  startTraps: `(module ${IMPORTS} (memory 1)
    (func $init unreachable)
    (start $init)
    (func (export "run") (call $output_write (i32.const 0) (i32.const 1))))`,
  spin: `(module (func (export "run") (loop $l (br $l))))`,
};

describe('docklock/runtime', () => {
  before(async () => {
    programs = {};
    for (const [k, v] of Object.entries(PROGRAMS)) programs[k] = loadProgram(await wat(v));
  });

  const run = (name: string, over: Partial<JobSpec> = {}): JobResult => execute(programs[name]!, spec(over));
  /** What starting a job of the program costs (instantiate + initial pages × growPage + data bytes / 8). */
  const start = (name: string): number => jobStartFuel(programs[name]!);

  describe('determinism', () => {
    it('the same job twice gives an identical result', () => {
      const s = spec({ input: utf8('same') });
      expect(execute(programs.all!, s)).to.deep.equal(execute(programs.all!, s));
      const { program, input } = exampleJob('mandelbrot');
      const p = loadProgram(program);
      expect(execute(p, spec({ input }))).to.deep.equal(execute(loadProgram(program), spec({ input })));
    });

    it('the witness root changes with the input\'s length, the clock and the log lines; not with what the receipt binds otherwise', async () => {
      const base = run('all', { input: utf8('in') });
      const root = hex(base.witnessRoot);
      expect(hex(run('all', { input: utf8('in') }).witnessRoot)).to.equal(root);
      expect(hex(run('all', { input: utf8('in'), fuel: 1_000_000 }).witnessRoot), 'the fuel limit').to.equal(root);
      expect(hex(run('all', { input: utf8('inn') }).witnessRoot), 'a longer input').to.not.equal(root);
      expect(hex(run('all', { input: utf8('in'), clock: 1_700_000_000_001n }).witnessRoot), 'the clock').to.not.equal(root);
      // The bytes read, written and drawn are named by their place only: the receipt's input hash,
      // output hash and job id bind them (docklock/runtime.ts).
      expect(hex(run('all', { input: utf8('im') }).witnessRoot), 'other input bytes').to.equal(root);
      expect(hex(run('all', { input: utf8('in'), jobId: new Uint8Array(32).fill(0x12) }).witnessRoot), 'another job id').to.equal(root);
      expect(hex(run('all', { input: utf8('im') }).outputHash)).to.not.equal(hex(base.outputHash));
      expect(hex(run('all', { input: utf8('in'), jobId: new Uint8Array(32).fill(0x12) }).outputHash)).to.not.equal(hex(base.outputHash));
      // A log line's bytes are witnessed.
      const line = (text: string) => `(module ${IMPORTS} (memory 1) (data (i32.const 0) "${text}") (func (export "run") (call $log (i32.const 0) (i32.const 4))))`;
      const [a, b] = await Promise.all([wat(line('abcd')), wat(line('abce'))]);
      expect(hex(execute(loadProgram(a!), spec()).witnessRoot)).to.not.equal(hex(execute(loadProgram(b!), spec()).witnessRoot));
    });

    it('the witness root is the hash chain of the host calls, each with its arguments and data', () => {
      const jobId = new Uint8Array(32).fill(0x33);
      const input = utf8('witness me');
      const clock = 1_234_567n;
      const r = run('all', { jobId, input, clock });
      const random = randomStream(jobId, 16);
      const n = input.length;
      const tail = new Uint8Array([...random, ...u64le(clock)]);
      expect(hex(r.witnessRoot)).to.equal(
        hex(
          witnessOf([
            ['InputSize', [n]],
            ['InputRead', [0, 1024, n, n]],
            ['RandomFill', [512, 5]],
            ['RandomFill', [517, 11]],
            ['Clock', [clock]],
            ['Log', [0, 4], utf8('line')],
            ['OutputWrite', [512, 24]],
            ['OutputWrite', [1024, n]],
          ]),
        ),
      );
      expect(hex(r.output)).to.equal(hex(new Uint8Array([...tail, ...input])));
      expect(r.logs.map((l) => new TextDecoder().decode(l))).to.deep.equal(['line']);
      expect(r.usage).to.deep.equal({ memoryPages: 1, hostCalls: 8, outputBytes: 24 + n, logBytes: 4 });
      expect(hex(r.outputHash)).to.equal(hex(outputHash(r.output)));
    });

    it('a job with no host calls has the zero witness root', () => {
      expect(hex(run('spin', { fuel: 100 }).witnessRoot)).to.equal(hex(new Uint8Array(32)));
    });
  });

  describe('the random stream', () => {
    it('is BLAKE3-XOF of the tag and the job id, continued across calls', () => {
      const jobId = new Uint8Array(32).fill(0x44);
      const r = run('all', { jobId });
      expect(hex(r.output.subarray(0, 16))).to.equal(hex(randomStream(jobId, 16)));
    });

    it('is a function of the job id only: not of the input, the clock or the fuel', () => {
      const bytes = (s: Partial<JobSpec>) => hex(run('all', s).output.subarray(0, 16));
      const a = bytes({ jobId: new Uint8Array(32).fill(1) });
      expect(bytes({ jobId: new Uint8Array(32).fill(1), input: utf8('other'), clock: 5n, fuel: 9_999_999 })).to.equal(a);
      expect(bytes({ jobId: new Uint8Array(32).fill(2) })).to.not.equal(a);
      const id = new Uint8Array(32).fill(1);
      id[31] = 0;
      expect(bytes({ jobId: id })).to.not.equal(a);
    });
  });

  describe('the clock', () => {
    it('is the spec\'s, as a u64 that crosses the i64 boundary as the same 64 bits', () => {
      for (const clock of [0n, 1n, 1_700_000_000_000n, 2n ** 31n, 2n ** 32n + 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 63n + 5n, 2n ** 64n - 1n]) {
        const r = run('clock', { clock });
        expect(r.status, String(clock)).to.equal(JobStatus.Ok);
        expect(hex(r.output.subarray(0, 8)), String(clock)).to.equal(hex(u64le(clock)));
        // Inside the job it is an i64: from 2^63 on it reads as negative.
        expect(r.output[8], String(clock)).to.equal(clock >= 2n ** 63n ? 1 : 0);
      }
    });

    it('is witnessed as the u64 value', () => {
      for (const clock of [0n, 2n ** 63n, 2n ** 64n - 1n]) {
        const r = run('clock', { clock });
        expect(hex(r.witnessRoot), String(clock)).to.equal(hex(witnessOf([['Clock', [clock]], ['OutputWrite', [0, 9]]])));
      }
    });
  });

  describe('logs', () => {
    it('keeps every line under the caps', () => {
      const r = run('logs', { input: new Uint8Array(3) });
      expect(r.status).to.equal(JobStatus.Ok);
      expect(r.logs.map((l) => new TextDecoder().decode(l))).to.deep.equal(['abc', 'abc', 'abc']);
      expect(r.usage.logBytes).to.equal(9);
    });

    it('traps log_limit past maxLogLines, keeping the lines before', () => {
      const r = run('logs', { input: new Uint8Array(5), limits: { maxLogLines: 3 } });
      expect(r).to.include({ status: JobStatus.Trap, trap: 'log_limit' });
      expect(r.logs).to.have.length(3);
      expect(run('logs', { input: new Uint8Array(3), limits: { maxLogLines: 3 } }).status).to.equal(JobStatus.Ok);
    });

    it('traps log_limit past maxLogBytes (all lines together)', () => {
      expect(run('logs', { input: new Uint8Array(3), limits: { maxLogBytes: 9 } }).status).to.equal(JobStatus.Ok);
      const r = run('logs', { input: new Uint8Array(4), limits: { maxLogBytes: 10 } });
      expect(r).to.include({ status: JobStatus.Trap, trap: 'log_limit' });
      expect(r.usage.logBytes).to.equal(9);
    });
  });

  describe('fuel', () => {
    it('a host call costs hostCall + ceil(bytes / bytesPerFuel)', () => {
      for (const n of [0, 1, 7, 8, 9, 16, 17, 1000, 65536]) {
        // 3 instructions, input_size (no bytes) and output_write of n bytes.
        const r = run('write', { input: new Uint8Array(n) });
        expect(r.status, `n=${n}`).to.equal(JobStatus.Ok);
        expect(r.fuelUsed, `n=${n}`).to.equal(start('write') + 3 * COST_TABLE.instruction + hostCall(0) + hostCall(n));
      }
    });

    it('input_read is charged for the bytes it copies, not the bytes asked for', () => {
      // 5 instructions (3 consts, the call, drop); 10 - 2 = 8 bytes copied.
      const r = run('readMore', { input: new Uint8Array(10) });
      expect(r.fuelUsed).to.equal(start('readMore') + 5 * COST_TABLE.instruction + hostCall(8));
      expect(run('readMore', { input: new Uint8Array(1) }).fuelUsed).to.equal(start('readMore') + 5 * COST_TABLE.instruction + hostCall(0));
    });

    it('exactly enough fuel for the last host call is ok; one less runs out inside it', () => {
      const input = new Uint8Array(17);
      const need = start('write') + 3 * COST_TABLE.instruction + hostCall(0) + hostCall(17);
      expect(run('write', { input, fuel: need })).to.include({ status: JobStatus.Ok, fuelUsed: need });
      const r = run('write', { input, fuel: need - 1 });
      expect(r).to.include({ status: JobStatus.OutOfFuel, trap: '', fuelUsed: need - 1 });
      // The call that ran out did nothing: no output, and only input_size is witnessed.
      expect(r.output).to.have.length(0);
      expect(hex(r.outputHash)).to.equal(hex(outputHash(new Uint8Array(0))));
      expect(hex(r.witnessRoot)).to.equal(hex(witnessOf([['InputSize', [17]]])));
      expect(r.usage.hostCalls).to.equal(2);
    });

    it('running out inside a host call and inside wasm both report fuelUsed = the limit', () => {
      expect(run('spin', { fuel: 12_345 })).to.include({ status: JobStatus.OutOfFuel, fuelUsed: 12_345 });
      expect(run('write', { input: new Uint8Array(1), fuel: start('write') + 3 + 20 })).to.include({ status: JobStatus.OutOfFuel, fuelUsed: start('write') + 23 });
    });

    it('starting a job costs instantiate + growPage per initial page + its data bytes / 8; less fuel runs out before anything is made', async () => {
      const empty = loadProgram(await wat(`(module (func (export "run")))`));
      expect(jobStartFuel(empty)).to.equal(COST_TABLE.instantiate);
      expect(execute(empty, spec({ fuel: COST_TABLE.instantiate }))).to.include({ status: JobStatus.Ok, fuelUsed: COST_TABLE.instantiate });
      expect(execute(empty, spec({ fuel: COST_TABLE.instantiate - 1 }))).to.include({ status: JobStatus.OutOfFuel, fuelUsed: COST_TABLE.instantiate - 1 });
      const big = loadProgram(await wat(`(module (memory 3) (data (i32.const 0) "0123456789") (func (export "run")))`));
      expect(jobStartFuel(big)).to.equal(COST_TABLE.instantiate + 3 * COST_TABLE.growPage + 2);
      const none = execute(big, spec({ fuel: jobStartFuel(big) - 1 }));
      expect(none).to.include({ status: JobStatus.OutOfFuel });
      expect(none.usage.memoryPages).to.equal(0); // no instance was made
      expect(run('spin', { fuel: 0 })).to.include({ status: JobStatus.OutOfFuel, fuelUsed: 0 });
    });

    it('rejects a fuel that is not a safe non-negative integer, or over the cap, without running', () => {
      for (const fuel of [-1, 1.5, Number.NaN, 2 ** 53]) expect(run('all', { fuel }), String(fuel)).to.deep.include({ status: JobStatus.Rejected, trap: 'fuel_over_cap', fuelUsed: 0 });
      expect(run('all', { fuel: 101, fuelCap: 100 })).to.include({ status: JobStatus.Rejected, trap: 'fuel_over_cap' });
      expect(run('all', { fuel: 10_000_000, fuelCap: 10_000_000 }).status).to.equal(JobStatus.Ok);
    });

    it('rejects an input over maxInputBytes, with the zero witness and no output', () => {
      const r = run('echo', { input: new Uint8Array(9), limits: { maxInputBytes: 8 } });
      expect(r).to.include({ status: JobStatus.Rejected, trap: 'input_too_large', fuelUsed: 0 });
      expect(hex(r.witnessRoot)).to.equal(hex(new Uint8Array(32)));
      expect(run('echo', { input: new Uint8Array(8), limits: { maxInputBytes: 8 } }).status).to.equal(JobStatus.Ok);
    });
  });

  describe('the stack', () => {
    it('counts the entry frame: a run holding 1,000 operands that then recurses ends stack_exhausted, never an engine fault', async () => {
      const deep = loadProgram(await wat(`(module (func $f call $f) (func (export "run") ${'i32.const 0 '.repeat(1000)}call $f${' drop'.repeat(1000)}))`));
      expect(execute(deep, spec({ fuel: 10_000_000 }))).to.include({ status: JobStatus.StackExhausted, trap: '' });
    });
  });

  describe('the start function', () => {
    it('runs before run, metered', () => {
      const r = run('start');
      expect(r.status).to.equal(JobStatus.Ok);
      expect(hex(r.output)).to.equal('0x07');
      // start: 3; run: i32.const, i32.const, call = 3; output_write of 1 byte.
      expect(r.fuelUsed).to.equal(start('start') + 3 + 3 + hostCall(1));
      expect(run('start', { fuel: start('start') + 2 })).to.include({ status: JobStatus.OutOfFuel, fuelUsed: start('start') + 2 });
      expect(run('start', { fuel: start('start') + 2 }).usage.hostCalls).to.equal(0);
    });

    it('a trap in it ends the job before run', () => {
      const r = run('startTraps');
      expect(r).to.include({ status: JobStatus.Trap, trap: 'unreachable' });
      expect(r.usage.hostCalls).to.equal(0);
    });
  });

  describe('results', () => {
    it('the output hash is the tagged hash of the output, also when a trap ends the job', () => {
      const r = run('echo', { input: u32le(1, 2, 3) });
      expect(hex(r.output)).to.equal(hex(u32le(1, 2, 3)));
      expect(hex(r.outputHash)).to.equal(hex(taggedHash(HashTag.DocklockOutput, u32le(1, 2, 3))));
    });

    it('usage reports the memory at the end (its peak)', async () => {
      const grow = loadProgram(await wat(`(module (memory 1) (func (export "run") (drop (memory.grow (i32.const 2)))))`));
      expect(execute(grow, spec()).usage.memoryPages).to.equal(3);
    });
  });
});
