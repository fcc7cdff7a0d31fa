import { ChainError, ChainErrorCode } from './errors.js';

// Node.js's Buffer string codecs, called on plain Uint8Arrays: they accept any view, and calling
// them directly saves the Buffer object that Buffer.from(view).toString() would allocate. Where
// there is no Buffer (a browser: the explorer's bundle of metanode/client), plain loops that give
// the same strings and bytes.
type Slice = (this: Uint8Array, start: number, end: number) => string;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** @internal The codecs used where there is no Buffer (exported for the test that they match Buffer's). */
export const portableCodecs = {
  hexSlice: function (start, end) {
    let s = '';
    for (let i = start; i < end; i++) s += HEX[this[i]!]!;
    return s;
  } as Slice,
  latin1Slice: function (start, end) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(this[i]!);
    return s;
  } as Slice,
  /** Hex digits (no 0x) to bytes, stopping at the first pair that is not hex, as Buffer's decoder does. */
  decodeHex(digits: string): Uint8Array {
    const out = new Uint8Array(digits.length >> 1);
    for (let i = 0; i < out.length; i++) {
      const pair = digits.slice(2 * i, 2 * i + 2);
      if (!/^[0-9a-fA-F]{2}$/.test(pair)) return out.subarray(0, i);
      out[i] = parseInt(pair, 16);
    }
    return out;
  },
  decodeLatin1(s: string): Uint8Array {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff; // per UTF-16 unit, as Buffer's latin1
    return out;
  },
};
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const hexSlice = NodeBuffer ? (NodeBuffer.prototype as unknown as { hexSlice: Slice }).hexSlice : portableCodecs.hexSlice;
const latin1Slice = NodeBuffer ? (NodeBuffer.prototype as unknown as { latin1Slice: Slice }).latin1Slice : portableCodecs.latin1Slice;
const decodeHex = NodeBuffer ? (digits: string): Uint8Array => NodeBuffer.from(digits, 'hex') : portableCodecs.decodeHex;
const decodeLatin1 = NodeBuffer ? (s: string) => new Uint8Array(NodeBuffer.from(s, 'latin1')) : portableCodecs.decodeLatin1;

/** A character Buffer's hex decoder would read by its low byte. */
const WIDE = /[\u0100-\uffff]/; // every UTF-16 unit above U+00FF (surrogates included)

/** Bytes to 0x-prefixed lowercase hex: the one JSON form of bytes. */
export function toHex(bytes: Uint8Array): string {
  return '0x' + hexSlice.call(bytes, 0, bytes.length);
}

/** Strict 0x-hex (either case) to bytes; `length` (in bytes) is checked when given. */
export function fromHex(hex: string, length?: number, what = 'value'): Uint8Array {
  // Buffer's decoder stops at the first pair that is not hex, so a decoded length of exactly half
  // the digits means all of them were hex (cheaper than a regular expression over a
  // transaction's few hundred digits), but for one thing: it reads a character above U+00FF by
  // its low byte ("š", U+0161, as "a"), so those are refused first.
  const decoded = typeof hex === 'string' && hex.length % 2 === 0 && hex.startsWith('0x') && !WIDE.test(hex) ? decodeHex(hex.slice(2)) : undefined;
  if (decoded === undefined || decoded.length * 2 !== hex.length - 2) {
    throw new ChainError(ChainErrorCode.InvalidHex, `${what} must be 0x-prefixed hex with an even number of digits`, { value: hex });
  }
  // A view, not a copy: small Buffers share Node's 8 KiB allocation pool, so a few hundred
  // transactions decoded one after another share one ArrayBuffer instead of one each.
  const out = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length);
  if (length !== undefined && out.length !== length) {
    throw new ChainError(ChainErrorCode.FieldLength, `${what} must be ${length} bytes, got ${out.length}`, { value: hex });
  }
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** 8-byte big-endian encoding: the form of every height in a storage key. */
export function u64be(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function readU64be(b: Uint8Array, offset = 0): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset);
}

/** Writes a safe integer as 8 bytes big-endian at `out[offset..offset+8)`, with no BigInt. */
export function writeU64be(out: Uint8Array, offset: number, n: number): void {
  const hi = Math.floor(n / 2 ** 32);
  const lo = n >>> 0;
  out[offset] = hi >>> 24;
  out[offset + 1] = hi >>> 16;
  out[offset + 2] = hi >>> 8;
  out[offset + 3] = hi;
  out[offset + 4] = lo >>> 24;
  out[offset + 5] = lo >>> 16;
  out[offset + 6] = lo >>> 8;
  out[offset + 7] = lo;
}

/** The 8 big-endian bytes at `b[offset..offset+8)` as a number (exact below 2^53), with no BigInt. */
export function readSafeU64be(b: Uint8Array, offset = 0): number {
  return (((b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!) >>> 0) * 2 ** 32 + (((b[offset + 4]! << 24) | (b[offset + 5]! << 16) | (b[offset + 6]! << 8) | b[offset + 7]!) >>> 0);
}

const encoder = new TextEncoder();
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** The length of `s` in UTF-8, in bytes (without encoding it where Node.js's Buffer can count). */
export const utf8Length: (s: string) => number = NodeBuffer ? (s) => NodeBuffer.byteLength(s, 'utf8') : (s) => encoder.encode(s).length;

// ignoreBOM: keep a leading U+FEFF in the string; stripping it would let two encodings decode alike.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/**
 * A copy of `b` in memory of its own. Not `b.slice()`: on a Node.js Buffer (what LevelDB and the
 * network hand out) slice is a view of the same memory, so writing into it writes into the source.
 */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/** A string key for Maps: one char per byte, cheap both ways. */
export function toKey(b: Uint8Array): string {
  return latin1Slice.call(b, 0, b.length);
}

/** toKey of b[start, end), without a view of it. */
export function keySlice(b: Uint8Array, start: number, end: number): string {
  return latin1Slice.call(b, start, end);
}

export function fromKey(s: string): Uint8Array {
  return decodeLatin1(s);
}

