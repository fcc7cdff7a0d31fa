import { expect } from 'chai';
import { RLP } from '@ethereumjs/rlp';
import fc from 'fast-check';
import {
  asBigint,
  asBytes,
  asRlpUint,
  asSafeUint,
  asString,
  ChainErrorCode,
  decodeList,
  fromUtf8,
  MAX_RLP_DEPTH,
  rlpDecode,
  rlpEncode,
  rlpEncodeList,
  rlpListItems,
  type RlpInput,
  rlpUint,
  uintBytes,
  utf8,
} from '../../../chain/index.js';
import { expectChainError, hex, longFormString, prefixedString, rawList, unhex } from './fixtures.js';

describe('chain/rlp', () => {
  describe('encoding (Ethereum RLP, frozen)', () => {
    const cases: Array<[string, Parameters<typeof rlpEncode>[0], string]> = [
      ['empty string', new Uint8Array(0), '80'],
      ['single byte below 0x80', Uint8Array.of(0x05), '05'],
      ['single byte 0x80', Uint8Array.of(0x80), '8180'],
      ['"dog"', utf8('dog'), '83646f67'],
      ['55-byte string (last short form)', new Uint8Array(55).fill(0x61), 'b7' + '61'.repeat(55)],
      ['56-byte string (first long form)', new Uint8Array(56).fill(0x61), 'b838' + '61'.repeat(56)],
      ['empty list', [], 'c0'],
      ['["cat","dog"]', [utf8('cat'), utf8('dog')], 'c88363617483646f67'],
      ['set of three', [[], [[]], [[], [[]]]], 'c7c0c1c0c3c0c1c0'],
    ];
    for (const [name, input, expected] of cases) {
      it(name, () => {
        expect(hex(rlpEncode(input))).to.equal(expected);
        expect(hex(rlpEncode(rlpDecode(unhex(expected), name)))).to.equal(expected);
      });
    }

    it('uintBytes is minimal big-endian, 0 is the empty string, negatives are refused', () => {
      expect(hex(uintBytes(0))).to.equal('');
      expect(hex(uintBytes(1))).to.equal('01');
      expect(hex(uintBytes(255))).to.equal('ff');
      expect(hex(uintBytes(256))).to.equal('0100');
      expect(hex(uintBytes(2n ** 64n - 1n))).to.equal('ffffffffffffffff');
      expectChainError(() => uintBytes(-1), ChainErrorCode.FieldValue);
    });
  });

  describe('strict decoding', () => {
    it('trailing bytes after the item are refused (InvalidRlp)', () => {
      expectChainError(() => rlpDecode(unhex('83646f6700'), 'x'), ChainErrorCode.InvalidRlp);
      expectChainError(() => rlpDecode(unhex('c0c0'), 'x'), ChainErrorCode.InvalidRlp);
    });

    it('truncated input is refused (InvalidRlp)', () => {
      expectChainError(() => rlpDecode(unhex('83646f'), 'x'), ChainErrorCode.InvalidRlp);
      expectChainError(() => rlpDecode(unhex('c3646f'), 'x'), ChainErrorCode.InvalidRlp);
      expectChainError(() => rlpDecode(unhex('b9'), 'x'), ChainErrorCode.InvalidRlp);
    });

    it('a single byte < 0x80 wrapped as 0x81xx is non-canonical', () => {
      expectChainError(() => rlpDecode(prefixedString(Uint8Array.of(0x05)), 'x'), ChainErrorCode.NonCanonical, /canonical/);
      expectChainError(() => rlpDecode(unhex('8100'), 'x'), ChainErrorCode.NonCanonical);
      // ... also when nested in a list.
      expectChainError(() => rlpDecode(rawList([unhex('80'), prefixedString(Uint8Array.of(0x7f))]), 'x'), ChainErrorCode.NonCanonical);
      // 0x81 0x80 is the canonical form of the byte 0x80.
      expect(hex(asBytes(rlpDecode(unhex('8180'), 'x'), 'x'))).to.equal('80');
    });

    it('long-form length for a short string or list is non-canonical', () => {
      expectChainError(() => rlpDecode(longFormString(utf8('dog')), 'x'), ChainErrorCode.NonCanonical);
      expectChainError(() => rlpDecode(longFormString(new Uint8Array(55)), 'x'), ChainErrorCode.NonCanonical);
      expectChainError(() => rlpDecode(rawList([utf8('a')], true), 'x'), ChainErrorCode.NonCanonical);
      // The 56-byte long form is canonical.
      expect(asBytes(rlpDecode(longFormString(new Uint8Array(56)), 'x'), 'x')).to.have.length(56);
    });

    it('a length with leading zero bytes is non-canonical', () => {
      expectChainError(() => rlpDecode(unhex('b90038' + '61'.repeat(56)), 'x'), ChainErrorCode.NonCanonical);
      expectChainError(() => rlpDecode(unhex('f90038' + '80'.repeat(56)), 'x'), ChainErrorCode.NonCanonical);
    });

    it('the empty input is not an RLP item', () => {
      expectChainError(() => rlpDecode(new Uint8Array(0), 'x'), ChainErrorCode.NonCanonical);
    });

    it('decodeList checks that the item is a list and counts its fields', () => {
      const item = rlpDecode(rlpEncode([utf8('a'), utf8('b')]), 'x');
      expect(decodeList(item, 2, 'x')).to.have.length(2);
      expectChainError(() => decodeList(item, 3, 'x'), ChainErrorCode.FieldCount, /expected 3 fields, got 2/);
      expectChainError(() => decodeList(utf8('a'), 1, 'x'), ChainErrorCode.InvalidRlp);
    });

    it('asBytes checks type and length', () => {
      expect(hex(asBytes(unhex('0102'), 'x', 2))).to.equal('0102');
      expectChainError(() => asBytes(unhex('01'), 'x', 2), ChainErrorCode.FieldLength);
      expectChainError(() => asBytes([], 'x'), ChainErrorCode.InvalidRlp);
      expectChainError(() => asBytes(undefined, 'x'), ChainErrorCode.InvalidRlp);
    });

    it('integers: leading zero bytes are non-canonical, too-long integers are refused', () => {
      expect(asBigint(unhex(''), 'x')).to.equal(0n);
      expect(asBigint(unhex('0100'), 'x')).to.equal(256n);
      expectChainError(() => asBigint(unhex('00'), 'x'), ChainErrorCode.NonCanonical, /leading zero/);
      expectChainError(() => asBigint(unhex('0001'), 'x'), ChainErrorCode.NonCanonical);
      expectChainError(() => asBigint(unhex('010203'), 'x', 2), ChainErrorCode.FieldLength);
      // Through a full decode: [0x00 0x07] encoded canonically as a string, but not a canonical integer.
      const item = rlpDecode(unhex('820007'), 'x');
      expectChainError(() => asBigint(item, 'x'), ChainErrorCode.NonCanonical);
    });

    it('asSafeUint refuses values above 2^53-1 rather than rounding', () => {
      expect(asSafeUint(uintBytes(Number.MAX_SAFE_INTEGER), 'x')).to.equal(Number.MAX_SAFE_INTEGER);
      expectChainError(() => asSafeUint(uintBytes(2n ** 53n), 'x'), ChainErrorCode.FieldValue);
      expectChainError(() => asSafeUint(uintBytes(2n ** 64n), 'x'), ChainErrorCode.FieldLength);
    });

    it('strings: invalid UTF-8 and over-long strings are refused', () => {
      expect(asString(utf8('héllo ✓'), 'x')).to.equal('héllo ✓');
      for (const bad of ['ff', 'c0af', 'e08080', 'eda080', 'c3', 'f4908080']) {
        expectChainError(() => asString(unhex(bad), 'x'), ChainErrorCode.FieldValue, /UTF-8/);
      }
      expect(asString(new Uint8Array(4).fill(0x61), 'x', 4)).to.equal('aaaa');
      expectChainError(() => asString(new Uint8Array(5).fill(0x61), 'x', 4), ChainErrorCode.FieldLength);
    });

    it('strings: a leading byte-order mark is kept, so decoding is one-to-one', () => {
      const withBom = unhex('efbbbf61');
      expect(asString(withBom, 'x')).to.equal('\ufeffa');
      expect(hex(utf8(fromUtf8(withBom)))).to.equal('efbbbf61');
    });
  });
});

