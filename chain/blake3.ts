/**
 * BLAKE3-256, specialised for the chain's hashes: inputs of one chunk (up to 1,024 bytes) are
 * every hash the chain computes per transaction (transactions, signing payloads, addresses,
 * receipts, Merkle and state-tree nodes); longer ones (a block's body, an audit record) are
 * hashed as BLAKE3's tree of chunks, by the same compression (see blake3Long).
 *
 * Why: @noble/hashes spends about 4 µs of fixed cost per call (a hasher object, its buffers, a
 * table-driven compression), which made hashing a fifth of a node's CPU time. One chunk needs no
 * tree: it is a chain of compressions with CHUNK_START on the first block and CHUNK_END | ROOT on
 * the last, counter 0, and the root output's first 32 bytes are the final chaining value. The
 * compression below keeps the state and message in locals and permutes the message words between
 * rounds (BLAKE3 spec §2.2), so it allocates nothing but the 32-byte result. The same trick —
 * a hand-specialised hash where the library's generic one is the bottleneck — is what Lodestar
 * does for SHA-256. Longer inputs went to @noble/hashes until it showed in a node's allocation
 * profile (~130 MB per 30,000 transactions, hashing the audit log's records): its tree mode
 * allocates per compression. test/unit/chain/blake3.test.ts checks this against @noble/hashes
 * (the reference) for every length from 0 to 2,048, at and around the chunk boundaries up to
 * 64 chunks, for large inputs, and against the official test vectors.
 */

const CHUNK_LEN = 1024;
const CHUNK_START = 1;
const CHUNK_END = 2;
const PARENT = 4;
const ROOT = 8;

const IV0 = 0x6a09e667 | 0;
const IV1 = 0xbb67ae85 | 0;
const IV2 = 0x3c6ef372 | 0;
const IV3 = 0xa54ff53a | 0;
const IV4 = 0x510e527f | 0;
const IV5 = 0x9b05688c | 0;
const IV6 = 0x1f83d9ab | 0;
const IV7 = 0x5be0cd19 | 0;

/** The last (partial) block is zero-padded here. */
const tail = new Uint8Array(64);
/** The chaining value between compressions. */
const cv = new Int32Array(8);

