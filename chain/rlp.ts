import { fromHex, fromUtf8, toHex, utf8Length } from './bytes.js';
import { ChainError, ChainErrorCode } from './errors.js';

/**
 * Ethereum RLP, strict. What may be encoded: bytes; a string (its UTF-8 bytes); a non-negative
 * integer as a number or bigint (minimal big-endian bytes, 0 is the empty string); a list of these.
 * Decoded items are bytes or lists; bytes are views into the input, not copies.
 *
 * The codec is written here rather than taken from @ethereumjs/rlp, which the tests keep as the
 * reference (test/unit/chain/rlp.test.ts compares the two on random inputs): that library copies
 * each nested list into its parent and so re-copies every byte once per level, and a strict
 * decode through it needs a second, re-encoding pass to catch the non-canonical forms it accepts.
 * Together they were a fifth of a node's time. Here, encoding measures once and writes once into
 * one buffer, and decoding rejects non-canonical forms as it reads.
 */
export type RlpInput = Uint8Array | string | number | bigint | readonly RlpInput[];
export type RlpItem = Uint8Array | RlpItem[];

/** Deeper nesting than any Metanode object has: refused, so hostile input cannot exhaust the stack. */
export const MAX_RLP_DEPTH = 32;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Bytes in the minimal big-endian form of a safe non-negative integer. */
function uintLength(n: number): number {
  let len = 0;
  while (n > 0) {
    len++;
    n = Math.floor(n / 256);
  }
  return len;
}

/**
 * A non-negative integer as a JS number when it is a safe one, else its minimal big-endian bytes;
 * anything else (negative, fractional) is refused.
 */
function checkedUint(n: number | bigint): number | Uint8Array {
  if (typeof n === 'number') {
    if (!Number.isInteger(n) || n < 0) throw new ChainError(ChainErrorCode.FieldValue, 'integers must be non-negative whole numbers', { value: String(n) });
    if (n <= Number.MAX_SAFE_INTEGER) return n;
    n = BigInt(n);
  }
  if (n < 0n) throw new ChainError(ChainErrorCode.FieldValue, 'integers must be non-negative', { value: String(n) });
  if (n <= MAX_SAFE) return Number(n);
  const hex = n.toString(16);
  return new Uint8Array(fromHex(hex.length % 2 ? '0x0' + hex : '0x' + hex));
}

