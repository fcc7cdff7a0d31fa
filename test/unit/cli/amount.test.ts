import { expect } from 'chai';
import fc from 'fast-check';
import { formatUnits } from '../../../chain/index.js';
import { parseBaseUnits, parseHumanAmount } from '../../../bin/cli/amount.js';
import { CliError, ExitCode } from '../../../bin/cli/errors.js';

const bad = (fn: () => unknown): CliError => {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(CliError);
    return e as CliError;
  }
  return expect.fail('expected a CliError');
};

describe('cli/amount', () => {
  it('converts human amounts to base units exactly', () => {
    expect(parseHumanAmount('1.5', 'NEX', 6)).to.equal(1_500_000n);
    expect(parseHumanAmount('0.000001', 'NEX', 6)).to.equal(1n);
    expect(parseHumanAmount('12', 'NEX', 6)).to.equal(12_000_000n);
    expect(parseHumanAmount('7', 'AUR', 0)).to.equal(7n);
    expect(parseHumanAmount('0.1', 'FLX', 18)).to.equal(10n ** 17n);
    expect(parseHumanAmount('123456789012345678901234.567891', 'NEX', 6)).to.equal(123456789012345678901234567891n);
  });

  it('rejects more decimals than the asset has, saying how many it has (31)', () => {
    const e = bad(() => parseHumanAmount('1.1234567', 'NEX', 6));
    expect(e.exitCode).to.equal(ExitCode.BadAmount);
    expect(e.message).to.equal('amount 1.1234567 has 7 decimals but NEX has 6: use at most 6 decimals');
    expect(bad(() => parseHumanAmount('1.5', 'AUR', 0)).message).to.match(/use a whole number/);
  });

  it('rejects what is not a plain positive decimal (31)', () => {
    for (const t of ['', 'abc', '-1', '+1', '1e6', '1,000', '.5', '1.', '0x10', '1 000', '0', '0.000']) {
      expect(bad(() => parseHumanAmount(t, 'NEX', 6)).exitCode, t).to.equal(ExitCode.BadAmount);
    }
    expect(bad(() => parseHumanAmount('1' + '0'.repeat(40), 'NEX', 6)).message).to.match(/too large/);
  });

  it('formatUnits inverts parseHumanAmount for every positive amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 18 }), (v, d) => {
        expect(parseHumanAmount(formatUnits(v, d), 'X', d)).to.equal(v);
      }),
    );
  });

  it('parses base units for fees', () => {
    expect(parseBaseUnits('0', '--fee')).to.equal(0n);
    expect(parseBaseUnits('2500', '--fee')).to.equal(2500n);
    for (const t of ['1.5', '-1', 'x', '']) expect(bad(() => parseBaseUnits(t, '--fee')).exitCode).to.equal(ExitCode.BadAmount);
  });
});