/** Compresses the 64-byte block at `d[o..o+64)` into `cv`, with the chunk counter `counter` (below 2^32: inputs under 4 TiB). */
function compress(d: Uint8Array, o: number, blockLen: number, flags: number, counter = 0): void {
  let m0 = d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24);
  let m1 = d[o + 4]! | (d[o + 5]! << 8) | (d[o + 6]! << 16) | (d[o + 7]! << 24);
  let m2 = d[o + 8]! | (d[o + 9]! << 8) | (d[o + 10]! << 16) | (d[o + 11]! << 24);
  let m3 = d[o + 12]! | (d[o + 13]! << 8) | (d[o + 14]! << 16) | (d[o + 15]! << 24);
  let m4 = d[o + 16]! | (d[o + 17]! << 8) | (d[o + 18]! << 16) | (d[o + 19]! << 24);
  let m5 = d[o + 20]! | (d[o + 21]! << 8) | (d[o + 22]! << 16) | (d[o + 23]! << 24);
  let m6 = d[o + 24]! | (d[o + 25]! << 8) | (d[o + 26]! << 16) | (d[o + 27]! << 24);
  let m7 = d[o + 28]! | (d[o + 29]! << 8) | (d[o + 30]! << 16) | (d[o + 31]! << 24);
  let m8 = d[o + 32]! | (d[o + 33]! << 8) | (d[o + 34]! << 16) | (d[o + 35]! << 24);
  let m9 = d[o + 36]! | (d[o + 37]! << 8) | (d[o + 38]! << 16) | (d[o + 39]! << 24);
  let m10 = d[o + 40]! | (d[o + 41]! << 8) | (d[o + 42]! << 16) | (d[o + 43]! << 24);
  let m11 = d[o + 44]! | (d[o + 45]! << 8) | (d[o + 46]! << 16) | (d[o + 47]! << 24);
  let m12 = d[o + 48]! | (d[o + 49]! << 8) | (d[o + 50]! << 16) | (d[o + 51]! << 24);
  let m13 = d[o + 52]! | (d[o + 53]! << 8) | (d[o + 54]! << 16) | (d[o + 55]! << 24);
  let m14 = d[o + 56]! | (d[o + 57]! << 8) | (d[o + 58]! << 16) | (d[o + 59]! << 24);
  let m15 = d[o + 60]! | (d[o + 61]! << 8) | (d[o + 62]! << 16) | (d[o + 63]! << 24);
  let v0 = cv[0]!, v1 = cv[1]!, v2 = cv[2]!, v3 = cv[3]!, v4 = cv[4]!, v5 = cv[5]!, v6 = cv[6]!, v7 = cv[7]!;
  let v8 = IV0, v9 = IV1, v10 = IV2, v11 = IV3, v12 = counter | 0, v13 = 0, v14 = blockLen, v15 = flags;
  for (let r = 0; r < 7; r++) {
    // Columns: G(0,4,8,12) G(1,5,9,13) G(2,6,10,14) G(3,7,11,15)
    v0 = (v0 + v4 + m0) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16); v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
    v0 = (v0 + v4 + m1) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24); v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
    v1 = (v1 + v5 + m2) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16); v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
    v1 = (v1 + v5 + m3) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24); v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
    v2 = (v2 + v6 + m4) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16); v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
    v2 = (v2 + v6 + m5) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24); v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
    v3 = (v3 + v7 + m6) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16); v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
    v3 = (v3 + v7 + m7) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24); v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
    // Diagonals: G(0,5,10,15) G(1,6,11,12) G(2,7,8,13) G(3,4,9,14)
    v0 = (v0 + v5 + m8) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16); v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
    v0 = (v0 + v5 + m9) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24); v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
    v1 = (v1 + v6 + m10) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16); v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
    v1 = (v1 + v6 + m11) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24); v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
    v2 = (v2 + v7 + m12) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16); v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
    v2 = (v2 + v7 + m13) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24); v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
    v3 = (v3 + v4 + m14) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16); v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
    v3 = (v3 + v4 + m15) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24); v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);
    // Message permutation [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8].
    const t0 = m0, t1 = m1, t4 = m4, t5 = m5, t8 = m8, t9 = m9, t12 = m12, t13 = m13;
    m0 = m2; m1 = m6; m2 = m3; m3 = m10; m4 = m7; m5 = t0; m6 = t4; m7 = t13;
    m8 = t1; m9 = m11; m10 = t12; m11 = t5; m12 = t9; m13 = m14; m14 = m15; m15 = t8;
  }
  cv[0] = v0 ^ v8;
  cv[1] = v1 ^ v9;
  cv[2] = v2 ^ v10;
  cv[3] = v3 ^ v11;
  cv[4] = v4 ^ v12;
  cv[5] = v5 ^ v13;
  cv[6] = v6 ^ v14;
  cv[7] = v7 ^ v15;
}

/** BLAKE3 of `data[start..end)` (32 bytes). */
export function blake3Range(data: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(32);
  blake3Into(data, start, end, out, 0);
  return out;
}

/** BLAKE3 of `data[start..end)` written to `out[offset..offset+32)` (which may overlap the input). */
export function blake3Into(data: Uint8Array, start: number, end: number, out: Uint8Array, offset: number): void {
  const len = end - start;
  if (len > CHUNK_LEN) blake3Long(data, start, end);
  else {
    resetCv();
    chunk(data, start, end, 0, ROOT);
  }
  writeCv(out, offset);
}

/** The chaining value `cv` as 32 little-endian bytes at `out[offset..offset+32)`. */
function writeCv(out: Uint8Array, offset: number): void {
  for (let i = 0; i < 8; i++) {
    const w = cv[i]!;
    const o = offset + 4 * i;
    out[o] = w;
    out[o + 1] = w >>> 8;
    out[o + 2] = w >>> 16;
    out[o + 3] = w >>> 24;
  }
}

function resetCv(): void {
  cv[0] = IV0; cv[1] = IV1; cv[2] = IV2; cv[3] = IV3; cv[4] = IV4; cv[5] = IV5; cv[6] = IV6; cv[7] = IV7;
}

