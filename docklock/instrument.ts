import { ABI, ABI_MODULE, ENTRY, RESERVED_EXPORT_PREFIX } from './abi.js';
import { DocklockError, DocklockErrorCode as E } from './errors.js';
import { Imm, OPS, rejectedFeature } from './opcodes.js';
import { COST_TABLE, FRAME_BASE, INSTRUMENT_STACK, LIMITS, MAX_PAGES, SCRATCH_LOCALS, STACK_LIMIT } from './options.js';
import { Reader, ValType, Writer, sameType, typeText, type FuncType } from './wasm.js';

/** Why an instrumented module trapped, as it leaves it in its `__docklock_why` global before `unreachable`. */
export const Why = { None: 0, Fuel: 1, Stack: 2, Memory: 3, Engine: 4 } as const;

export const EXPORT_FUEL = '__docklock_fuel';
export const EXPORT_WHY = '__docklock_why';
export const EXPORT_MEMORY = '__docklock_memory';
export const EXPORT_START = '__docklock_start';

/** What instrumenting a program gives: the module to run and what was learned about it. */
export interface Instrumented {
  /** The rewritten module (custom sections dropped, start function turned into an export). */
  code: Uint8Array;
  /** The ABI functions the program imports, in import order. */
  imports: string[];
  hasMemory: boolean;
  hasStart: boolean;
  /** Memory pages at start and the maximum the job runs with. */
  memory: { initial: number; maximum: number };
  functions: number;
  instructions: number;
  /** Float instructions followed by a NaN canonicalisation. */
  nanSites: number;
  /** Bytes of all data segments (charged when a job starts). */
  dataBytes: number;
  /** The most operands any function holds. */
  maxStack: number;
  /** Σ over functions of (most operands × conditional checks): what compiling it costs (LIMITS.compileWork). */
  compileWork: number;
}

const SECTION_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };
const SECTION_NAMES: Record<number, string> = { 1: 'type', 2: 'import', 3: 'function', 4: 'table', 5: 'memory', 6: 'global', 7: 'export', 8: 'start', 9: 'element', 10: 'code', 11: 'data', 12: 'data count' };

const feature = (what: string, feat: string): never => {
  throw new DocklockError(E.Feature, `${what} uses ${feat}, which DockLock does not allow (allowed: MVP, sign-extension, multi-value, mutable globals, saturating float-to-int, bulk memory)`);
};
const limit = (msg: string): never => {
  throw new DocklockError(E.Limit, msg);
};

function valType(r: Reader, what: string): number {
  const t = r.u8();
  if (t === 0x7f || t === 0x7e || t === 0x7d || t === 0x7c) return t;
  if (t === 0x7b) return feature(what, 'SIMD (v128)');
  if (t === 0x70 || t === 0x6f || t === 0x64 || t === 0x63) return feature(what, 'reference types');
  return r.fail(`${what}: unknown value type 0x${t.toString(16)}`);
}

function limits(r: Reader, what: string): { min: number; max?: number } {
  const flags = r.u8();
  if (flags === 2 || flags === 3) return feature(what, 'threads (shared memory)');
  if (flags >= 4 && flags <= 7) return feature(what, 'memory64');
  if (flags > 1) return r.fail(`${what}: bad limits flags 0x${flags.toString(16)}`);
  const min = r.u32();
  return flags === 1 ? { min, max: r.u32() } : { min };
}

/** A constant expression of an initializer or an offset: only a constant (no global.get, no extended-const). */
function constExpr(r: Reader, what: string): { type: number; value: bigint } {
  const op = r.u8();
  let out: { type: number; value: bigint };
  if (op === 0x41) out = { type: ValType.I32, value: r.sleb(32) };
  else if (op === 0x42) out = { type: ValType.I64, value: r.sleb(64) };
  else if (op === 0x43 || op === 0x44) {
    r.skip(op === 0x43 ? 4 : 8);
    out = { type: op === 0x43 ? ValType.F32 : ValType.F64, value: 0n };
  }
  else if (op === 0x23) throw new DocklockError(E.Feature, `${what} reads a global in a constant expression, which DockLock does not allow (initializers and offsets must be constants)`);
  else return feature(what, 'extended constant expressions or reference types');
  if (r.u8() !== 0x0b) feature(what, 'extended constant expressions');
  return out;
}

