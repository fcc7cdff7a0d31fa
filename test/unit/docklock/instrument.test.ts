import { expect } from 'chai';
import { DocklockError, DocklockErrorCode, EXPORT_FUEL, EXPORT_MEMORY, EXPORT_START, EXPORT_WHY, LIMITS, MAX_PAGES, instrument, loadProgram } from '../../../docklock/index.js';
import { ALL_FEATURES, EXAMPLE_JOBS, exampleJob, sectionIds, wasmText, wat } from './helpers.js';

const E = DocklockErrorCode;
const RUN = '(func (export "run"))';

/** The DocklockError that instrumenting `bytes` throws. */
function refusal(bytes: Uint8Array, maxBytes?: number): DocklockError {
  try {
    instrument(bytes, maxBytes);
  } catch (e) {
    expect(e).to.be.instanceOf(DocklockError);
    return e as DocklockError;
  }
  throw new Error('the program was accepted');
}

/** A refused program: its WAT (written with every wabt feature on), the error code and words its message must name. */
interface Case {
  what: string;
  wat: string;
  code: DocklockErrorCode;
  words: RegExp;
}

const CASES: Case[] = [
  // SIMD
  { what: 'a v128 local', wat: `(module (func (export "run") (local v128)))`, code: E.Feature, words: /SIMD \(v128\)/ },
  { what: 'a v128 param in a type', wat: `(module ${RUN} (func (param v128)))`, code: E.Feature, words: /type #1 uses SIMD/ },
  { what: 'a SIMD instruction (0xfd)', wat: `(module ${RUN} (func (result i32) i32.const 0 i32x4.splat i32x4.extract_lane 0))`, code: E.Feature, words: /SIMD \(instruction 0xfd\)/ },
  // threads
  { what: 'a shared memory', wat: `(module (memory 1 1 shared) ${RUN})`, code: E.Feature, words: /threads \(shared memory\)/ },
  { what: 'an atomic instruction (0xfe)', wat: `(module (memory 1 1) ${RUN} (func (result i32) i32.const 0 i32.const 1 i32.atomic.rmw.add))`, code: E.Feature, words: /threads \(atomics\) \(instruction 0xfe\)/ },
  // exceptions
  { what: 'a tag section', wat: `(module (tag $e) ${RUN})`, code: E.Feature, words: /exception handling \(a tag section\)/ },
  { what: 'try', wat: `(module ${RUN} (func try nop end))`, code: E.Feature, words: /exception handling \(instruction 0x6\)/ },
  // reference types
  { what: 'an externref param', wat: `(module ${RUN} (func (param externref)))`, code: E.Feature, words: /reference types/ },
  { what: 'an externref table', wat: `(module (table 1 externref) ${RUN})`, code: E.Feature, words: /reference types \(externref\)/ },
  { what: 'table.get', wat: `(module (table 1 funcref) ${RUN} (func i32.const 0 table.get 0 drop))`, code: E.Feature, words: /reference types \(instruction 0x25\)/ },
  { what: 'table.size (0xfc 16)', wat: `(module (table 1 funcref) ${RUN} (func (result i32) table.size 0))`, code: E.Feature, words: /table instructions/ },
  { what: 'two tables', wat: `(module (table 1 funcref) (table 1 funcref) ${RUN})`, code: E.Feature, words: /more than one table/ },
  { what: 'select with a type', wat: `(module ${RUN} (func (result i32) i32.const 1 i32.const 2 i32.const 0 select (result i32)))`, code: E.Feature, words: /reference types \(instruction 0x1c\)/ },
  { what: 'ref.null', wat: `(module ${RUN} (func ref.null func drop))`, code: E.Feature, words: /reference types \(instruction 0xd0\)/ },
  // tail calls
  { what: 'return_call', wat: `(module ${RUN} (func return_call 0))`, code: E.Feature, words: /tail calls \(instruction 0x12\)/ },
  { what: 'return_call_indirect', wat: `(module (type $v (func)) (table 1 funcref) ${RUN} (func i32.const 0 return_call_indirect (type $v)))`, code: E.Feature, words: /tail calls \(instruction 0x13\)/ },
  // memories
  { what: 'memory64', wat: `(module (memory i64 1) ${RUN})`, code: E.Feature, words: /memory64/ },
  { what: 'two memories', wat: `(module (memory 1) (memory 1) ${RUN})`, code: E.Feature, words: /multiple memories/ },
  // constant expressions
  { what: 'a global.get in a global initializer', wat: `(module (global i32 (i32.const 1)) (global i32 (global.get 0)) ${RUN})`, code: E.Feature, words: /reads a global in a constant expression/ },
  { what: 'a global.get as a data offset', wat: `(module (global i32 (i32.const 0)) (memory 1) (data (global.get 0) "x") ${RUN})`, code: E.Feature, words: /data segment #0 reads a global/ },
  { what: 'an extended constant expression', wat: `(module (global i32 (i32.add (i32.const 1) (i32.const 2))) ${RUN})`, code: E.Feature, words: /extended constant expressions/ },
  // segments
  { what: 'a passive element segment (form 1)', wat: `(module (table 1 funcref) (elem func 0) ${RUN})`, code: E.Feature, words: /element segment #0 .*segment form 1/ },
  { what: 'an element segment of expressions (form 4)', wat: `(module (table 1 funcref) (elem (i32.const 0) funcref (ref.null func)) ${RUN})`, code: E.Feature, words: /segment form 4/ },
  { what: 'a data segment past the initial memory', wat: `(module (memory 1) (data (i32.const 65535) "ab") ${RUN})`, code: E.Limit, words: /data segment #0 writes bytes 65535…65537 past the memory's initial 65536/ },
  { what: 'a data segment without a memory', wat: `(module (memory 0) (data (i32.const 0) "a") ${RUN})`, code: E.Limit, words: /past the memory's initial 0/ },
  { what: 'an element segment past the table', wat: `(module (table 1 funcref) (elem (i32.const 1) 0) ${RUN})`, code: E.Limit, words: /element segment #0 writes entries 1…2 past the table's 1/ },
  // imports
  { what: 'an import outside the ABI (env.abort)', wat: `(module (import "env" "abort" (func (param i32 i32 i32 i32))) ${RUN})`, code: E.Import, words: /"env"\."abort", which is not in DockLock's ABI/ },
  { what: 'a name of the ABI from another module', wat: `(module (import "env" "clock" (func (result i64))) ${RUN})`, code: E.Import, words: /"env"\."clock", which is not in DockLock's ABI/ },
  { what: 'an inherited property name (toString)', wat: `(module (import "docklock" "toString" (func)) ${RUN})`, code: E.Import, words: /"docklock"\."toString", which is not in DockLock's ABI/ },
  { what: 'an ABI import with a wrong signature', wat: `(module (import "docklock" "clock" (func (result i32))) ${RUN})`, code: E.Import, words: /as \[\] -> \[i32\]; the ABI's is \[\] -> \[i64\]/ },
  { what: 'an ABI import with a float param', wat: `(module (import "docklock" "log" (func (param i32 f64))) ${RUN})`, code: E.Import, words: /the ABI's is \[i32 i32\] -> \[\]/ },
  { what: 'an imported memory', wat: `(module (import "docklock" "memory" (memory 1)) ${RUN})`, code: E.Import, words: /imports a memory/ },
  { what: 'an imported global', wat: `(module (import "docklock" "g" (global i32)) ${RUN})`, code: E.Import, words: /imports a global/ },
  { what: 'an imported table', wat: `(module (import "docklock" "t" (table 1 funcref)) ${RUN})`, code: E.Import, words: /imports a table/ },
  // the entry point
  { what: 'no run export', wat: `(module (func (export "main")))`, code: E.Entry, words: /exports no "run"/ },
  { what: 'run with params', wat: `(module (func (export "run") (param i32)))`, code: E.Entry, words: /not as a function of type \[\] -> \[\] \(it is \[i32\] -> \[\]\)/ },
  { what: 'run with a result', wat: `(module (func (export "run") (result i32) i32.const 0))`, code: E.Entry, words: /\(it is \[\] -> \[i32\]\)/ },
  { what: 'run that is a memory', wat: `(module (memory (export "run") 1))`, code: E.Entry, words: /exports "run" but not as a function/ },
  { what: 'an export starting with __docklock', wat: `(module ${RUN} (func (export "__docklock_fuel")))`, code: E.Entry, words: /"__docklock_fuel": names starting with __docklock are DockLock's own/ },
  // limits
  { what: 'a memory over MAX_PAGES', wat: `(module (memory ${MAX_PAGES + 1}) ${RUN})`, code: E.Limit, words: new RegExp(`starts at ${MAX_PAGES + 1} pages .* at most ${MAX_PAGES}`) },
  { what: 'a table over LIMITS.tableEntries', wat: `(module (table ${LIMITS.tableEntries + 1} funcref) ${RUN})`, code: E.Limit, words: /table starts with 100001 entries/ },
  // malformed
  { what: 'a memory instruction without a memory', wat: `(module ${RUN} (func (result i32) memory.size))`, code: E.Malformed, words: /a memory instruction in a module without memory/ },
  // Found in review: compile work, the start function's type, memory sizes, frames.
  { what: 'a start function that takes a parameter', wat: `(module (func $s (param i32)) (start $s) ${RUN})`, code: E.Malformed, words: /start function 0 is \[i32\] -> \[\], not \[\] -> \[\]/ },
  { what: 'a memory maximum over 65,536 pages', wat: `(module (memory 1 100000) ${RUN})`, code: E.Malformed, words: /more than 65,536 pages/ },
  { what: 'a function holding 2,000 operands', wat: `(module ${RUN} (func ${'i32.const 0 '.repeat(2000)}${'drop '.repeat(2000)}))`, code: E.Limit, words: /holds up to 2000 operands on its stack; at most 1024/ },
  { what: 'deep operands across many calls (quadratic to compile)', wat: `(module ${RUN} (func $g) (func ${'i64.const 0 '.repeat(1000)}${'call $g '.repeat(3000)}${'drop '.repeat(1000)}))`, code: E.Limit, words: /cost \d+ units to compile/ },
  { what: 'a frame over a quarter of the stack limit', wat: `(module ${RUN} (func (local ${'i64 '.repeat(9000)})))`, code: E.Limit, words: /needs a frame of \d+ units/ },
];

describe('docklock/instrument', () => {
  describe('refuses, naming the problem', () => {
    for (const c of CASES) {
      it(c.what, async () => {
        const e = refusal(await wat(c.wat, ALL_FEATURES));
        expect(e.code, e.message).to.equal(c.code);
        expect(e.message).to.match(c.words);
      });
    }

    it('bytes that are not wasm (bad magic)', () => {
      const e = refusal(new TextEncoder().encode('#!/bin/sh\necho hi\n'));
      expect(e.code).to.equal(E.Malformed);
      expect(e.message).to.match(/not a WebAssembly module \(no \\0asm magic\)/);
    });

    it('too short to have a header', () => {
      const e = refusal(Uint8Array.of(0x00, 0x61, 0x73, 0x6d));
      expect(e.code).to.equal(E.Malformed);
      expect(e.message).to.match(/magic/);
    });

    it('another wasm version', () => {
      const e = refusal(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x02, 0, 0, 0));
      expect(e.code).to.equal(E.Malformed);
      expect(e.message).to.match(/version 1/);
    });

    it('a truncated module, at every length', async () => {
      // The code section is the last one, so every proper prefix lacks something.
      const bytes = await wat(`(module (memory 1) (global (mut i32) (i32.const 5)) (func (export "run") (local i32) i32.const 1 local.set 0))`);
      for (let n = 8; n < bytes.length; n++) {
        const e = refusal(bytes.subarray(0, n));
        // Cutting between two sections leaves a valid prefix: it lacks the code or the entry point.
        expect([E.Malformed, E.Entry], `cut at ${n}: ${e.message}`).to.include(e.code);
        if (e.code === E.Malformed) expect(e.message, `cut at ${n}`).to.match(/malformed module at byte \d+: |no code section/);
      }
      const e = refusal(bytes.subarray(0, bytes.length - 1));
      expect(e.code).to.equal(E.Malformed);
      expect(e.message).to.match(/runs past the end/);
    });

    it('a program over the size cap', async () => {
      const bytes = await wat(`(module ${RUN})`);
      const e = refusal(bytes, bytes.length - 1);
      expect(e.code).to.equal(E.TooLarge);
      expect(e.message).to.equal(`the program is ${bytes.length} bytes; at most ${bytes.length - 1} are allowed`);
      expect(() => instrument(bytes, bytes.length)).to.not.throw();
    });

    it('an unknown section id and a repeated section', async () => {
      const bytes = await wat(`(module ${RUN})`);
      const unknown = new Uint8Array([...bytes, 0x0e, 0x00]);
      expect(refusal(unknown).message).to.match(/unknown section id 14/);
      const ids = sectionIds(bytes);
      expect(ids).to.deep.equal([1, 3, 7, 10]);
      // A second (empty) type section after the code section.
      expect(refusal(new Uint8Array([...bytes, 0x01, 0x01, 0x00])).message).to.match(/the type section is out of order or repeated/);
    });

    it('an export of a global the program does not have (regression: it named the instrumenter\'s fuel counter, and was accepted)', async () => {
      // (module (func (export "run")) (export "f" (global 0))), by hand: wabt will not write it.
      const bytes = Uint8Array.of(
        ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
        ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00], // type: [] -> []
        ...[0x03, 0x02, 0x01, 0x00], // function 0: type 0
        ...[0x07, 0x0b, 0x02, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00, 0x01, 0x66, 0x03, 0x00], // export "run" func 0, "f" global 0
        ...[0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b], // code: an empty body
      );
      expect(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)).to.equal(false);
      const e = refusal(bytes);
      expect(e.code).to.equal(E.Malformed);
      expect(e.message).to.match(/export "f" names global 0, which does not exist/);
      // With a global 0 of its own, the same export is fine.
      const own = await wat(`(module (global (export "f") i32 (i32.const 1)) ${RUN})`);
      expect(() => loadProgram(own)).to.not.throw();
    });

    it('loadProgram refuses a module that does not type-check with DOCKLOCK_INVALID and DockLock\'s own message', async () => {
      const bytes = await wat(`(module (func (export "run") i32.const 1))`); // leaves an i32 on the stack
      try {
        loadProgram(bytes);
        expect.fail('accepted');
      } catch (e) {
        expect((e as DocklockError).code).to.equal(E.Invalid);
        expect((e as DocklockError).message).to.equal('the program is not valid WebAssembly (it does not type-check)');
        expect((e as DocklockError).context.engine).to.be.a('string');
      }
    });
  });

  describe('accepts', () => {
    for (const name of EXAMPLE_JOBS) {
      it(`the example job ${name}: valid, deterministic, without custom sections`, () => {
        const { program } = exampleJob(name);
        const a = instrument(program);
        const b = instrument(new Uint8Array(program));
        expect(Buffer.from(a.code).equals(Buffer.from(b.code)), 'the same bytes twice').to.equal(true);
        expect(WebAssembly.validate(a.code as Uint8Array<ArrayBuffer>)).to.equal(true);
        expect(sectionIds(a.code)).to.not.include(0);
        expect(sectionIds(a.code)).to.not.include(8); // the start section became an export
        expect(a.imports.every((i) => ['input_size', 'input_read', 'output_write', 'random_fill', 'clock', 'log'].includes(i))).to.equal(true);
        expect(a.hasMemory).to.equal(true);
        expect(a.memory.maximum).to.equal(MAX_PAGES); // the jobs declare no maximum
        expect(a.hasStart).to.equal(name !== 'sha256'); // see examples/jobs/README.md
      });
    }

    it('the mandelbrot job has NaN sites; the integer-only sha256 has none', () => {
      expect(instrument(exampleJob('mandelbrot').program).nanSites).to.be.greaterThan(0);
      expect(instrument(exampleJob('sha256').program).nanSites).to.equal(0);
    });

    it('drops custom sections (a name section)', async () => {
      const bytes = await wat(`(module (func $named (export "run")))`, undefined, { names: true });
      expect(sectionIds(bytes)).to.include(0);
      const out = instrument(bytes).code;
      expect(sectionIds(out)).to.not.include(0);
      expect(WebAssembly.validate(out as Uint8Array<ArrayBuffer>)).to.equal(true);
    });

    it('adds its own exports, a start export only when there is a start function', async () => {
      const text = await wasmText(instrument(await wat(`(module (memory 1) (func $s) (start $s) ${RUN})`)).code);
      for (const name of [EXPORT_FUEL, EXPORT_WHY, EXPORT_MEMORY, EXPORT_START]) expect(text).to.include(`(export "${name}"`);
      expect(text).to.not.match(/\(start /);
      const plain = await wasmText(instrument(await wat(`(module ${RUN})`)).code);
      expect(plain).to.include(`(export "${EXPORT_FUEL}"`);
      expect(plain).to.not.include(EXPORT_START);
      expect(plain).to.not.include(EXPORT_MEMORY);
    });

    it('fixes the memory maximum at min(declared, MAX_PAGES)', async () => {
      for (const [decl, max] of [
        ['1', MAX_PAGES],
        ['1 4', 4],
        [`0 ${MAX_PAGES}`, MAX_PAGES],
        ['2 1000', MAX_PAGES],
        ['3 65536', MAX_PAGES],
      ] as const) {
        const out = instrument(await wat(`(module (memory ${decl}) ${RUN})`));
        expect(out.memory.maximum, decl).to.equal(max);
        const [initial] = decl.split(' ');
        expect(await wasmText(out.code), decl).to.match(new RegExp(`\\(memory \\(;0;\\) ${initial} ${max}\\)`));
      }
      expect(instrument(await wat(`(module ${RUN})`)).memory).to.deep.equal({ initial: 0, maximum: 0 });
    });

    it('the whitelisted features: sign-extension, multi-value, saturating truncation, bulk memory, mutable globals', async () => {
      const bytes = await wat(`(module
        (memory 1)
        (data $d "xy")
        (global $g (export "g") (mut i32) (i32.const 0))
        (func $pair (result i32 i64) i32.const 1 i64.const 2)
        (func (export "run")
          (global.set $g (i32.extend8_s (i32.const 0xff)))
          (drop (i32.trunc_sat_f64_s (f64.const 1e100)))
          (drop (drop (call $pair)))
          (memory.fill (i32.const 0) (i32.const 1) (i32.const 4))
          (memory.copy (i32.const 8) (i32.const 0) (i32.const 4))
          (memory.init $d (i32.const 16) (i32.const 0) (i32.const 2))
          (data.drop $d)))`);
      const out = instrument(bytes);
      expect(WebAssembly.validate(out.code as Uint8Array<ArrayBuffer>)).to.equal(true);
    });
  });
});