/** Compresses the chunk data[start, end) (0 to 1,024 bytes) with chunk counter `counter` into `cv`, which holds the key (IV); `last` is or-ed into the last block's flags. */
function chunk(data: Uint8Array, start: number, end: number, counter: number, last: number): void {
  // Every block but the last is full; the last holds 1..64 bytes (0 for the empty input).
  const len = end - start;
  const full = len === 0 ? 0 : (len - 1) >> 6;
  let o = start;
  for (let b = 0; b < full; b++, o += 64) compress(data, o, 64, b === 0 ? CHUNK_START : 0, counter);
  const rest = end - o;
  tail.fill(0);
  for (let i = 0; i < rest; i++) tail[i] = data[o + i]!;
  compress(tail, 0, rest, (full === 0 ? CHUNK_START : 0) | CHUNK_END | last, counter);
}

/** Chaining values of complete subtrees waiting for their right sibling (BLAKE3 spec §5.1.2): at most 54 for inputs under 2^64 bytes. */
const stack = new Int32Array(8 * 54);
/** A parent node's block: its left and right children's chaining values. */
const parentBlock = new Uint8Array(64);

/** `cv` := the parent node of the stack's entry `at` (left) and `cv` (right); `flags` or-ed in (ROOT for the last). */
function parent(at: number, flags: number): void {
  for (let i = 0; i < 8; i++) {
    const l = stack[8 * at + i]!;
    const r = cv[i]!;
    parentBlock[4 * i] = l; parentBlock[4 * i + 1] = l >>> 8; parentBlock[4 * i + 2] = l >>> 16; parentBlock[4 * i + 3] = l >>> 24;
    parentBlock[32 + 4 * i] = r; parentBlock[33 + 4 * i] = r >>> 8; parentBlock[34 + 4 * i] = r >>> 16; parentBlock[35 + 4 * i] = r >>> 24;
  }
  resetCv();
  compress(parentBlock, 0, 64, PARENT | flags, 0);
}

/**
 * BLAKE3 of more than one chunk into `cv` (as the reference implementation does it): each chunk
 * but the last is compressed with its index as counter and merged into the stack of subtrees (a
 * chunk count with k trailing zero bits completes k parents); the last chunk's chaining value is
 * then folded with the stack from the top down, the final parent with ROOT.
 */
function blake3Long(data: Uint8Array, start: number, end: number): void {
  const chunks = Math.ceil((end - start) / CHUNK_LEN);
  let depth = 0;
  for (let c = 0; c < chunks - 1; c++) {
    resetCv();
    const o = start + c * CHUNK_LEN;
    chunk(data, o, o + CHUNK_LEN, c, 0);
    for (let total = c + 1; (total & 1) === 0; total >>>= 1) parent(--depth, 0);
    stack.set(cv, 8 * depth++);
  }
  resetCv();
  chunk(data, start + (chunks - 1) * CHUNK_LEN, end, chunks - 1, 0);
  while (depth > 0) {
    depth--;
    parent(depth, depth === 0 ? ROOT : 0);
  }
}

/** BLAKE3-256 of `data`. */
export function blake3(data: Uint8Array): Uint8Array {
  return blake3Range(data, 0, data.length);
}

const KEYED_HASH = 16;

/** A BLAKE3 key (32 bytes) as the eight little-endian words keyed hashing starts from. */
export function blake3KeyWords(key: Uint8Array): Int32Array {
  if (key.length !== 32) throw new RangeError(`a BLAKE3 key is 32 bytes, not ${key.length}`);
  const w = new Int32Array(8);
  for (let i = 0; i < 8; i++) w[i] = key[4 * i]! | (key[4 * i + 1]! << 8) | (key[4 * i + 2]! << 16) | (key[4 * i + 3]! << 24);
  return w;
}

/**
 * BLAKE3's keyed hash (spec §2.3: the key is the first chaining value, KEYED_HASH in every
 * block's flags) of exactly 64 bytes, `data[o..o+64)`, written to `out[offset..offset+32)`: one
 * compression, where a tag byte in front of the same 64 bytes costs two. What the state's
 * entry-log trees hash their nodes with (chain/stateentry.ts), one key per kind of node.
 */
export function blake3Keyed64Into(key: Int32Array, data: Uint8Array, o: number, out: Uint8Array, offset: number): void {
  cv.set(key);
  compress(data, o, 64, CHUNK_START | CHUNK_END | ROOT | KEYED_HASH, 0);
  writeCv(out, offset);
}
