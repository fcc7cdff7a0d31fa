import { expect } from 'chai';
import { ChainErrorCode, formatAmount, formatUnits, parseAmount, parseUnits } from '../../../chain/index.js';
import { expectChainError } from './fixtures.js';

describe('chain/json', () => {
  describe('parseUnits', () => {
    const cases: Array<[string, number, bigint]> = [
      ['1.5', 6, 1_500_000n],
      ['0', 6, 0n],
      ['0.000001', 6, 1n],
      ['123.456789', 6, 123_456_789n],
      ['1', 0, 1n],
      ['1.50', 2, 150n],
      ['007', 2, 700n],
      ['340282366920938463463.374607431768211455', 18, 2n ** 128n - 1n],
      [' 2.5 ', 1, 25n],
    ];
    for (const [text, decimals, expected] of cases) {
      it(`"${text}" with ${decimals} decimals is ${expected}`, () => {
        expect(parseUnits(text, decimals)).to.equal(expected);
      });
    }

    it('refuses more decimals than the asset has, saying how many it has', () => {
      expectChainError(() => parseUnits('1.0000001', 6), ChainErrorCode.FieldValue, /has 7 decimals; this asset has 6/);
      expectChainError(() => parseUnits('1.0', 0), ChainErrorCode.FieldValue, /has 1 decimals; this asset has 0/);
    });

    it('refuses what is not a non-negative decimal number', () => {
      for (const bad of ['', '-1', '+1', '1.', '.5', '1e6', '0x10', '1,5', '1.2.3', 'abc', '١']) {
        expectChainError(() => parseUnits(bad, 6), ChainErrorCode.FieldValue, /not a non-negative decimal/);
      }
    });
  });

  describe('formatUnits', () => {
    const cases: Array<[bigint, number, string]> = [
      [1_500_000n, 6, '1.5'],
      [1n, 6, '0.000001'],
      [0n, 6, '0'],
      [1_000_000n, 6, '1'],
      [123_456_789n, 6, '123.456789'],
      [-1_500_000n, 6, '-1.5'],
      [123n, 0, '123'],
      [2n ** 128n - 1n, 18, '340282366920938463463.374607431768211455'],
    ];
    for (const [v, decimals, expected] of cases) {
      it(`${v} with ${decimals} decimals is "${expected}"`, () => {
        expect(formatUnits(v, decimals)).to.equal(expected);
      });
    }

    it('parseUnits(formatUnits(v)) is v for non-negative v', () => {
      for (const v of [0n, 1n, 9n, 10n, 999_999n, 1_000_000n, 1_000_001n, 2n ** 64n, 2n ** 128n - 1n]) {
        for (const d of [0, 1, 6, 18]) expect(parseUnits(formatUnits(v, d), d), `${v} @ ${d}`).to.equal(v);
      }
    });
  });

  describe('parseAmount / formatAmount', () => {
    it('parses decimal strings of base units', () => {
      expect(parseAmount('0')).to.equal(0n);
      expect(parseAmount('1000')).to.equal(1000n);
      expect(parseAmount('9'.repeat(40))).to.equal(10n ** 40n - 1n);
      expect(formatAmount(1000n)).to.equal('1000');
      expect(parseAmount(formatAmount(2n ** 128n - 1n))).to.equal(2n ** 128n - 1n);
    });

    it('refuses "01", "-1", "1.0", numbers and other non-canonical forms', () => {
      for (const bad of ['01', '00', '-1', '1.0', '', ' 1', '1 ', '+1', '1e3', '0x10', '1_000', '1'.repeat(41)]) {
        expectChainError(() => parseAmount(bad), ChainErrorCode.FieldValue, /decimal string of base units/);
      }
      for (const bad of [1000, 1000n, null, undefined, ['1'], { v: '1' }]) {
        expectChainError(() => parseAmount(bad), ChainErrorCode.FieldValue);
      }
    });

    it('names the field in the error', () => {
      expectChainError(() => parseAmount(5, 'fee'), ChainErrorCode.FieldValue, /^fee must be/);
    });
  });
});
