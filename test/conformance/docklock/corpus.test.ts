import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { blake3 } from '@noble/hashes/blake3.js';
import { expect } from 'chai';
import { HashTag, fromHex, taggedHash, toHex, utf8 } from '../../../chain/index.js';
import {
  ABI,
  ABI_VERSION,
  CONSENSUS_CONSTANTS,
  COST_TABLE,
  DEFAULT_JOB_LIMITS,
  FRAME_BASE,
  INSTRUMENTER_VERSION,
  JOB_STATUS_NAMES,
  MAX_PAGES,
  STACK_LIMIT,
  TrapKind,
  WorkerPool,
  execute,
  loadProgram,
  outputHash,
  type JobResult,
} from '../../../docklock/index.js';
import {
  CORPUS_DIR,
  CORPUS_VERSION,
  REPO_ROOT,
  costTableHash,
  loadCorpus,
  loadProgramBytes,
  observe,
  runVectors,
  vectorSpec,
  type Expectation,
  type Vector,
} from './corpus.js';

const corpus = loadCorpus();
const byName = new Map(corpus.vectors.map((v) => [v.name, v]));
const vector = (name: string): Vector => {
  const v = byName.get(name);
  if (!v) throw new Error(`the corpus has no vector ${name}`);
  return v;
};
const exp = (name: string): Expectation => vector(name).expect;
const hex = (b: Uint8Array): string => toHex(b);
const le64 = (x: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, x, true);
  return b;
};

let programs: Map<string, Uint8Array>;

/** Runs one vector on this thread, with its whole result. */
function run(name: string): JobResult {
  const v = vector(name);
  return execute(loadProgram(programs.get(v.program)!), vectorSpec(v));
}

const CHANGE_RULE = 'a change of the instrumenter or the cost table must bump INSTRUMENTER_VERSION and regenerate the corpus on purpose (node dist/test/conformance/docklock/generate.js)';