interface Body {
  /** Its index in the function space. */
  fn: number;
  start: number;
  end: number;
  /** Raw local declarations and how many entries and locals they hold. */
  localsRaw: Uint8Array;
  localEntries: number;
  locals: number;
  /** Per instruction: code (0x100+sub for 0xFC), byte span, and the callee (call) or type (call_indirect). */
  ops: number[];
  starts: number[];
  ends: number[];
  targets: Map<number, number>;
  /** The most operands on its stack at once. */
  maxStack: number;
  /** The conditional branches the body will have (its own and the injected checks): each costs the engine's compiler a copy of the operand stack. */
  checks: number;
}

/**
 * Validates a program against DockLock's rules and rewrites it (INSTRUMENTER_VERSION): fuel charged
 * per metering block into an i64 global that traps inside the module when it runs out, memory.grow
 * and bulk memory charged by size, a stack-height counter around every call (a frame's cost in
 * 8-byte units) that traps past STACK_LIMIT, the memory's maximum fixed at MAX_PAGES (growth past
 * it traps), a canonical NaN after every float instruction that can make one, and the start
 * function turned into an export so that the host sets the fuel before any of the program runs.
 * Throws DocklockError naming the problem. Pure and deterministic: the same bytes in, the same out.
 */
export function instrument(bytes: Uint8Array, maxBytes: number = LIMITS.programBytes): Instrumented {
  if (bytes.length > maxBytes) throw new DocklockError(E.TooLarge, `the program is ${bytes.length} bytes; at most ${maxBytes} are allowed`);
  const r = new Reader(bytes);
  if (bytes.length < 8 || r.u8() !== 0x00 || r.u8() !== 0x61 || r.u8() !== 0x73 || r.u8() !== 0x6d) throw new DocklockError(E.Malformed, 'not a WebAssembly module (no \\0asm magic)');
  if (r.u8() !== 1 || r.u8() !== 0 || r.u8() !== 0 || r.u8() !== 0) throw new DocklockError(E.Malformed, 'not a WebAssembly version 1 module');

  const types: FuncType[] = [];
  let typesRaw: Uint8Array | undefined;
  const imports: string[] = [];
  let importRaw: Uint8Array | undefined;
  const funcTypes: number[] = [];
  let tableRaw: Uint8Array | undefined;
  let table: { min: number; max?: number } | undefined;
  let memory: { min: number; max?: number } | undefined;
  let globalsRaw: Uint8Array = new Uint8Array(0);
  let globals = 0;
  let exportsRaw: Uint8Array = new Uint8Array(0);
  let exportCount = 0;
  let start: number | undefined;
  let elemRaw: Uint8Array | undefined;
  const tableFuncs: number[] = [];
  let dataCountRaw: Uint8Array | undefined;
  let dataRaw: Uint8Array | undefined;
  let dataBytes = 0;
  const bodies: Body[] = [];
  let entry = false;
  let entryFn = 0;
  let lastOrder = 0;
  const seen = new Set<number>();

  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) r.fail('a section runs past the end');
    if (id === 0) {
      r.pos = end; // custom sections (names, producers…) are dropped
      continue;
    }
    if (id === 13) feature('the program', 'exception handling (a tag section)');
    const order = SECTION_ORDER[id];
    if (order === undefined) r.fail(`unknown section id ${id}`);
    if (seen.has(id) || order <= lastOrder) r.fail(`the ${SECTION_NAMES[id]} section is out of order or repeated`);
    seen.add(id);
    lastOrder = order;
    const s = new Reader(bytes, r.pos, end);
    const what = `the ${SECTION_NAMES[id]} section`;
    switch (id) {
      case 1: {
        const n = s.u32();
        if (n > LIMITS.types) limit(`the program declares ${n} types; at most ${LIMITS.types} are allowed`);
        for (let i = 0; i < n; i++) {
          const form = s.u8();
          if (form !== 0x60) {
            if (form === 0x5e || form === 0x5f || form === 0x50 || form === 0x4e || form === 0x4f) feature(`type #${i}`, 'garbage collection');
            s.fail(`type #${i} is not a function type`);
          }
          const params = Array.from({ length: s.u32() }, () => valType(s, `type #${i}`));
          const results = Array.from({ length: s.u32() }, () => valType(s, `type #${i}`));
          types.push({ params, results });
        }
        typesRaw = bytes.subarray(r.pos, end);
        break;
      }
      case 2: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const mod = s.name();
          const name = s.name();
          const kind = s.u8();
          const label = `"${mod.slice(0, 64)}"."${name.slice(0, 64)}"`;
          if (kind !== 0) throw new DocklockError(E.Import, `the program imports ${['a function', 'a table', 'a memory', 'a global', 'a tag'][kind] ?? 'something'} ${label}; DockLock provides only the ABI functions of "${ABI_MODULE}"`);
          const t = s.u32();
          const type = types[t];
          if (!type) s.fail(`import ${label} names type ${t}, which does not exist`);
          const abi = ABI[name];
          if (mod !== ABI_MODULE || !abi || !Object.hasOwn(ABI, name)) throw new DocklockError(E.Import, `the program imports ${label}, which is not in DockLock's ABI (it has "${ABI_MODULE}".${Object.keys(ABI).join(', ')})`);
          if (!sameType(type, abi.params, abi.results)) throw new DocklockError(E.Import, `the program imports ${label} as ${typeText(type)}; the ABI's is ${typeText(abi)}`);
          imports.push(name);
          funcTypes.push(t);
        }
        importRaw = bytes.subarray(r.pos, end);
        break;
      }
      case 3: {
        const n = s.u32();
        if (n > LIMITS.functions) limit(`the program defines ${n} functions; at most ${LIMITS.functions} are allowed`);
        for (let i = 0; i < n; i++) {
          const t = s.u32();
          if (!types[t]) s.fail(`function #${i} names type ${t}, which does not exist`);
          funcTypes.push(t);
        }
        break;
      }
      case 4: {
        const n = s.u32();
        if (n > 1) feature('the program', 'reference types (more than one table)');
        if (n === 1) {
          const t = s.u8();
          if (t !== 0x70) feature('the table', t === 0x6f ? 'reference types (externref)' : 'typed references');
          table = limits(s, 'the table');
          if (table.min > LIMITS.tableEntries) limit(`the table starts with ${table.min} entries; at most ${LIMITS.tableEntries} are allowed`);
        }
        tableRaw = bytes.subarray(r.pos, end);
        break;
      }
      case 5: {
        const n = s.u32();
        if (n > 1) feature('the program', 'multiple memories');
        if (n === 1) {
          memory = limits(s, 'the memory');
          if (memory.min > 65536 || (memory.max ?? 0) > 65536) s.fail('a memory of more than 65,536 pages');
          if (memory.max !== undefined && memory.max < memory.min) s.fail('the memory maximum is below its initial size');
          if (memory.min > MAX_PAGES) limit(`the memory starts at ${memory.min} pages (64 KiB each); a job may have at most ${MAX_PAGES}`);
        }
        break;
      }
      case 6: {
        const n = s.u32();
        if (n > LIMITS.globals) limit(`the program declares ${n} globals; at most ${LIMITS.globals} are allowed`);
        const from = s.pos;
        for (let i = 0; i < n; i++) {
          const t = valType(s, `global #${i}`);
          const mut = s.u8();
          if (mut > 1) s.fail(`global #${i}: bad mutability`);
          const init = constExpr(s, `global #${i}`);
          if (init.type !== t) s.fail(`global #${i}: its initializer is not of its type`);
        }
        globals = n;
        globalsRaw = bytes.subarray(from, end);
        break;
      }
      case 7: {
        const n = s.u32();
        if (n > LIMITS.exports) limit(`the program exports ${n} names; at most ${LIMITS.exports} are allowed`);
        const from = s.pos;
        for (let i = 0; i < n; i++) {
          const name = s.name();
          const kind = s.u8();
          const index = s.u32();
          // The instrumenter's own globals come right after the program's: an export naming one would be accepted.
          if (kind === 3 && index >= globals) s.fail(`export "${name.slice(0, 64)}" names global ${index}, which does not exist`);
          if (name.startsWith(RESERVED_EXPORT_PREFIX)) throw new DocklockError(E.Entry, `the program exports "${name.slice(0, 64)}": names starting with ${RESERVED_EXPORT_PREFIX} are DockLock's own`);
          if (name === ENTRY) {
            const t = kind === 0 ? types[funcTypes[index] ?? -1] : undefined;
            if (!t || t.params.length || t.results.length) throw new DocklockError(E.Entry, `the program exports "${ENTRY}" but not as a function of type [] -> []${t ? ` (it is ${typeText(t)})` : ''}`);
            entry = true;
            entryFn = index;
          }
        }
        exportCount = n;
        exportsRaw = bytes.subarray(from, end);
        break;
      }
      case 8:
        start = s.u32();
        if (funcTypes[start] === undefined) s.fail(`the start function ${start} does not exist`);
        // It becomes an export the host calls with no arguments: it must be [] -> [] (the engine no longer checks it).
        if (types[funcTypes[start]!]!.params.length || types[funcTypes[start]!]!.results.length) s.fail(`the start function ${start} is ${typeText(types[funcTypes[start]!]!)}, not [] -> []`);
        if (start < imports.length) throw new DocklockError(E.Import, 'the start function is an imported (host) function');
        break;
      case 9: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const flags = s.u32();
          if (flags !== 0) feature(`element segment #${i}`, `reference types or bulk table operations (segment form ${flags})`);
          const offset = constExpr(s, `element segment #${i}`);
          if (offset.type !== ValType.I32) s.fail(`element segment #${i}: its offset is not an i32`);
          const count = s.u32();
          const at = Number(BigInt.asUintN(32, offset.value));
          if (!table || at + count > table.min) limit(`element segment #${i} writes entries ${at}…${at + count} past the table's ${table?.min ?? 0}`);
          for (let k = 0; k < count; k++) {
            const f = s.u32();
            if (funcTypes[f] === undefined) s.fail(`element segment #${i} names function ${f}, which does not exist`);
            tableFuncs.push(f);
          }
        }
        elemRaw = bytes.subarray(r.pos, end);
        break;
      }
      case 12:
        s.u32();
        dataCountRaw = bytes.subarray(r.pos, end);
        break;
      case 10: {
        const n = s.u32();
        if (n !== funcTypes.length - imports.length) s.fail(`the code section has ${n} bodies for ${funcTypes.length - imports.length} functions`);
        for (let i = 0; i < n; i++) {
          const size = s.u32();
          if (size > LIMITS.bodyBytes) limit(`function #${imports.length + i} is ${size} bytes; at most ${LIMITS.bodyBytes} are allowed`);
          const bodyEnd = s.pos + size;
          if (bodyEnd > end) s.fail('a function body runs past its section');
          bodies.push(decodeBody(bytes, s.pos, bodyEnd, imports.length + i, { types, funcTypes, globals, hasMemory: memory !== undefined, hasTable: table !== undefined }));
          s.pos = bodyEnd;
        }
        break;
      }
      case 11: {
        const n = s.u32();
        if (n > LIMITS.dataSegments) limit(`the program has ${n} data segments; at most ${LIMITS.dataSegments} are allowed`);
        for (let i = 0; i < n; i++) {
          const flags = s.u32();
          if (flags > 2) s.fail(`data segment #${i}: bad flags ${flags}`);
          if (flags === 2 && s.u32() !== 0) feature(`data segment #${i}`, 'multiple memories');
          let at = -1;
          if (flags !== 1) {
            const offset = constExpr(s, `data segment #${i}`);
            if (offset.type !== ValType.I32) s.fail(`data segment #${i}: its offset is not an i32`);
            at = Number(BigInt.asUintN(32, offset.value));
          }
          const len = s.u32();
          s.skip(len);
          dataBytes += len;
          if (at >= 0 && (!memory || at + len > memory.min * 65536)) limit(`data segment #${i} writes bytes ${at}…${at + len} past the memory's initial ${(memory?.min ?? 0) * 65536}`);
        }
        dataRaw = bytes.subarray(r.pos, end);
        break;
      }
    }
    if (s.pos !== end) s.fail(`${what} has ${end - s.pos} bytes left over`);
    r.pos = end;
  }
  if (bodies.length !== funcTypes.length - imports.length) r.fail('the module has functions but no code section');
  if (!entry) throw new DocklockError(E.Entry, `the program exports no "${ENTRY}" function (the entry point, of type [] -> [])`);

  // Frame costs: what a call to each function adds to the stack-height counter.
  const costs = funcTypes.map((t, f) => {
    if (f < imports.length) return 0;
    const b = bodies[f - imports.length]!;
    const cost = FRAME_BASE + types[t]!.params.length + b.locals + SCRATCH_LOCALS + b.maxStack + INSTRUMENT_STACK;
    if (cost > STACK_LIMIT / 4) limit(`function #${f} needs a frame of ${cost} units (locals and operands); at most ${STACK_LIMIT / 4} are allowed`);
    return cost;
  });
  const work = bodies.reduce((n, b) => n + b.maxStack * b.checks, 0);
  if (work > LIMITS.compileWork) limit(`the program would cost ${work} units to compile (operands on the stack × branches, summed over functions); at most ${LIMITS.compileWork} are allowed`);
  // The entry frames count too: the host's call of run (or of the start function) starts the counter at its frame.
  const entryDepth = Math.max(costs[entryFn]!, start !== undefined ? costs[start]! : 0);
  const indirectCost = tableFuncs.reduce((m, f) => Math.max(m, costs[f]!), FRAME_BASE);
  const maximum = Math.min(memory?.max ?? MAX_PAGES, MAX_PAGES);

  const F = globals;
  const W = globals + 2;
  const ctx: EmitContext = { F, D: globals + 1, W, costs, indirectCost, imports: imports.length, maxPages: maximum, types, funcTypes, nanSites: 0 };

  const w = new Writer();
  w.raw(bytes.subarray(0, 8));
  if (typesRaw) w.section(1, (x) => x.raw(typesRaw!));
  if (importRaw) w.section(2, (x) => x.raw(importRaw!));
  if (funcTypes.length > imports.length) w.section(3, (x) => {
    x.u32(funcTypes.length - imports.length);
    for (let f = imports.length; f < funcTypes.length; f++) x.u32(funcTypes[f]!);
  });
  if (tableRaw) w.section(4, (x) => x.raw(tableRaw!));
  if (memory) w.section(5, (x) => x.u32(1).byte(1).u32(memory!.min).u32(maximum));
  w.section(6, (x) => {
    x.u32(globals + 3).raw(globalsRaw);
    x.byte(ValType.I64).byte(1).byte(0x42).sleb(0n).byte(0x0b); // fuel left
    x.byte(ValType.I32).byte(1).byte(0x41).sleb(BigInt(entryDepth)).byte(0x0b); // stack height, from the entry frame
    x.byte(ValType.I32).byte(1).byte(0x41).sleb(0n).byte(0x0b); // why it trapped
  });
  w.section(7, (x) => {
    x.u32(exportCount + 2 + (memory ? 1 : 0) + (start !== undefined ? 1 : 0)).raw(exportsRaw);
    x.name(EXPORT_FUEL).byte(3).u32(F);
    x.name(EXPORT_WHY).byte(3).u32(W);
    if (memory) x.name(EXPORT_MEMORY).byte(2).u32(0);
    if (start !== undefined) x.name(EXPORT_START).byte(0).u32(start);
  });
  if (elemRaw) w.section(9, (x) => x.raw(elemRaw!));
  if (dataCountRaw) w.section(12, (x) => x.raw(dataCountRaw!));
  if (bodies.length) w.section(10, (x) => {
    x.u32(bodies.length);
    for (const b of bodies) {
      const body = emitBody(bytes, b, ctx);
      x.u32(body.length).raw(body);
    }
  });
  if (dataRaw) w.section(11, (x) => x.raw(dataRaw!));
  return {
    code: w.finish(),
    imports,
    hasMemory: memory !== undefined,
    hasStart: start !== undefined,
    memory: { initial: memory?.min ?? 0, maximum: memory ? maximum : 0 },
    functions: bodies.length,
    instructions: bodies.reduce((n, b) => n + b.ops.length, 0),
    nanSites: ctx.nanSites,
    dataBytes,
    maxStack: bodies.reduce((m, b) => Math.max(m, b.maxStack), 0),
    compileWork: bodies.reduce((n, b) => n + b.maxStack * b.checks, 0),
  };
}


