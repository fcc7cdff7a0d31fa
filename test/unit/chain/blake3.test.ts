import { expect } from 'chai';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { blake3, blake3Range } from '../../../chain/blake3.js';
import { hex } from './fixtures.js';

/** The official test vectors' input: byte i is i % 251. */
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);

describe('chain/blake3', () => {
  it('matches the official BLAKE3 test vectors around the block and chunk boundaries', () => {
    // BLAKE3 test_vectors.json: the first 32 bytes of each extended output.
    const vectors: [number, string][] = [
      [0, 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'],
      [1, '2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213'],
      [63, 'e9bc37a594daad83be9470df7f7b3798297c3d834ce80ba85d6e207627b7db7b'],
      [64, '4eed7141ea4a5cd4b788606bd23f46e212af9cacebacdc7d1f4c6dc7f2511b98'],
      [65, 'de1e5fa0be70df6d2be8fffd0e99ceaa8eb6e8c93a63f2d8d1c30ecb6b263dee'],
      [1023, '10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11'],
      [1024, '42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7'],
      [1025, 'd00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444'],
      [2048, 'e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a'],
    ];
    for (const [n, want] of vectors) expect(hex(blake3(pattern(n))), `input_len ${n}`).to.equal(want);
  });

  it('agrees with @noble/hashes for every length from 0 to 2,048 bytes', () => {
    for (let n = 0; n <= 2048; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n * 7) & 0xff);
      expect(hex(blake3(data)), `length ${n}`).to.equal(hex(nobleBlake3(data)));
    }
  });

  it('agrees with @noble/hashes around every chunk boundary up to 64 chunks, and for large inputs', () => {
    const lengths: number[] = [];
    for (let c = 1; c <= 64; c++) lengths.push(c * 1024 - 1, c * 1024, c * 1024 + 1, c * 1024 + 63, c * 1024 + 64, c * 1024 + 65);
    lengths.push(100_000, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 17);
    for (const n of lengths) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n * 7 + (i >> 10)) & 0xff);
      expect(hex(blake3(data)), `length ${n}`).to.equal(hex(nobleBlake3(data)));
    }
  });

  it('hashes a range of a larger multi-chunk buffer without reading outside it', () => {
    const buf = Uint8Array.from({ length: 5000 }, (_, i) => (i * 29 + 3) & 0xff);
    for (const [s, e] of [[1, 1026], [17, 2065], [999, 5000], [0, 4097]] as const) {
      expect(hex(blake3Range(buf, s, e)), `[${s}, ${e})`).to.equal(hex(nobleBlake3(buf.subarray(s, e))));
    }
  });

  it('hashes a range of a larger buffer without reading outside it', () => {
    const buf = Uint8Array.from({ length: 600 }, (_, i) => (i * 17) & 0xff);
    for (const [s, e] of [[0, 0], [3, 3], [1, 65], [100, 420], [599, 600], [7, 600]] as const) {
      expect(hex(blake3Range(buf, s, e)), `[${s}, ${e})`).to.equal(hex(nobleBlake3(buf.subarray(s, e))));
    }
  });

  it('returns a fresh array each time (callers may keep or change it)', () => {
    const a = blake3(pattern(10));
    const b = blake3(pattern(10));
    expect(a).to.not.equal(b);
    a[0] ^= 0xff;
    expect(hex(blake3(pattern(10)))).to.equal(hex(b));
  });
});