describe('docklock conformance corpus', function () {
  before(async () => {
    programs = await loadProgramBytes(corpus.vectors);
  });

  describe('the corpus pins the current constants', () => {
    it('is a docklock-corpus-1 for the current instrumenter and cost table', () => {
      expect(corpus.version).to.equal(CORPUS_VERSION);
      expect(corpus.instrumenter, `the corpus was made by instrumenter ${corpus.instrumenter}, DockLock's is ${INSTRUMENTER_VERSION}: ${CHANGE_RULE}`).to.equal(INSTRUMENTER_VERSION);
      expect(corpus.costTable, `the cost table or the limits changed: ${CHANGE_RULE}`).to.equal(costTableHash());
    });

    it('the cost-table hash is BLAKE3 of exactly these constants', () => {
      // Written out, so that a new field in DockLock's consensus constants or the ABI shows up here as well.
      const text = JSON.stringify({ ...CONSENSUS_CONSTANTS, ABI_VERSION, ABI });
      expect(text).to.equal(
        '{"INSTRUMENTER_VERSION":1,"COST_TABLE":{"instruction":1,"growPage":8192,"bytesPerFuel":8,"hostCall":20,"instantiate":100},"FRAME_BASE":8,"STACK_LIMIT":32768,' +
        '"SCRATCH_LOCALS":4,"INSTRUMENT_STACK":3,"MAX_PAGES":256,"LIMITS":{"programBytes":4194304,"functions":10000,"locals":10000,"bodyBytes":1048576,"nesting":1024,' +
        '"types":10000,"tableEntries":100000,"globals":10000,"exports":10000,"dataSegments":100000,"operandStack":1024,"compileWork":2000000},"DEFAULT_JOB_LIMITS":{"maxInputBytes":16777216,' +
        '"maxOutputBytes":1048576,"maxLogBytes":16384,"maxLogLines":256},"WITNESS_VERSION":1,"MAX_FUEL":9007199254740991,"ABI_VERSION":1,"ABI":{"input_size":{"params":[],' +
        '"results":[127]},"input_read":{"params":[127,127,127],"results":[127]},"output_write":{"params":[127,127],"results":[]},"random_fill":{"params":[127,127],' +
        '"results":[]},"clock":{"params":[],"results":[126]},"log":{"params":[127,127],"results":[]}}}',
      );
      expect(costTableHash()).to.equal(toHex(blake3(utf8(text))));
    });

    it('covers every status, every trap kind and every example job', () => {
      const statuses = new Set(corpus.vectors.map((v) => v.expect.status));
      for (const s of Object.values(JOB_STATUS_NAMES)) expect(statuses, `a vector with status ${s}`).to.include(s);
      const traps = new Set(corpus.vectors.map((v) => v.expect.trap));
      for (const t of Object.values(TrapKind)) expect(traps, `a vector with trap ${t}`).to.include(t);
      const jobs = readdirSync(new URL('examples/jobs/', REPO_ROOT)).filter((f) => f.endsWith('.wasm'));
      expect(jobs).to.have.length.greaterThan(0);
      for (const j of jobs) expect(corpus.vectors.map((v) => v.program), `a vector for ${j}`).to.include(`examples/jobs/${j}`);
      const wats = readdirSync(new URL('programs/', CORPUS_DIR)).filter((f) => f.endsWith('.wat'));
      for (const w of wats) expect(corpus.vectors.map((v) => v.program), `a vector for programs/${w}`).to.include(`programs/${w}`);
      expect(new Set(corpus.vectors.map((v) => v.name)).size).to.equal(corpus.vectors.length);
    });
  });

  describe('every vector on the main thread', () => {
    for (const v of corpus.vectors) {
      it(v.name, () => {
        const p = loadProgram(programs.get(v.program)!);
        expect(observe(p.hash, execute(p, vectorSpec(v))), `vector ${v.name} moved; if on purpose, ${CHANGE_RULE}`).to.deep.equal(v.expect);
      });
    }
  });

  // Expectations derived by hand from the cost table and the programs, not from the generator:
  // the corpus must be right, not only self-consistent.
  describe('expectations derived by hand', () => {
    it('the counted loop costs 2 + 5 per iteration, after the start (instantiate: no memory, no data); one fuel less runs out', () => {
      const I = COST_TABLE.instruction;
      const cost = COST_TABLE.instantiate + 2 * I + 1000 * 5 * I; // see fuel-loop.wat
      expect(cost).to.equal(5102);
      expect(exp('start-unpaid')).to.include({ status: 'out_of_fuel', fuelUsed: COST_TABLE.instantiate - 1 });
      expect(exp('start-unpaid').usage.memoryPages).to.equal(0);
      expect(vector('fuel-exact').fuel).to.equal(cost);
      expect(exp('fuel-exact')).to.include({ status: 'ok', trap: '', fuelUsed: cost });
      expect(vector('fuel-one-short').fuel).to.equal(cost - 1);
      expect(exp('fuel-one-short')).to.include({ status: 'out_of_fuel', trap: '', fuelUsed: cost - 1 });
      expect(exp('fuel-at-cap')).to.include({ status: 'ok', fuelUsed: cost });
      expect(exp('rejected-fuel-over-cap')).to.include({ status: 'rejected', trap: 'fuel_over_cap', fuelUsed: 0 });
      expect(exp('input-at-cap')).to.include({ status: 'ok', fuelUsed: cost });
      expect(exp('rejected-input-too-large')).to.include({ status: 'rejected', trap: 'input_too_large', fuelUsed: 0 });
    });

    it('the recursion depth that fits follows from FRAME_BASE, STACK_LIMIT and the frame of recurse.wat', () => {
      // The frame: FRAME_BASE + 1 param + 0 locals + 4 scratch locals + 2 operands + 3 for the injected code;
      // run's (0 params, 3 operands) is counted first.
      const frame = FRAME_BASE + 1 + 0 + 4 + 2 + 3;
      const runFrame = FRAME_BASE + 0 + 0 + 4 + 3 + 3;
      const calls = Math.floor((STACK_LIMIT - runFrame) / frame);
      expect(calls).to.equal(1819);
      const depth = (name: string) => new DataView(fromHex(vector(name).input).slice().buffer).getUint32(0, true);
      // Depth n is n + 1 calls of $f.
      expect(depth('stack-deepest') + 1).to.equal(calls);
      expect(exp('stack-deepest').status).to.equal('ok');
      expect(depth('stack-exhausted') + 1).to.equal(calls + 1);
      expect(exp('stack-exhausted')).to.include({ status: 'stack_exhausted', trap: '' });
    });

    it('memory.grow costs growPage per page and traps out_of_memory past min(declared maximum, MAX_PAGES)', () => {
      const base = exp('grow-none').fuelUsed;
      expect(exp('grow-3').fuelUsed - base).to.equal(3 * COST_TABLE.growPage);
      expect(exp('grow-to-max').fuelUsed - base).to.equal((MAX_PAGES - 1) * COST_TABLE.growPage);
      expect(exp('grow-declared-max').fuelUsed - base).to.equal(COST_TABLE.growPage);
      // Output: memory.grow's result (the old size), then memory.size.
      const sizes = (a: number, b: number) => hex(outputHash(new Uint8Array(Uint32Array.of(a, b).buffer)));
      expect(exp('grow-none').outputHash).to.equal(sizes(1, 1));
      expect(exp('grow-3').outputHash).to.equal(sizes(1, 4));
      expect(exp('grow-to-max').outputHash).to.equal(sizes(1, MAX_PAGES));
      expect(exp('grow-to-max').usage.memoryPages).to.equal(MAX_PAGES);
      expect(exp('grow-declared-max').outputHash).to.equal(sizes(1, 2));
      for (const n of ['grow-past-max', 'grow-huge', 'grow-past-declared-max']) expect(exp(n), n).to.include({ status: 'out_of_memory', trap: '' });
    });

    it('bulk memory costs ceil(n / bytesPerFuel) for each of its n bytes', () => {
      const per = (n: number) => Math.ceil(n / COST_TABLE.bytesPerFuel);
      const base = exp('bulk-empty').fuelUsed;
      expect(exp('bulk-small').fuelUsed - base).to.equal(per(1) + per(9));
      expect(exp('bulk-large').fuelUsed - base).to.equal(per(60000) + per(4000));
      const out = new Uint8Array(24);
      out.set(utf8('docklock'), 16);
      expect(exp('bulk-empty').outputHash).to.equal(hex(outputHash(out)));
      out[0] = 0xab; // 1 byte filled, 9 copied (the other 8 are zeros)
      expect(exp('bulk-small').outputHash).to.equal(hex(outputHash(out)));
      expect(exp('bulk-fill-out-of-bounds')).to.include({ status: 'trap', trap: 'memory_out_of_bounds' });
    });

    it('NaN results are canonical: f64 0x7ff8000000000000, f32 0x7fc00000, whatever the machine made', () => {
      const C64 = 0x7ff8000000000000n;
      const C32 = 0x7fc00000;
      const want = new Uint8Array(168);
      const dv = new DataView(want.buffer);
      const f64 = [C64, C64, C64, C64, C64, C64, C64, C64, C64, 0xfff8000000000000n, 0x7ffc000000000001n, 0x3fd5555555555555n, C64, C64, C64, C64];
      f64.forEach((x, i) => dv.setBigUint64(8 * i, x, true));
      for (let i = 0; i < 10; i++) dv.setUint32(128 + 4 * i, C32, true);
      const r = run('nan-canonical');
      expect(hex(r.output)).to.equal(hex(want));
      expect(exp('nan-canonical').outputHash).to.equal(hex(outputHash(want)));
    });

    it('plain V8 (not instrumented) gives other NaN bits for the same program, so the canonicalisation is what fixes them', function () {
      if (process.arch !== 'x64' && process.arch !== 'arm64') this.skip();
      let out: Uint8Array | undefined;
      const inst = new WebAssembly.Instance(new WebAssembly.Module(programs.get('programs/nan.wat')! as Uint8Array<ArrayBuffer>), {
        docklock: { output_write: (p: number, l: number) => (out = new Uint8Array((inst.exports.memory as WebAssembly.Memory).buffer, p, l).slice()) },
      });
      (inst.exports.run as () => void)();
      expect(hex(out!)).to.not.equal(hex(run('nan-canonical').output));
    });

    it('the start function runs first and is metered: the start (one page) + 5 + 9 + a 4-byte output_write', () => {
      const hostcall = (bytes: number) => COST_TABLE.hostCall + Math.ceil(bytes / COST_TABLE.bytesPerFuel);
      const begin = COST_TABLE.instantiate + COST_TABLE.growPage;
      expect(exp('start')).to.include({ status: 'ok', fuelUsed: begin + 5 + 9 + hostcall(4), outputHash: hex(outputHash(Uint8Array.of(43, 0, 0, 0))) });
      expect(exp('start-out-of-fuel')).to.include({ status: 'out_of_fuel', fuelUsed: begin + 4 });
      expect(exp('start-out-of-fuel').usage.hostCalls).to.equal(0);
    });

    it('the host-call job: its output, fuel and witness root computed from the ABI by hand', () => {
      for (const name of ['hostcalls', 'hostcalls-clock-u64-max']) {
        const v = vector(name);
        const input = fromHex(v.input);
        const n = input.length;
        const clock = BigInt(v.clock);
        const random = blake3(Uint8Array.of(HashTag.DocklockRandom, ...fromHex(v.jobId)), { dkLen: 16 });
        const tail = new Uint8Array([...random, ...le64(clock)]);
        // Each link: taggedHash(DocklockWitness, previous ‖ call id ‖ arguments and results as u64
        // big-endian ‖ a log line's bytes), call ids 1…6 in ABI order (docklock/runtime.ts).
        const calls: [number, (number | bigint)[], Uint8Array?][] = [
          [1, [n]], // input_size
          [2, [0, 256, n, n]], // input_read (offset, ptr, len, copied)
          [4, [512, 16]], // random_fill
          [5, [clock]], // clock
          [6, [128, 5], utf8('hello')], // log
          [3, [256, n]], // output_write
          [3, [512, 24]], // output_write
        ];
        let witness: Uint8Array = new Uint8Array(32);
        for (const [call, args, data] of calls) {
          const entry = new Uint8Array(1 + 8 * args.length);
          entry[0] = call;
          args.forEach((a, i) => new DataView(entry.buffer).setBigUint64(1 + 8 * i, BigInt(a)));
          witness = taggedHash(HashTag.DocklockWitness, witness, entry, data ?? new Uint8Array(0));
        }
        const bytes = (k: number) => Math.ceil(k / COST_TABLE.bytesPerFuel);
        // The start (one page and the 5-byte data segment "hello"), 22 instructions of run (see hostcalls.wat), 7 calls, and their bytes.
        const fuel = COST_TABLE.instantiate + COST_TABLE.growPage + bytes(5) + 22 * COST_TABLE.instruction + 7 * COST_TABLE.hostCall + bytes(n) + bytes(16) + bytes(5) + bytes(n) + bytes(24);
        expect(exp(name), name).to.deep.include({
          status: 'ok',
          fuelUsed: fuel,
          outputHash: hex(outputHash(new Uint8Array([...input, ...tail]))),
          witnessRoot: hex(witness),
          usage: { memoryPages: 1, hostCalls: 7, outputBytes: n + 24, logBytes: 5 },
        });
      }
    });

    it('the limits trap at their exact boundary and keep what came before', () => {
      expect(exp('trap-output-limit')).to.deep.include({ status: 'trap', trap: 'output_limit', outputHash: hex(outputHash(new Uint8Array(DEFAULT_JOB_LIMITS.maxOutputBytes))) });
      expect(exp('trap-output-limit').usage.outputBytes).to.equal(DEFAULT_JOB_LIMITS.maxOutputBytes);
      expect(exp('trap-log-lines')).to.include({ status: 'trap', trap: 'log_limit' });
      expect(exp('trap-log-lines').usage.logBytes).to.equal(DEFAULT_JOB_LIMITS.maxLogLines);
      expect(exp('trap-log-bytes').usage.logBytes).to.equal(100);
      expect(run('trap-log-lines').logs).to.have.length(DEFAULT_JOB_LIMITS.maxLogLines);
    });

    it('every trap kind is the one its program makes', () => {
      const want: Record<string, string> = {
        'trap-unreachable': 'unreachable',
        'trap-memory-out-of-bounds': 'memory_out_of_bounds',
        'trap-host-bad-pointer': 'memory_out_of_bounds',
        'trap-divide-by-zero': 'divide_by_zero',
        'trap-integer-overflow': 'integer_overflow',
        'trap-invalid-conversion-nan': 'invalid_conversion',
        'trap-invalid-conversion-1e100': 'invalid_conversion',
        'trap-table-out-of-bounds': 'table_out_of_bounds',
        'trap-indirect-signature': 'indirect_call_mismatch',
        'trap-indirect-null': 'indirect_call_mismatch',
        'trap-output-limit': 'output_limit',
        'trap-log-lines': 'log_limit',
        'trap-log-bytes': 'log_limit',
      };
      for (const [name, trap] of Object.entries(want)) expect(exp(name), name).to.include({ status: 'trap', trap });
      // The bad pointer's call is charged but writes nothing: only the first 4 bytes are out.
      expect(exp('trap-host-bad-pointer').usage).to.include({ hostCalls: 2, outputBytes: 4 });
    });

    it('the example jobs give their documented outputs', () => {
      const input = (name: string) => fromHex(vector(name).input);
      expect(hex(input('example-sha256'))).to.equal(hex(readFileSync(new URL('examples/jobs/inputs/abc.bin', REPO_ROOT))));
      expect(exp('example-sha256').outputHash).to.equal(hex(outputHash(createHash('sha256').update(input('example-sha256')).digest())));
      const values = new Uint32Array(input('example-sort').slice().buffer).sort();
      expect(exp('example-sort').outputHash).to.equal(hex(outputHash(new Uint8Array(values.buffer))));
      const mandelbrot = run('example-mandelbrot').output;
      expect(mandelbrot).to.have.length(64 * 64 + 8);
      expect(hex(mandelbrot.subarray(64 * 64))).to.equal(hex(le64(0x7ff8000000000000n)));
      const hostcalls = run('example-hostcalls');
      const text = input('example-hostcalls');
      expect(hex(hostcalls.output.subarray(0, text.length))).to.equal(hex(text.slice().reverse()));
      expect(hex(hostcalls.output.subarray(text.length + 16))).to.equal(hex(le64(BigInt(vector('example-hostcalls').clock))));
      expect(new TextDecoder().decode(hostcalls.logs[0])).to.equal(`hostcalls: ${text.length} bytes`);
      for (const v of corpus.vectors.filter((x) => x.name.startsWith('example-'))) expect(v.expect.status, v.name).to.equal('ok');
    });
  });

  // The same corpus where the engine differs: a result that moves with the engine is a consensus bug.
  describe('under other engine conditions the results do not move', () => {
    /** The vectors whose observation differs from the corpus, each with both (empty when none moved). */
    const moved = (got: Record<string, Expectation | undefined>) =>
      corpus.vectors.filter((v) => JSON.stringify(got[v.name]) !== JSON.stringify(v.expect)).map((v) => ({ name: v.name, want: v.expect, got: got[v.name] }));

    for (const stackSizeMB of [1, 8]) {
      it(`in a worker thread with a ${stackSizeMB} MiB stack`, async () => {
        const pool = new WorkerPool({ workers: 1, timeoutMs: 60_000, stackSizeMB, maxHeapMB: 256 });
        try {
          const got: Record<string, Expectation> = {};
          for (const v of corpus.vectors) {
            const { result, receipt } = await pool.run(programs.get(v.program)!, vectorSpec(v));
            got[v.name] = observe(receipt.programHash, result);
          }
          expect(moved(got)).to.deep.equal([]);
        } finally {
          await pool.close();
        }
      });
    }

    const script = fileURLToPath(new URL('./run-corpus.js', import.meta.url));
    for (const flags of [['--no-opt'], ['--liftoff-only'], ['--no-liftoff'], ['--stack-size=500']]) {
      it(`in a child process with node ${flags.join(' ')}`, async () => {
        const { stdout } = await promisify(execFile)(process.execPath, [...flags, script], { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 });
        const out = JSON.parse(stdout) as { execArgv: string[]; results: Record<string, Expectation> };
        expect(out.execArgv).to.deep.equal(flags);
        expect(moved(out.results)).to.deep.equal([]);
      });
    }

    // Another Node.js, so another V8: the machines ship Node 20 (/usr/bin/node) next to the
    // project's Node 24. DockLock's code needs nothing newer than what Node 20 has.
    const others = ['/usr/bin/node', '/usr/local/bin/node'].filter((p) => existsSync(p));
    it(`under another Node.js version on this machine (${others.join(', ') || 'none found'})`, async function () {
      const versions = await Promise.all(others.map(async (bin) => ({ bin, version: (await promisify(execFile)(bin, ['--version'])).stdout.trim() })));
      const other = versions.find((v) => v.version !== process.version);
      if (!other) {
        console.log(`      (skipped: no Node.js other than ${process.version} on this machine)`);
        return this.skip();
      }
      const { stdout } = await promisify(execFile)(other.bin, [script], { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 });
      const out = JSON.parse(stdout) as { results: Record<string, Expectation> };
      expect(Object.keys(out.results)).to.have.length(corpus.vectors.length);
      expect(moved(out.results), `Node ${other.version} against ${process.version}`).to.deep.equal([]);
    });

    it('again on the main thread, each program compiled anew', () => {
      expect(moved(runVectors(corpus.vectors, programs))).to.deep.equal([]);
    });
  });
});