/** Minimal big-endian bytes of a non-negative integer (0 is the empty string), as RLP wants. */
export function uintBytes(n: number | bigint): Uint8Array {
  const c = checkedUint(n);
  if (c instanceof Uint8Array) return c;
  let v = c;
  const out = new Uint8Array(uintLength(v));
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

const encoder = new TextEncoder();

/** Header bytes before a payload of `len` bytes (`offset` 0x80 for strings, 0xc0 for lists). */
function headerLength(len: number): number {
  return len < 56 ? 1 : 1 + uintLength(len);
}

/**
 * Pass 1: the encoded size of `item`. Byte lengths of strings and payload lengths of lists are
 * pushed to `sizes` in visiting order, for pass 2 to read back in the same order.
 */
function measure(item: RlpInput, sizes: number[], depth: number): number {
  if (item instanceof Uint8Array) {
    const n = item.length;
    return n === 1 && item[0]! < 0x80 ? 1 : headerLength(n) + n;
  }
  if (typeof item === 'string') {
    const n = isAscii(item) ? item.length : utf8Length(item);
    sizes.push(n);
    return n === 1 && item.charCodeAt(0) < 0x80 ? 1 : headerLength(n) + n;
  }
  if (typeof item === 'number' || typeof item === 'bigint') {
    const v = checkedUint(item);
    const n = v instanceof Uint8Array ? v.length : v < 0x80 ? 0 : uintLength(v);
    sizes.push(n);
    return 1 + n;
  }
  if (Array.isArray(item)) {
    if (depth >= MAX_RLP_DEPTH) throw new ChainError(ChainErrorCode.FieldValue, `RLP input nested deeper than ${MAX_RLP_DEPTH}`);
    const at = sizes.length;
    sizes.push(0);
    let payload = 0;
    const list = item as readonly RlpInput[];
    for (let i = 0; i < list.length; i++) payload += measure(list[i]!, sizes, depth + 1);
    sizes[at] = payload;
    return headerLength(payload) + payload;
  }
  throw new ChainError(ChainErrorCode.FieldValue, `cannot RLP-encode a ${typeof item}`);
}

interface Cursor {
  out: Uint8Array;
  pos: number;
  sizes: number[];
  next: number;
}

function writeHeader(c: Cursor, len: number, offset: number): void {
  if (len < 56) {
    c.out[c.pos++] = offset + len;
    return;
  }
  const ll = uintLength(len);
  c.out[c.pos++] = offset + 55 + ll;
  for (let i = ll - 1; i >= 0; i--) {
    c.out[c.pos + i] = len % 256;
    len = Math.floor(len / 256);
  }
  c.pos += ll;
}

function write(c: Cursor, item: RlpInput): void {
  const { out } = c;
  if (item instanceof Uint8Array) {
    if (item.length === 1 && item[0]! < 0x80) {
      out[c.pos++] = item[0]!;
      return;
    }
    writeHeader(c, item.length, 0x80);
    out.set(item, c.pos);
    c.pos += item.length;
    return;
  }
  if (typeof item === 'string') {
    const n = c.sizes[c.next++]!;
    if (n === 1 && item.charCodeAt(0) < 0x80) {
      out[c.pos++] = item.charCodeAt(0);
      return;
    }
    writeHeader(c, n, 0x80);
    if (n === item.length) for (let i = 0; i < n; i++) out[c.pos + i] = item.charCodeAt(i);
    else encoder.encodeInto(item, out.subarray(c.pos, c.pos + n));
    c.pos += n;
    return;
  }
  if (typeof item === 'number' || typeof item === 'bigint') {
    const n = c.sizes[c.next++]!;
    const v = typeof item === 'number' ? item : item <= MAX_SAFE ? Number(item) : uintBytes(item);
    if (v instanceof Uint8Array) {
      writeHeader(c, n, 0x80);
      out.set(v, c.pos);
      c.pos += n;
    } else if (n === 0) {
      out[c.pos++] = v === 0 ? 0x80 : v; // 0 is the empty string; 1..0x7f is its own byte
    } else {
      out[c.pos++] = 0x80 + n;
      let x = v;
      for (let i = n - 1; i >= 0; i--) {
        out[c.pos + i] = x % 256;
        x = Math.floor(x / 256);
      }
      c.pos += n;
    }
    return;
  }
  writeHeader(c, c.sizes[c.next++]!, 0xc0);
  const list = item as readonly RlpInput[];
  for (let i = 0; i < list.length; i++) write(c, list[i]!);
}

/** Reused by every encode (encoding is synchronous and calls out to nothing). */
const cursor: Cursor = { out: new Uint8Array(0), pos: 0, sizes: [], next: 0 };

export function rlpEncode(item: RlpInput): Uint8Array {
  const c = cursor;
  c.sizes.length = 0;
  c.out = new Uint8Array(measure(item, c.sizes, 0));
  c.pos = 0;
  c.next = 0;
  write(c, item);
  const out = c.out;
  c.out = EMPTY;
  return out;
}
const EMPTY = new Uint8Array(0);

/** RLP list framing around items that are each already RLP-encoded (e.g. cached encodings). */
export function rlpEncodeList(encodedItems: readonly Uint8Array[]): Uint8Array {
  let payload = 0;
  for (const e of encodedItems) payload += e.length;
  const out = new Uint8Array(headerLength(payload) + payload);
  const c: Cursor = { out, pos: 0, sizes: [], next: 0 };
  writeHeader(c, payload, 0xc0);
  for (const e of encodedItems) {
    out.set(e, c.pos);
    c.pos += e.length;
  }
  return out;
}

// ---------------------------------------------------------------- strict decoding

function malformed(what: string, why: string): never {
  throw new ChainError(ChainErrorCode.InvalidRlp, `${what}: malformed RLP (${why})`);
}

function nonCanonical(what: string, why: string): never {
  throw new ChainError(ChainErrorCode.NonCanonical, `${what}: RLP is not in canonical form (${why})`);
}

/** Reads a long-form length of `ll` bytes at `at`; it must have no leading zero and exceed 55. */
function longLength(b: Uint8Array, at: number, ll: number, limit: number, what: string): number {
  if (at + ll > limit) malformed(what, 'truncated length');
  if (b[at] === 0) nonCanonical(what, 'length has leading zero bytes');
  let n = 0;
  for (let i = 0; i < ll; i++) n = n * 256 + b[at + i]!;
  if (n < 56) nonCanonical(what, 'long form used for a length below 56');
  return n;
}

interface Reader {
  b: Uint8Array;
  pos: number;
  what: string;
}

function readItem(r: Reader, limit: number, depth: number): RlpItem {
  const { b, what } = r;
  if (r.pos >= limit) malformed(what, 'truncated input');
  const p = b[r.pos]!;
  if (p < 0x80) return b.subarray(r.pos, ++r.pos);
  let start: number;
  let len: number;
  if (p <= 0xb7) {
    start = r.pos + 1;
    len = p - 0x80;
    if (len === 1 && start < limit && b[start]! < 0x80) nonCanonical(what, 'single byte below 0x80 must not be prefixed');
  } else if (p <= 0xbf) {
    const ll = p - 0xb7;
    len = longLength(b, r.pos + 1, ll, limit, what);
    start = r.pos + 1 + ll;
  } else if (p <= 0xf7) {
    start = r.pos + 1;
    len = p - 0xc0;
  } else {
    const ll = p - 0xf7;
    len = longLength(b, r.pos + 1, ll, limit, what);
    start = r.pos + 1 + ll;
  }
  const end = start + len;
  if (end > limit) malformed(what, 'truncated input');
  if (p <= 0xbf) {
    r.pos = end;
    return b.subarray(start, end);
  }
  if (depth >= MAX_RLP_DEPTH) malformed(what, `nested deeper than ${MAX_RLP_DEPTH}`);
  const list: RlpItem[] = [];
  r.pos = start;
  while (r.pos < end) list.push(readItem(r, end, depth + 1));
  return list;
}

/**
 * The encodings of the items of the list that `bytes` encodes, each a view into `bytes`, none of
 * them decoded: for a message whose cheap fields are checked before the rest is decoded (each
 * item is then decoded with rlpDecode when needed). The list's header and the items' boundaries
 * are checked as rlpDecode checks them; what is inside an item is checked when it is decoded, so
 * rlpDecode of every item gives what rlpDecode(bytes) would, or throws where it would.
 */
export function rlpListItems(bytes: Uint8Array, what: string): Uint8Array[] {
  if (bytes.length === 0) nonCanonical(what, 'empty input');
  const p = bytes[0]!;
  if (p < 0xc0) throw new ChainError(ChainErrorCode.InvalidRlp, `${what}: expected a list`);
  let start: number;
  let len: number;
  if (p <= 0xf7) {
    start = 1;
    len = p - 0xc0;
  } else {
    const ll = p - 0xf7;
    len = longLength(bytes, 1, ll, bytes.length, what);
    start = 1 + ll;
  }
  const end = start + len;
  if (end > bytes.length) malformed(what, 'truncated input');
  if (end < bytes.length) malformed(what, `${bytes.length - end} trailing bytes`);
  const items: Uint8Array[] = [];
  for (let pos = start; pos < end; ) {
    const q = bytes[pos]!;
    let next: number;
    if (q < 0x80) next = pos + 1;
    else if (q <= 0xb7) next = pos + 1 + (q - 0x80);
    else if (q <= 0xbf) next = pos + 1 + (q - 0xb7) + longLength(bytes, pos + 1, q - 0xb7, end, what);
    else if (q <= 0xf7) next = pos + 1 + (q - 0xc0);
    else next = pos + 1 + (q - 0xf7) + longLength(bytes, pos + 1, q - 0xf7, end, what);
    if (next > end) malformed(what, 'truncated input');
    items.push(bytes.subarray(pos, next));
    pos = next;
  }
  return items;
}

/**
 * Strict decode: exactly one item, no trailing bytes, canonical throughout (shortest forms, no
 * prefixed single bytes, no leading zeros in lengths). Bytes in the result are views into `bytes`.
 */
export function rlpDecode(bytes: Uint8Array, what: string): RlpItem {
  if (bytes.length === 0) nonCanonical(what, 'empty input');
  const r: Reader = { b: bytes, pos: 0, what };
  const item = readItem(r, bytes.length, 0);
  if (r.pos !== bytes.length) malformed(what, `${bytes.length - r.pos} trailing bytes`);
  return item;
}

export function decodeList(item: RlpItem, count: number, what: string): RlpItem[] {
  if (!Array.isArray(item)) throw new ChainError(ChainErrorCode.InvalidRlp, `${what}: expected a list`);
  if (item.length !== count) {
    throw new ChainError(ChainErrorCode.FieldCount, `${what}: expected ${count} fields, got ${item.length}`);
  }
  return item;
}

export function asList(item: RlpItem | undefined, what: string): RlpItem[] {
  if (!Array.isArray(item)) throw new ChainError(ChainErrorCode.InvalidRlp, `${what}: expected a list`);
  return item;
}

export function asBytes(item: RlpItem | undefined, what: string, length?: number): Uint8Array {
  if (!(item instanceof Uint8Array)) throw new ChainError(ChainErrorCode.InvalidRlp, `${what}: expected a byte string`);
  if (length !== undefined && item.length !== length) {
    throw new ChainError(ChainErrorCode.FieldLength, `${what}: expected ${length} bytes, got ${item.length}`);
  }
  return item;
}

export function asBigint(item: RlpItem | undefined, what: string, maxBytes = 32): bigint {
  const b = asBytes(item, what);
  if (b.length > maxBytes) throw new ChainError(ChainErrorCode.FieldLength, `${what}: integer longer than ${maxBytes} bytes`);
  if (b.length > 0 && b[0] === 0) throw new ChainError(ChainErrorCode.NonCanonical, `${what}: integer has leading zero bytes`);
  if (b.length <= 6) {
    let n = 0;
    for (let i = 0; i < b.length; i++) n = n * 256 + b[i]!;
    return BigInt(n);
  }
  return BigInt(toHex(b));
}

/** A u64 read as a JS number; values above 2^53 are refused rather than rounded. */
export function asSafeUint(item: RlpItem | undefined, what: string): number {
  const b = asBytes(item, what);
  if (b.length > 8) throw new ChainError(ChainErrorCode.FieldLength, `${what}: integer longer than 8 bytes`);
  if (b.length > 0 && b[0] === 0) throw new ChainError(ChainErrorCode.NonCanonical, `${what}: integer has leading zero bytes`);
  let n = 0;
  for (let i = 0; i < b.length; i++) n = n * 256 + b[i]!;
  if (n > Number.MAX_SAFE_INTEGER) throw new ChainError(ChainErrorCode.FieldValue, `${what}: exceeds 2^53-1`);
  return n;
}

export function asString(item: RlpItem | undefined, what: string, maxLength = 256): string {
  const b = asBytes(item, what);
  if (b.length > maxLength) throw new ChainError(ChainErrorCode.FieldLength, `${what}: longer than ${maxLength} bytes`);
  try {
    return fromUtf8(b);
  } catch {
    throw new ChainError(ChainErrorCode.FieldValue, `${what}: not valid UTF-8`);
  }
}

/** A non-negative integer as a stored value: the RLP of its minimal big-endian bytes. */
export function rlpUint(n: number | bigint): Uint8Array {
  const v = typeof n === 'bigint' && n >= 0n && n <= MAX_SAFE ? Number(n) : n;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return rlpEncode(n);
  if (v === 0) return Uint8Array.of(0x80);
  if (v < 0x80) return Uint8Array.of(v);
  const len = uintLength(v);
  const out = new Uint8Array(1 + len);
  out[0] = 0x80 + len;
  let x = v;
  for (let i = len; i >= 1; i--) {
    out[i] = x % 256;
    x = Math.floor(x / 256);
  }
  return out;
}

/** Reads a value written by rlpUint, as strictly as rlpDecode + asBigint would. */
export function asRlpUint(v: Uint8Array, what: string, maxBytes = 32): bigint {
  const p = v[0]!;
  if (v.length === 1 && p > 0 && p < 0x80) return BigInt(p);
  if (v.length === 1 && p === 0x80) return 0n;
  // 0x81..0xb7: a short string; one byte below 0x80 must not be prefixed, and no leading zero.
  if (p > 0x81 && p <= 0xb7 && v.length === p - 0x7f && v[1] !== 0 && p - 0x80 <= maxBytes && p - 0x80 <= 6) {
    let n = 0;
    for (let i = 1; i < v.length; i++) n = n * 256 + v[i]!;
    return BigInt(n);
  }
  return asBigint(rlpDecode(v, what), what, maxBytes);
}
