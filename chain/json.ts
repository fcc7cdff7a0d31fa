/**
 * The JSON conventions of every Metanode interface (JSON-RPC, genesis, CLI --json), in one place:
 * - bytes and hashes: 0x-prefixed lowercase hex;
 * - addresses: bech32m text with the prefix "mn" (see address.ts);
 * - amounts and fees: decimal strings of base units (never JSON numbers: they lose precision);
 * - heights, rounds, indices, nonces, timestamps (ms): JSON numbers (safe integers).
 */
import { ChainError, ChainErrorCode } from './errors.js';

const UINT_RE = /^(0|[1-9][0-9]*)$/;

export function formatAmount(v: bigint): string {
  return v.toString(10);
}

export function parseAmount(s: unknown, what = 'amount'): bigint {
  if (typeof s !== 'string' || !UINT_RE.test(s) || s.length > 40) {
    throw new ChainError(ChainErrorCode.FieldValue, `${what} must be a decimal string of base units, e.g. "1000"`, { value: s });
  }
  return BigInt(s);
}

/** "1.5" with 6 decimals → 1500000n; refuses more decimals than the asset has. */
export function parseUnits(text: string, decimals: number, what = 'amount'): bigint {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new ChainError(ChainErrorCode.FieldValue, `${what} "${text}" is not a non-negative decimal number`);
  const frac = m[2] ?? '';
  if (frac.length > decimals) {
    throw new ChainError(ChainErrorCode.FieldValue, `${what} "${text}" has ${frac.length} decimals; this asset has ${decimals}`);
  }
  return BigInt(m[1]!) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
}

/** 1500000n with 6 decimals → "1.5". */
export function formatUnits(v: bigint, decimals: number): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const base = 10n ** BigInt(decimals);
  const whole = a / base;
  const frac = (a % base).toString().padStart(decimals, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + whole.toString() + (frac ? '.' + frac : '');
}