/** Control instructions that end a metering block. */
const SPLIT = new Set([0x00, 0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]);

interface ModuleInfo {
  types: FuncType[];
  funcTypes: number[];
  globals: number;
  hasMemory: boolean;
  hasTable: boolean;
}

function blockType(r: Reader, types: FuncType[], fn: number): { params: number; results: number } {
  const b = r.peek();
  if (b === 0x40) return (r.pos++, { params: 0, results: 0 });
  if (b === 0x7f || b === 0x7e || b === 0x7d || b === 0x7c) return (r.pos++, { params: 0, results: 1 });
  if (b === 0x7b) return feature(`function #${fn}`, 'SIMD (v128)');
  if (b === 0x70 || b === 0x6f || b === 0x64 || b === 0x63) return feature(`function #${fn}`, 'reference types');
  const t = r.sleb(33);
  const type = t >= 0n ? types[Number(t)] : undefined;
  if (!type) r.fail(`function #${fn}: bad block type`);
  return { params: type.params.length, results: type.results.length };
}

/** Decodes one body: checks every instruction against the whitelist and finds its most operands. */
function decodeBody(bytes: Uint8Array, start: number, end: number, fn: number, m: ModuleInfo): Body {
  const r = new Reader(bytes, start, end);
  const entries = r.u32();
  let locals = 0;
  for (let i = 0; i < entries; i++) {
    const n = r.u32();
    locals += n;
    if (locals > LIMITS.locals) limit(`function #${fn} declares more than ${LIMITS.locals} locals`);
    valType(r, `function #${fn}`);
  }
  const type = m.types[m.funcTypes[fn]!]!;
  const totalLocals = type.params.length + locals;
  if (totalLocals > LIMITS.locals) limit(`function #${fn} has more than ${LIMITS.locals} params and locals`);
  const localsRaw = bytes.subarray(start, r.pos);
  const ops: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const targets = new Map<number, number>();
  // The operand stack, by height only: frames of [base height, params, results, unreachable].
  const ctrl: { base: number; params: number; results: number; dead: boolean }[] = [{ base: 0, params: 0, results: type.results.length, dead: false }];
  let h = 0;
  let max = 0;
  const pop = (n: number) => {
    const f = ctrl[ctrl.length - 1]!;
    h = Math.max(f.dead ? f.base : 0, h - n);
  };
  const push = (n: number) => {
    h += n;
    if (h > max) max = h;
  };
  const dead = () => {
    const f = ctrl[ctrl.length - 1]!;
    f.dead = true;
    h = f.base;
  };
  const where = () => `function #${fn} at byte ${r.pos}`;
  while (ctrl.length > 0) {
    if (r.done) r.fail(`function #${fn} ends without its final "end"`);
    const at = r.pos;
    let code = r.u8();
    if (code === 0xfc) {
      const sub = r.u32();
      code = sub <= 0xff ? 0x100 + sub : 0x1ff;
    }
    const op = OPS[code];
    if (!op) {
      const c = code >= 0x100 ? `0xfc ${code - 0x100}` : `0x${code.toString(16)}`;
      if (rejectedFeature(code) === 'an unknown instruction') r.fail(`${where()}: unknown instruction ${c}`);
      return feature(`function #${fn}`, `${rejectedFeature(code)} (instruction ${c})`);
    }
    ops.push(code);
    starts.push(at);
    switch (op.imm) {
      case Imm.None:
        if (code === 0x108) {
          r.u32();
          if (r.u8() !== 0) feature(`function #${fn}`, 'multiple memories');
        } else if (code === 0x109) r.u32();
        else if (code === 0x10a) {
          if (r.u8() !== 0 || r.u8() !== 0) feature(`function #${fn}`, 'multiple memories');
        } else if (code === 0x10b && r.u8() !== 0) feature(`function #${fn}`, 'multiple memories');
        if (code >= 0x108 && !m.hasMemory) r.fail(`${where()}: a memory instruction in a module without memory`);
        break;
      case Imm.BlockType: {
        const bt = blockType(r, m.types, fn);
        if (code === 0x04) pop(1);
        pop(bt.params);
        if (ctrl.length > LIMITS.nesting) limit(`function #${fn} nests blocks deeper than ${LIMITS.nesting}`);
        ctrl.push({ base: h, params: bt.params, results: bt.results, dead: false });
        push(bt.params);
        break;
      }
      case Imm.Label:
        if (r.u32() >= ctrl.length) r.fail(`${where()}: a branch to a label that does not exist`);
        break;
      case Imm.BrTable: {
        const n = r.u32();
        for (let i = 0; i <= n; i++) if (r.u32() >= ctrl.length) r.fail(`${where()}: a branch to a label that does not exist`);
        break;
      }
      case Imm.Func: {
        const f = r.u32();
        const t = m.types[m.funcTypes[f] ?? -1];
        if (!t) r.fail(`${where()}: a call to function ${f}, which does not exist`);
        targets.set(ops.length - 1, f);
        pop(t.params.length);
        push(t.results.length);
        break;
      }
      case Imm.CallIndirect: {
        const ti = r.u32();
        const t = m.types[ti];
        if (!t) r.fail(`${where()}: call_indirect names type ${ti}, which does not exist`);
        if (r.u32() !== 0 || !m.hasTable) feature(`function #${fn}`, 'reference types (call_indirect without the one table)');
        pop(1 + t.params.length);
        push(t.results.length);
        break;
      }
      case Imm.Local:
        if (r.u32() >= totalLocals) r.fail(`${where()}: a local that does not exist`);
        break;
      case Imm.Global:
        if (r.u32() >= m.globals) r.fail(`${where()}: a global that does not exist`);
        break;
      case Imm.MemArg:
        if (r.u32() >= 64) feature(`function #${fn}`, 'multiple memories');
        r.u32();
        if (!m.hasMemory) r.fail(`${where()}: a memory instruction in a module without memory`);
        break;
      case Imm.I32:
        r.sleb(32);
        break;
      case Imm.I64:
        r.sleb(64);
        break;
      case Imm.F32:
        r.skip(4);
        break;
      case Imm.F64:
        r.skip(8);
        break;
      case Imm.Memory:
        if (r.u8() !== 0) feature(`function #${fn}`, 'multiple memories');
        if (!m.hasMemory) r.fail(`${where()}: a memory instruction in a module without memory`);
        break;
    }
    ends.push(r.pos);
    if (op.imm !== Imm.BlockType && op.imm !== Imm.Func && op.imm !== Imm.CallIndirect) {
      pop(op.pops);
      push(op.pushes);
    }
    if (code === 0x05) {
      const f = ctrl[ctrl.length - 1]!;
      if (ctrl.length === 1) r.fail(`${where()}: "else" outside an "if"`);
      h = f.base + f.params;
      f.dead = false;
    } else if (code === 0x0b) {
      const f = ctrl.pop()!;
      h = f.base;
      push(f.results);
    } else if (code === 0x00 || code === 0x0c || code === 0x0e || code === 0x0f) dead();
  }
  if (r.pos !== end) r.fail(`function #${fn} has bytes after its final "end"`);
  let checks = 1;
  for (let i = 0; i < ops.length; i++) {
    const c = ops[i]!;
    if (c === 0x03 || c === 0x04 || c === 0x0d || c === 0x0e || c === 0x10 || c === 0x11 || c === 0x108 || c === 0x10a || c === 0x10b) checks++;
    else if (c === 0x40) checks += 3;
  }
  if (max > LIMITS.operandStack) limit(`function #${fn} holds up to ${max} operands on its stack; at most ${LIMITS.operandStack} are allowed`);
  return { fn, start, end, localsRaw, localEntries: entries, locals, ops, starts, ends, targets, maxStack: max, checks };
}

