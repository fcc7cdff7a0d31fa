import { ChainError, fromHex, parseAddress } from '../chain/index.js';
import { invalidParams } from './errors.js';

/** A parameter: its name, JSON schema (for OpenRPC) and a parser that throws -32602 with its name. */
export interface ParamSpec<T = unknown> {
  name: string;
  required: boolean;
  description: string;
  schema: Record<string, unknown>;
  parse(value: unknown): T;
}

function spec<T>(name: string, required: boolean, description: string, schema: Record<string, unknown>, parse: (v: unknown) => T): ParamSpec<T> {
  return { name, required, description, schema, parse };
}

export const P = {
  hash: (name: string, description: string) =>
    spec(name, true, description, { type: 'string', pattern: '^0x[0-9a-f]{64}$' }, (v) => {
      if (typeof v !== 'string') throw invalidParams(name, 'must be a 0x-prefixed 32-byte hex string');
      try {
        return fromHex(v.toLowerCase(), 32, name);
      } catch (e) {
        throw invalidParams(name, `must be a 0x-prefixed 32-byte hex string (${(e as ChainError).message})`);
      }
    }),
  bytes: (name: string, description: string) =>
    spec(name, true, description, { type: 'string', pattern: '^0x([0-9a-f]{2})*$' }, (v) => {
      if (typeof v !== 'string') throw invalidParams(name, 'must be 0x-prefixed hex');
      try {
        return fromHex(v.toLowerCase(), undefined, name);
      } catch {
        throw invalidParams(name, 'must be 0x-prefixed hex with an even number of digits');
      }
    }),
  address: (name: string, description: string) =>
    spec(name, true, description, { type: 'string', pattern: '^mn1[02-9ac-hj-np-z]+$' }, (v) => {
      if (typeof v !== 'string') throw invalidParams(name, 'must be an address string like "mn1…"');
      try {
        return parseAddress(v);
      } catch (e) {
        throw invalidParams(name, `is not a valid address: ${(e as Error).message}`);
      }
    }),
  height: (name: string, description: string, required = true) =>
    spec<number | 'latest'>(name, required, description, { oneOf: [{ type: 'integer', minimum: 0 }, { const: 'latest' }] }, (v) => {
      if (v === undefined && !required) return 'latest';
      if (v === 'latest') return 'latest';
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
      if (typeof v === 'string' && /^(0|[1-9][0-9]{0,15})$/.test(v)) return Number(v);
      throw invalidParams(name, 'must be a non-negative integer or "latest"');
    }),
  bool: (name: string, description: string) =>
    spec(name, false, description, { type: 'boolean', default: false }, (v) => {
      if (v === undefined) return false;
      if (typeof v !== 'boolean') throw invalidParams(name, 'must be true or false');
      return v;
    }),
};

/** Positional or by-name params → one value per spec, in order; extra params are refused. */
export function parseParams(specs: readonly ParamSpec[], params: unknown): unknown[] {
  let values: unknown[];
  if (params === undefined || params === null) values = [];
  else if (Array.isArray(params)) values = params;
  else if (typeof params === 'object') {
    const obj = params as Record<string, unknown>;
    for (const k of Object.keys(obj)) if (!specs.some((s) => s.name === k)) throw invalidParams(k, 'is not a parameter of this method');
    values = specs.map((s) => obj[s.name]);
  } else throw invalidParams('params', 'must be an array or an object');
  if (values.length > specs.length) throw invalidParams('params', `takes at most ${specs.length} parameter(s), got ${values.length}`);
  return specs.map((s, i) => {
    const v = values[i];
    if (v === undefined && s.required) throw invalidParams(s.name, 'is required');
    return s.parse(v);
  });
}
