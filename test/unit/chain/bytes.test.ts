import { expect } from 'chai';
import fc from 'fast-check';
import { portableCodecs } from '../../../chain/bytes.js';
import { ChainErrorCode, compareBytes, concatBytes, equalBytes, fromHex, fromKey, keySlice, readSafeU64be, readU64be, toHex, toKey, u64be, writeU64be } from '../../../chain/index.js';
import { expectChainError, hex } from './fixtures.js';

describe('chain/bytes', () => {
  it('toHex is 0x-prefixed lowercase, also for subarrays', () => {
    expect(toHex(Uint8Array.of(0xab, 0x01))).to.equal('0xab01');
    expect(toHex(new Uint8Array(0))).to.equal('0x');
    expect(toHex(Uint8Array.of(1, 2, 3, 4).subarray(1, 3))).to.equal('0x0203');
  });

  it('fromHex is strict: 0x prefix, even digits, hex only, checked length', () => {
    expect(hex(fromHex('0xAb01'))).to.equal('ab01');
    expect(hex(fromHex('0x0102', 2))).to.equal('0102');
    for (const bad of ['ab01', '0xabc', '0xzz', '0x 1', ' 0x01', 'ox01', '0X01', '0x\u0161\u0161', '0xa\u0130']) {
      expectChainError(() => fromHex(bad), ChainErrorCode.InvalidHex);
    }
    expectChainError(() => fromHex(42 as unknown as string), ChainErrorCode.InvalidHex);
    expectChainError(() => fromHex('0x0102', 3, 'hash'), ChainErrorCode.FieldLength, /hash must be 3 bytes, got 2/);
  });

  it('heights are 8-byte big-endian', () => {
    expect(hex(u64be(1))).to.equal('0000000000000001');
    expect(hex(u64be(2n ** 64n - 1n))).to.equal('ffffffffffffffff');
    expect(readU64be(u64be(0x0102030405060708n))).to.equal(0x0102030405060708n);
    expect(readU64be(Uint8Array.of(9, ...u64be(5)), 1)).to.equal(5n);
    for (const n of [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      const b = new Uint8Array(11);
      writeU64be(b, 3, n);
      expect(toHex(b.subarray(3))).to.equal(toHex(u64be(n)));
      expect(readSafeU64be(b, 3)).to.equal(n);
    }
    expect(compareBytes(u64be(255), u64be(256))).to.be.lessThan(0);
  });

  it('equal/compare/concat', () => {
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).to.equal(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).to.equal(false);
    expect(equalBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).to.equal(false);
    expect(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).to.be.lessThan(0);
    expect(compareBytes(Uint8Array.of(2), Uint8Array.of(1, 9))).to.be.greaterThan(0);
    expect(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).to.equal(0);
    expect(hex(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)))).to.equal('010203');
  });

  it('toKey/fromKey round-trip every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(toKey(all)).to.have.length(256);
    expect(hex(fromKey(toKey(all)))).to.equal(hex(all));
    expect(toKey(all.subarray(10, 12))).to.equal(toKey(Uint8Array.of(10, 11)));
    for (const [from, to] of [[0, 0], [0, 256], [10, 12], [200, 256], [255, 256]] as const) {
      expect(keySlice(all, from, to), `[${from}, ${to})`).to.equal(toKey(all.slice(from, to)));
    }
  });

  it('the codecs used without Buffer (the browser bundle) give what Buffer gives, for any bytes and any digits', () => {
    const bufferHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (b, cut) => {
        const start = b.length === 0 ? 0 : cut % b.length;
        expect(portableCodecs.hexSlice.call(b, start, b.length)).to.equal(bufferHex(b.subarray(start)));
        expect(portableCodecs.latin1Slice.call(b, 0, b.length)).to.equal(Buffer.from(b).toString('latin1'));
        expect(portableCodecs.decodeLatin1(Buffer.from(b).toString('latin1'))).to.deep.equal(b);
        const text = String.fromCharCode(...b) + '\u{1F600}\u0161';
        expect(portableCodecs.decodeLatin1(text)).to.deep.equal(new Uint8Array(Buffer.from(text, 'latin1')));
        expect(portableCodecs.decodeHex(bufferHex(b))).to.deep.equal(new Uint8Array(b));
      }),
    );
    // Digits with a non-hex pair stop where Buffer stops (fromHex then refuses by the length).
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxz \u00e9'), maxLength: 40 }), (digits) => {
        expect(portableCodecs.decodeHex(digits)).to.deep.equal(new Uint8Array(Buffer.from(digits, 'hex')));
      }),
    );
  });
});
