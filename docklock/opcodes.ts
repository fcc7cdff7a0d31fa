/**
 * The instructions DockLock accepts (the feature whitelist: MVP, sign-extension, multi-value,
 * mutable globals, saturating float-to-int, bulk memory without tables), with what the
 * instrumenter needs of each: how its immediates are encoded, how many operands it pops and
 * pushes (for the stack-height cost of a frame), and whether it can produce a NaN. Everything
 * else is rejected with the feature it belongs to.
 */
export const Imm = {
  None: 0,
  BlockType: 1,
  Label: 2,
  BrTable: 3,
  Func: 4,
  CallIndirect: 5,
  Local: 6,
  Global: 7,
  MemArg: 8,
  I32: 9,
  I64: 10,
  F32: 11,
  F64: 12,
  /** memory.size / memory.grow: one zero byte. */
  Memory: 13,
} as const;
export type Imm = (typeof Imm)[keyof typeof Imm];

export interface OpInfo {
  name: string;
  imm: Imm;
  pops: number;
  pushes: number;
  /** Fuel of the instruction itself (COST_TABLE.instruction, or 0 for structure). */
  cost: 0 | 1;
  /** A float instruction whose result may be a NaN: canonicalised after it ('f32' | 'f64'). */
  nan?: 'f32' | 'f64';
}

/** Indexed by opcode; the 0xFC prefix's instructions at 0x100 + their sub-opcode. */
export const OPS: (OpInfo | undefined)[] = [];

function def(code: number, name: string, imm: Imm, pops: number, pushes: number, cost: 0 | 1 = 1, nan?: 'f32' | 'f64'): void {
  OPS[code] = nan ? { name, imm, pops, pushes, cost, nan } : { name, imm, pops, pushes, cost };
}
function range(from: number, to: number, name: string, pops: number, pushes: number, nan?: (c: number) => 'f32' | 'f64' | undefined): void {
  for (let c = from; c <= to; c++) def(c, `${name}#${c.toString(16)}`, Imm.None, pops, pushes, 1, nan?.(c));
}

// Control. Pops and pushes of block, loop, if, br*, call*, return, end, else depend on types: the walker handles them.
def(0x00, 'unreachable', Imm.None, 0, 0);
def(0x01, 'nop', Imm.None, 0, 0, 0);
def(0x02, 'block', Imm.BlockType, 0, 0, 0);
def(0x03, 'loop', Imm.BlockType, 0, 0, 0);
def(0x04, 'if', Imm.BlockType, 1, 0);
def(0x05, 'else', Imm.None, 0, 0, 0);
def(0x0b, 'end', Imm.None, 0, 0, 0);
def(0x0c, 'br', Imm.Label, 0, 0);
def(0x0d, 'br_if', Imm.Label, 1, 0);
def(0x0e, 'br_table', Imm.BrTable, 1, 0);
def(0x0f, 'return', Imm.None, 0, 0);
def(0x10, 'call', Imm.Func, 0, 0);
def(0x11, 'call_indirect', Imm.CallIndirect, 1, 0);
def(0x1a, 'drop', Imm.None, 1, 0);
def(0x1b, 'select', Imm.None, 3, 1);
def(0x20, 'local.get', Imm.Local, 0, 1);
def(0x21, 'local.set', Imm.Local, 1, 0);
def(0x22, 'local.tee', Imm.Local, 1, 1);
def(0x23, 'global.get', Imm.Global, 0, 1);
def(0x24, 'global.set', Imm.Global, 1, 0);
for (let c = 0x28; c <= 0x35; c++) def(c, `load#${c.toString(16)}`, Imm.MemArg, 1, 1);
for (let c = 0x36; c <= 0x3e; c++) def(c, `store#${c.toString(16)}`, Imm.MemArg, 2, 0);
def(0x3f, 'memory.size', Imm.Memory, 0, 1);
def(0x40, 'memory.grow', Imm.Memory, 1, 1);
def(0x41, 'i32.const', Imm.I32, 0, 1);
def(0x42, 'i64.const', Imm.I64, 0, 1);
def(0x43, 'f32.const', Imm.F32, 0, 1);
def(0x44, 'f64.const', Imm.F64, 0, 1);
def(0x45, 'i32.eqz', Imm.None, 1, 1);
range(0x46, 0x4f, 'i32.cmp', 2, 1);
def(0x50, 'i64.eqz', Imm.None, 1, 1);
range(0x51, 0x5a, 'i64.cmp', 2, 1);
range(0x5b, 0x60, 'f32.cmp', 2, 1);
range(0x61, 0x66, 'f64.cmp', 2, 1);
range(0x67, 0x69, 'i32.unop', 1, 1);
range(0x6a, 0x78, 'i32.binop', 2, 1);
range(0x79, 0x7b, 'i64.unop', 1, 1);
range(0x7c, 0x8a, 'i64.binop', 2, 1);
// f32 abs, neg (0x8b, 0x8c) and copysign (0x98) only move the sign bit: deterministic. The rest may make a NaN.
range(0x8b, 0x91, 'f32.unop', 1, 1, (c) => (c >= 0x8d ? 'f32' : undefined));
range(0x92, 0x98, 'f32.binop', 2, 1, (c) => (c <= 0x97 ? 'f32' : undefined));
range(0x99, 0x9f, 'f64.unop', 1, 1, (c) => (c >= 0x9b ? 'f64' : undefined));
range(0xa0, 0xa6, 'f64.binop', 2, 1, (c) => (c <= 0xa5 ? 'f64' : undefined));
// Conversions: only demote (0xb6) and promote (0xbb) can make a NaN; reinterpretations keep the bits.
range(0xa7, 0xbf, 'convert', 1, 1, (c) => (c === 0xb6 ? 'f32' : c === 0xbb ? 'f64' : undefined));
range(0xc0, 0xc4, 'extend', 1, 1);
// 0xFC: saturating truncation (0–7) and bulk memory on the memory (8–11).
for (let s = 0; s <= 7; s++) def(0x100 + s, `trunc_sat#${s}`, Imm.None, 1, 1);
def(0x108, 'memory.init', Imm.None, 3, 0);
def(0x109, 'data.drop', Imm.None, 0, 0);
def(0x10a, 'memory.copy', Imm.None, 3, 0);
def(0x10b, 'memory.fill', Imm.None, 3, 0);

/** Why an opcode outside the whitelist is refused: the feature it belongs to. */
export function rejectedFeature(code: number): string {
  if (code >= 0x06 && code <= 0x0a) return 'exception handling';
  if (code === 0x18 || code === 0x19 || code === 0x1f) return 'exception handling';
  if (code === 0x12 || code === 0x13 || code === 0x15) return 'tail calls';
  if (code === 0x14 || code === 0xd4 || code === 0xd5 || code === 0xd6) return 'typed function references';
  if (code === 0x1c || code === 0x25 || code === 0x26 || (code >= 0xd0 && code <= 0xd3)) return 'reference types';
  if (code === 0xfb) return 'garbage collection';
  if (code === 0xfd) return 'SIMD';
  if (code === 0xfe) return 'threads (atomics)';
  if (code >= 0x10c && code <= 0x111) return 'reference types (table instructions)';
  return 'an unknown instruction';
}