interface EmitContext {
  F: number;
  D: number;
  W: number;
  costs: number[];
  indirectCost: number;
  imports: number;
  maxPages: number;
  types: FuncType[];
  funcTypes: number[];
  nanSites: number;
}

/** Traps with `why` recorded: i32.const why; global.set W; unreachable. */
function trap(w: Writer, c: EmitContext, why: number): void {
  w.byte(0x41).sleb(BigInt(why)).byte(0x24).u32(c.W).byte(0x00);
}

/** Charges the fuel global by what is on top of the stack (an i64) and traps if it went below zero. */
function chargeTop(w: Writer, c: EmitContext, s64: number): void {
  w.byte(0x21).u32(s64).byte(0x23).u32(c.F).byte(0x20).u32(s64).byte(0x7d).byte(0x24).u32(c.F);
  checkFuel(w, c);
}

function checkFuel(w: Writer, c: EmitContext): void {
  w.byte(0x23).u32(c.F).byte(0x42).sleb(0n).byte(0x53).byte(0x04).byte(0x40);
  trap(w, c, Why.Fuel);
  w.byte(0x0b);
}

/**
 * Charges a metering block. The counter is checked (trap if below zero) only where a function
 * starts and where a loop's body starts, the two places through which any unbounded run must
 * pass; elsewhere the block is only subtracted, so the count may go below zero for the rest of an
 * acyclic stretch. The result is the same as checking every block: the host treats any end with
 * the counter below zero (a trap, a return, a host call, which checks first) as out of fuel, and
 * nothing the job did after its fuel ran out can be seen (its host calls would have trapped).
 */
