import { DocklockError, DocklockErrorCode as E } from './errors.js';

/** A cursor over a WebAssembly binary that throws DOCKLOCK_MALFORMED with the offset on bad input. */
export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  fail(what: string): never {
    throw new DocklockError(E.Malformed, `malformed module at byte ${this.pos}: ${what}`, { offset: this.pos });
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.bytes[this.pos++]!;
  }

  peek(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.bytes[this.pos]!;
  }

  /** An unsigned LEB128 of at most 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && b > 0x0f) this.fail('integer too large');
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return this.fail('integer representation too long');
  }

  /** A signed LEB128 of at most `bits` bits (33 for block types, 32 or 64 for constants), as a bigint. */
  sleb(bits: 32 | 33 | 64): bigint {
    let result = 0n;
    let shift = 0n;
    const maxBytes = Math.ceil(bits / 7);
    for (let i = 0; i < maxBytes; i++) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 1n << shift;
        const min = -(1n << BigInt(bits - 1));
        if (result < min || result >= -min) this.fail('integer too large');
        return result;
      }
    }
    return this.fail('integer representation too long');
  }

  skip(n: number): void {
    if (n > this.end - this.pos) this.fail('unexpected end');
    this.pos += n;
  }

  take(n: number): Uint8Array {
    const start = this.pos;
    this.skip(n);
    return this.bytes.subarray(start, this.pos);
  }

  name(): string {
    const b = this.take(this.u32());
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return this.fail('a name is not UTF-8');
    }
  }
}

/** Builds a binary from chunks; integers in LEB128. */
export class Writer {
  private chunks: Uint8Array[] = [];
  private small: number[] = [];
  length = 0;

  private flush(): void {
    if (this.small.length) {
      this.chunks.push(Uint8Array.from(this.small));
      this.small = [];
    }
  }

  byte(b: number): this {
    this.small.push(b);
    this.length++;
    return this;
  }

  raw(b: Uint8Array): this {
    if (b.length < 16) {
      for (const x of b) this.small.push(x);
    } else {
      this.flush();
      this.chunks.push(b);
    }
    this.length += b.length;
    return this;
  }

  u32(n: number): this {
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n !== 0) b |= 0x80;
      this.byte(b);
    } while (n !== 0);
    return this;
  }

  sleb(v: bigint): this {
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.byte(b);
        return this;
      }
      this.byte(b | 0x80);
    }
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).raw(b);
  }

  /** A section: id, then the size of what `body` writes, then it. */
  section(id: number, body: (w: Writer) => void): this {
    const inner = new Writer();
    body(inner);
    return this.byte(id).u32(inner.length).raw(inner.finish());
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

export const ValType = { I32: 0x7f, I64: 0x7e, F32: 0x7d, F64: 0x7c } as const;
export const VALTYPE_NAMES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };

export interface FuncType {
  params: number[];
  results: number[];
}

export function sameType(t: FuncType, params: readonly number[], results: readonly number[]): boolean {
  return t.params.length === params.length && t.results.length === results.length && t.params.every((p, i) => p === params[i]) && t.results.every((r, i) => r === results[i]);
}

export function typeText(t: FuncType): string {
  const n = (v: number[]) => v.map((x) => VALTYPE_NAMES[x] ?? `0x${x.toString(16)}`).join(' ');
  return `[${n(t.params)}] -> [${n(t.results)}]`;
}
