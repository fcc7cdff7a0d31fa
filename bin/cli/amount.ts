import { formatUnits, parseUnits } from '../../chain/index.js';
import { CliError, ExitCode } from './errors.js';

const MAX_U128 = (1n << 128n) - 1n;

/**
 * "1.5" of an asset with 6 decimals → 1500000n, exactly (no floating point). Refuses more
 * decimals than the asset has, signs, exponents, separators, zero and overflow.
 */
export function parseHumanAmount(text: string, symbol: string, decimals: number): bigint {
  const t = text.trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(t);
  if (!m) throw new CliError(ExitCode.BadAmount, `amount "${text}" is not a number of ${symbol}: write it like 12 or 1.5 (no sign, exponent or separators)`);
  const places = m[2]?.length ?? 0;
  if (places > decimals) {
    const hint = decimals === 0 ? 'a whole number' : `at most ${decimals} decimal${decimals === 1 ? '' : 's'}`;
    throw new CliError(ExitCode.BadAmount, `amount ${t} has ${places} decimals but ${symbol} has ${decimals}: use ${hint}`);
  }
  const v = parseUnits(t, decimals);
  if (v === 0n) throw new CliError(ExitCode.BadAmount, `amount must be more than 0 ${symbol}`);
  if (v > MAX_U128) throw new CliError(ExitCode.BadAmount, `amount ${t} ${symbol} is too large`);
  return v;
}

/** A fee or other base-unit quantity: a plain non-negative integer. */
export function parseBaseUnits(text: string, what: string): bigint {
  if (!/^\d{1,39}$/.test(text.trim())) throw new CliError(ExitCode.BadAmount, `${what} "${text}" must be a whole number of base units, e.g. 1000`);
  const v = BigInt(text.trim());
  if (v > MAX_U128) throw new CliError(ExitCode.BadAmount, `${what} ${text} is too large`);
  return v;
}

/** "1.5 NEX", or "1500000 (base units)" when the decimals are unknown. */
export function showAmount(base: bigint, symbol: string, decimals: number | undefined): string {
  return decimals === undefined ? `${base} ${symbol} base units` : `${formatUnits(base, decimals)} ${symbol}`;
}