describe('chain/rlp against @ethereumjs/rlp (the reference)', () => {
  // Strictness as it was defined before this codec: the reference decodes, and re-encoding the
  // result gives back the same bytes.
  const referenceStrict = (b: Uint8Array): boolean => {
    try {
      return Buffer.compare(RLP.encode(RLP.decode(b) as never), b) === 0;
    } catch {
      return false;
    }
  };
  const arbItem: fc.Arbitrary<RlpInput> = fc.letrec<{ item: RlpInput }>((tie) => ({
    item: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.uint8Array({ maxLength: 70 }),
      fc.constantFrom(new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(0x7f), Uint8Array.of(0x80), new Uint8Array(55), new Uint8Array(56), new Uint8Array(300)),
      fc.array(tie('item'), { maxLength: 6 }),
    ),
  })).item;
  const toReference = (x: RlpInput): unknown => (x instanceof Uint8Array ? x : (x as RlpInput[]).map(toReference));

  it('encodes exactly as the reference does', () => {
    fc.assert(
      fc.property(arbItem, (x) => {
        expect(hex(rlpEncode(x))).to.equal(hex(RLP.encode(toReference(x) as never)));
      }),
      { numRuns: 2000 },
    );
  });

  it('strings and integers encode as their UTF-8 and minimal big-endian bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.bigInt({ min: 0n, max: 2n ** 130n }), fc.nat(), (s, big, n) => {
        expect(hex(rlpEncode([s, big, n]))).to.equal(hex(RLP.encode([utf8(s), uintBytes(big), uintBytes(n)])));
      }),
      { numRuns: 2000 },
    );
  });

  it('big integers encode as the reference encodes them and read back', () => {
    // Sizes around 2^48, 2^53 (where numbers give way to bigints) and 2^96, and any up to 2^256.
    const arbBig = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
      fc.tuple(fc.integer({ min: 40, max: 110 }), fc.bigInt({ min: -3n, max: 3n })).map(([bits, d]) => (1n << BigInt(bits)) + d),
      fc.integer({ min: 1, max: 100 }).chain((bits) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n })),
    );
    fc.assert(
      fc.property(arbBig, (n) => {
        const reference = RLP.encode(n);
        expect(hex(rlpUint(n))).to.equal(hex(reference));
        expect(hex(rlpEncode(n))).to.equal(hex(reference));
        expect(hex(rlpEncode([n, n]))).to.equal(hex(RLP.encode([n, n])));
        expect(asRlpUint(rlpUint(n), 'x')).to.equal(n);
        expect(asBigint(uintBytes(n), 'x')).to.equal(n);
      }),
      { numRuns: 3000 },
    );
  });

  it('asRlpUint is as strict as rlpDecode + asBigint: same value or both refuse', () => {
    const outcome = (f: () => bigint): string => {
      try {
        return f().toString();
      } catch (e) {
        return 'refused ' + (e as { code?: string }).code;
      }
    };
    const arbStored = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      fc.uint8Array({ minLength: 0, maxLength: 14 }).map((b) => Uint8Array.of(0x80 + b.length, ...b)), // short strings, leading zeros included
    );
    fc.assert(
      fc.property(arbStored, fc.integer({ min: 1, max: 32 }), (v, maxBytes) => {
        expect(outcome(() => asRlpUint(v, 'x', maxBytes))).to.equal(outcome(() => asBigint(rlpDecode(v, 'x'), 'x', maxBytes)));
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes every canonical encoding back to the same structure', () => {
    fc.assert(
      fc.property(arbItem, (x) => {
        const bytes = rlpEncode(x);
        expect(hex(rlpEncode(rlpDecode(bytes, 'x')))).to.equal(hex(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts exactly the byte strings the reference accepts as canonical', () => {
    // Random bytes, and canonical encodings with one byte changed, appended or dropped.
    const mutated = arbItem.chain((x) => {
      const b = rlpEncode(x);
      return fc.tuple(fc.nat(b.length), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'append', 'drop')).map(([i, v, op]) => {
        if (op === 'append') return Uint8Array.of(...b, v);
        if (op === 'drop') return b.subarray(0, Math.max(0, b.length - 1));
        const c = Uint8Array.from(b);
        if (i < c.length) c[i] = v;
        return c;
      });
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), mutated), (b) => {
        let ours = true;
        try {
          rlpDecode(b, 'x');
        } catch (e) {
          expect((e as { code?: string }).code).to.be.oneOf([ChainErrorCode.InvalidRlp, ChainErrorCode.NonCanonical]);
          ours = false;
        }
        expect(ours, hex(b)).to.equal(referenceStrict(b));
      }),
      { numRuns: 5000 },
    );
  });

  it('decoded bytes are views into the input, not copies', () => {
    const input = rlpEncode([utf8('abc'), [utf8('de')]]);
    const item = rlpDecode(input, 'x') as Uint8Array[];
    expect(item[0]!.buffer).to.equal(input.buffer);
  });

  it('refuses nesting deeper than MAX_RLP_DEPTH on both sides', () => {
    let deep: RlpInput = [];
    for (let i = 0; i < MAX_RLP_DEPTH + 1; i++) deep = [deep];
    expectChainError(() => rlpEncode(deep), ChainErrorCode.FieldValue, /deeper/);
    const bytes = Uint8Array.from([...Array(MAX_RLP_DEPTH + 1).keys()].map((i) => 0xc0 + (MAX_RLP_DEPTH - i)));
    expectChainError(() => rlpDecode(bytes, 'x'), ChainErrorCode.InvalidRlp, /deeper/);
  });

  it('rlpListItems splits a list into its items\' encodings: decoding each gives rlpDecode\'s list, or both refuse', () => {
    const mutated = fc.array(arbItem, { maxLength: 6 }).chain((xs) => {
      const b = rlpEncode(xs);
      return fc.tuple(fc.nat(b.length), fc.integer({ min: 0, max: 255 }), fc.constantFrom('keep', 'set', 'append', 'drop')).map(([i, v, op]) => {
        if (op === 'keep') return b;
        if (op === 'append') return Uint8Array.of(...b, v);
        if (op === 'drop') return b.subarray(0, Math.max(0, b.length - 1));
        const c = Uint8Array.from(b);
        if (i < c.length) c[i] = v;
        return c;
      });
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), mutated), (b) => {
        let whole: ReturnType<typeof rlpDecode> | undefined;
        try {
          whole = rlpDecode(b, 'x');
        } catch {
          whole = undefined;
        }
        let split: ReturnType<typeof rlpDecode>[] | undefined;
        try {
          split = rlpListItems(b, 'x').map((item) => rlpDecode(item, 'x'));
        } catch (e) {
          expect((e as { code?: string }).code).to.be.oneOf([ChainErrorCode.InvalidRlp, ChainErrorCode.NonCanonical]);
          split = undefined;
        }
        if (Array.isArray(whole)) {
          expect(split, hex(b)).to.not.equal(undefined);
          expect(hex(rlpEncode(split!)), hex(b)).to.equal(hex(b));
          for (const item of rlpListItems(b, 'x')) expect(item.buffer, 'a view, not a copy').to.equal(b.buffer);
        } else {
          expect(split, `${hex(b)} is not a canonical list`).to.equal(undefined);
        }
      }),
      { numRuns: 5000 },
    );
    expectChainError(() => rlpListItems(rlpEncode(utf8('abc')), 'x'), ChainErrorCode.InvalidRlp, /expected a list/);
    expect(rlpListItems(rlpEncode([]), 'x')).to.deep.equal([]);
  });

  it('rlpEncodeList frames items that are already encoded', () => {
    fc.assert(
      fc.property(fc.array(arbItem, { maxLength: 8 }), (xs) => {
        expect(hex(rlpEncodeList(xs.map((x) => rlpEncode(x))))).to.equal(hex(rlpEncode(xs)));
      }),
    );
  });
});
