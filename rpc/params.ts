import { ChainError, fromHex, parseAddress } from '../chain/index.js';
import { invalidParams } from './errors.js';
import { SUBSCRIPTION_KINDS, type SubscriptionFilter, type SubscriptionKind } from './subscriptions.js';

/** A page of a newest-first list: at most `limit` items, all strictly before the cursor `before`. */
export interface Page<C> {
  limit: number;
  before?: C;
}

export const PAGE_DEFAULT_LIMIT = 20;
export const PAGE_MAX_LIMIT = 100;

/** A cursor inside a page parameter: its schema and parser (which throws with the message's tail). */
interface Cursor<C> {
  schema: Record<string, unknown>;
  parse(v: unknown): C | string;
}

const MAX_U32 = 0xffffffff;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
        return fromHex(v.startsWith('0X') ? '0x' + v.slice(2) : v, undefined, name);
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
  string: (name: string, description: string, maxLength: number) =>
    spec(name, true, description, { type: 'string', maxLength }, (v) => {
      if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) throw invalidParams(name, `must be a string of 1 to ${maxLength} characters`);
      return v;
    }),
  bool: (name: string, description: string) =>
    spec(name, false, description, { type: 'boolean', default: false }, (v) => {
      if (v === undefined) return false;
      if (typeof v !== 'boolean') throw invalidParams(name, 'must be true or false');
      return v;
    }),
  /** `{limit?, before?}` for newest-first paging; `before` is parsed by `cursor`. */
  page: <C>(name: string, description: string, cursor: Cursor<C>) =>
    spec<Page<C>>(
      name,
      false,
      description,
      {
        type: 'object',
        properties: { limit: { type: 'integer', minimum: 1, maximum: PAGE_MAX_LIMIT, default: PAGE_DEFAULT_LIMIT }, before: cursor.schema },
        additionalProperties: false,
      },
      (v) => {
        if (v === undefined || v === null) return { limit: PAGE_DEFAULT_LIMIT };
        if (!isPlainObject(v)) throw invalidParams(name, 'must be an object {limit?, before?}');
        for (const k of Object.keys(v)) if (k !== 'limit' && k !== 'before') throw invalidParams(`${name}.${k}`, 'is not a field of a page; the fields are limit and before');
        const limit = v.limit ?? PAGE_DEFAULT_LIMIT;
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX_LIMIT) {
          throw invalidParams(`${name}.limit`, `must be an integer from 1 to ${PAGE_MAX_LIMIT}`);
        }
        if (v.before === undefined || v.before === null) return { limit };
        const before = cursor.parse(v.before);
        if (typeof before === 'string') throw invalidParams(`${name}.before`, before);
        return { limit, before };
      },
    ),
  subscriptionKind: (name: string, description: string) =>
    spec<SubscriptionKind>(name, true, description, { enum: [...SUBSCRIPTION_KINDS] }, (v) => {
      if (typeof v !== 'string' || !(SUBSCRIPTION_KINDS as readonly string[]).includes(v)) throw invalidParams(name, `must be one of ${SUBSCRIPTION_KINDS.map((k) => `"${k}"`).join(', ')}`);
      return v as SubscriptionKind;
    }),
  subscriptionFilter: (name: string, description: string) =>
    spec<SubscriptionFilter>(
      name,
      false,
      description,
      { type: 'object', properties: { address: { type: 'string', pattern: '^mn1[02-9ac-hj-np-z]+$' }, module: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' } }, additionalProperties: false },
      (v) => {
        if (v === undefined || v === null) return {};
        if (!isPlainObject(v)) throw invalidParams(name, 'must be an object {address?, module?}');
        const out: SubscriptionFilter = {};
        for (const [k, x] of Object.entries(v)) {
          if (k === 'address') out.address = P.address(`${name}.address`, '').parse(x);
          else if (k === 'module') {
            if (typeof x !== 'string' || !/^[a-z][a-z0-9_]*$/.test(x)) throw invalidParams(`${name}.module`, 'must be a module name such as "bank"');
            out.module = x;
          } else throw invalidParams(`${name}.${k}`, 'is not a field of a filter; the fields are address and module');
        }
        return out;
      },
    ),
  /** A string of at most `maxLength` characters matching `pattern`; `what` says what it must be. */
  text: (name: string, description: string, o: { pattern: RegExp; maxLength: number; what: string }) =>
    spec<string>(name, true, description, { type: 'string', pattern: o.pattern.source, maxLength: o.maxLength }, (v) => {
      if (typeof v !== 'string' || v.length > o.maxLength || !o.pattern.test(v)) throw invalidParams(name, `must be ${o.what}`);
      return v;
    }),
  oneOf: <T extends string>(name: string, description: string, values: readonly T[]) =>
    spec<T>(name, true, description, { enum: [...values] }, (v) => {
      if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw invalidParams(name, `must be one of ${values.map((k) => `"${k}"`).join(', ')}`);
      return v as T;
    }),
  subscriptionId: (name: string, description: string) =>
    spec<string>(name, true, description, { type: 'string', pattern: '^0x[0-9a-f]{32}$' }, (v) => {
      if (typeof v !== 'string' || !/^0x[0-9a-f]{32}$/.test(v)) throw invalidParams(name, 'must be a subscription id as returned by subscribe ("0x" and 32 hex digits)');
      return v;
    }),
};

/** `before` of a block page: a height; the page holds blocks below it. */
export const heightCursor: Cursor<number> = {
  schema: { type: 'integer', minimum: 0, description: 'a height: the page holds blocks below it (the previous page\'s `next`)' },
  parse: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 'must be a non-negative integer height (the previous page\'s `next`)'),
};

/** `before` of an account page: "height:index" of a transaction; the page holds older ones. */
export const txCursor: Cursor<{ height: number; index: number }> = {
  schema: { type: 'string', pattern: '^[0-9]+:[0-9]+$', description: '"height:index" of a transaction: the page holds older ones (the previous page\'s `next`)' },
  parse: (v) => {
    const m = typeof v === 'string' ? /^(0|[1-9][0-9]{0,15}):(0|[1-9][0-9]{0,9})$/.exec(v) : null;
    const height = m ? Number(m[1]) : NaN;
    const index = m ? Number(m[2]) : NaN;
    if (!m || !Number.isSafeInteger(height) || index > MAX_U32) return 'must be a cursor "height:index" (the previous page\'s `next`)';
    return { height, index };
  },
};

export function formatTxCursor(loc: { height: number; index: number }): string {
  return `${loc.height}:${loc.index}`;
}

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