function charge(w: Writer, c: EmitContext, fuel: number, check: boolean): void {
  if (fuel > 0) w.byte(0x23).u32(c.F).byte(0x42).sleb(BigInt(fuel)).byte(0x7d).byte(0x24).u32(c.F);
  if (check) checkFuel(w, c);
}

/** The i64 cost of the i32 size in scratch local `s32`: ceil(size / bytesPerFuel). */
function byteCost(w: Writer, s32: number): void {
  const per = BigInt(COST_TABLE.bytesPerFuel);
  w.byte(0x20).u32(s32).byte(0xad).byte(0x42).sleb(per - 1n).byte(0x7c).byte(0x42).sleb(per).byte(0x80);
}

function emitBody(bytes: Uint8Array, b: Body, c: EmitContext): Uint8Array {
  const w = new Writer();
  // Locals: the declared ones, then the four scratch locals.
  const first = new Reader(bytes, b.start, b.end);
  first.u32();
  w.u32(b.localEntries + SCRATCH_LOCALS).raw(bytes.subarray(first.pos, b.localsRaw.length + b.start));
  w.u32(1).byte(ValType.I32).u32(1).byte(ValType.I64).u32(1).byte(ValType.F32).u32(1).byte(ValType.F64);
  const s32 = c.types[c.funcTypes[b.fn]!]!.params.length + b.locals;
  const s64 = s32 + 1;
  const sF32 = s32 + 2;
  const sF64 = s32 + 3;

  // Metering blocks: the fuel of each, charged where it starts.
  const n = b.ops.length;
  const segCost = (from: number): number => {
    let sum = 0;
    for (let i = from; i < n; i++) {
      sum += OPS[b.ops[i]!]!.cost * COST_TABLE.instruction;
      if (SPLIT.has(b.ops[i]!)) break;
    }
    return sum;
  };
  charge(w, c, segCost(0), true);
  for (let i = 0; i < n; i++) {
    const code = b.ops[i]!;
    const raw = bytes.subarray(b.starts[i]!, b.ends[i]!);
    const op = OPS[code]!;
    let frame = 0;
    if (code === 0x10) {
      const f = b.targets.get(i)!;
      frame = f >= c.imports ? c.costs[f]! : 0;
    } else if (code === 0x11) frame = c.indirectCost;
    if (frame > 0) {
      w.byte(0x23).u32(c.D).byte(0x41).sleb(BigInt(frame)).byte(0x6a).byte(0x24).u32(c.D);
      w.byte(0x23).u32(c.D).byte(0x41).sleb(BigInt(STACK_LIMIT)).byte(0x4b).byte(0x04).byte(0x40);
      trap(w, c, Why.Stack);
      w.byte(0x0b);
    }
    if (code === 0x40) {
      // memory.grow: past the job's maximum traps (out of memory); each page costs growPage fuel.
      w.byte(0x21).u32(s32);
      w.byte(0x3f).byte(0x00).byte(0xad).byte(0x20).u32(s32).byte(0xad).byte(0x7c).byte(0x42).sleb(BigInt(c.maxPages)).byte(0x56).byte(0x04).byte(0x40);
      trap(w, c, Why.Memory);
      w.byte(0x0b);
      w.byte(0x20).u32(s32).byte(0xad).byte(0x42).sleb(BigInt(COST_TABLE.growPage)).byte(0x7e);
      chargeTop(w, c, s64);
      w.byte(0x20).u32(s32);
      // memory.grow itself (below): within the maximum it can only fail if the engine could not
      // allocate, which would not be the same on every machine: trap as an engine fault.
      w.raw(raw);
      w.byte(0x22).u32(s32).byte(0x41).sleb(-1n).byte(0x46).byte(0x04).byte(0x40);
      trap(w, c, Why.Engine);
      w.byte(0x0b).byte(0x20).u32(s32);
    } else if (code === 0x108 || code === 0x10a || code === 0x10b) {
      w.byte(0x21).u32(s32);
      byteCost(w, s32);
      chargeTop(w, c, s64);
      w.byte(0x20).u32(s32);
    }
    if (code !== 0x40) w.raw(raw);
    if (frame > 0) w.byte(0x23).u32(c.D).byte(0x41).sleb(BigInt(frame)).byte(0x6b).byte(0x24).u32(c.D);
    if (op.nan === 'f32') {
      // v → v == v ? v : canonical NaN
      w.byte(0x22).u32(sF32).byte(0x43).raw(CANON_F32).byte(0x20).u32(sF32).byte(0x20).u32(sF32).byte(0x5b).byte(0x1b);
      c.nanSites++;
    } else if (op.nan === 'f64') {
      w.byte(0x22).u32(sF64).byte(0x44).raw(CANON_F64).byte(0x20).u32(sF64).byte(0x20).u32(sF64).byte(0x61).byte(0x1b);
      c.nanSites++;
    }
    if (SPLIT.has(code) && i + 1 < n) charge(w, c, segCost(i + 1), code === 0x03);
  }
  return w.finish();
}

/** The canonical NaNs (quiet, positive, zero payload), little-endian. */
const CANON_F32 = Uint8Array.of(0x00, 0x00, 0xc0, 0x7f);
const CANON_F64 = Uint8Array.of(0, 0, 0, 0, 0, 0, 0xf8, 0x7f);
