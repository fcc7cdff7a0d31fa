import { parseAddress } from '../../chain/index.js';
import { VmError, type ModuleRegistry, type QueryParam } from '../../vm/index.js';
import { invalidParams, RpcError, RpcErrorCode } from '../errors.js';
import type { MethodSpec } from '../method.js';
import { P } from '../params.js';
import { stateAt, stateHeightParam } from './state.js';

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a query's parameters against its spec; the module receives addresses as bytes. */
function parseQueryParams(specs: readonly QueryParam[], raw: unknown, where: string): Record<string, unknown> {
  if (raw === undefined || raw === null) raw = {};
  if (!isPlainObject(raw)) throw invalidParams('params', `must be an object of the parameters of ${where}`);
  for (const k of Object.keys(raw)) {
    if (!specs.some((s) => s.name === k)) throw invalidParams(`params.${k.slice(0, 64)}`, `is not a parameter of ${where} (it takes: ${specs.map((s) => s.name).join(', ') || 'none'})`);
  }
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    const v = raw[s.name];
    if (v === undefined) {
      if (s.required) throw invalidParams(`params.${s.name}`, `is required by ${where} (${s.description})`);
      continue;
    }
    if (s.type === 'address') {
      if (typeof v !== 'string') throw invalidParams(`params.${s.name}`, 'must be an address string like "mn1…"');
      try {
        out[s.name] = parseAddress(v);
      } catch (e) {
        throw invalidParams(`params.${s.name}`, `is not a valid address: ${(e as Error).message}`);
      }
    } else if (s.type === 'integer') {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalidParams(`params.${s.name}`, 'must be a non-negative integer');
      out[s.name] = v;
    } else {
      if (typeof v !== 'string' || v.length > 256) throw invalidParams(`params.${s.name}`, 'must be a string of at most 256 characters');
      out[s.name] = v;
    }
  }
  return out;
}

/** What module_query's description lists: every module's queries and their parameters. */
function describe(registry: ModuleRegistry): string {
  return registry.modules
    .filter((m) => m.queries?.length)
    .map((m) => `${m.name}: ${m.queries!.map((q) => `${q.name}(${q.params.map((p) => `${p.name}${p.required ? '' : '?'}: ${p.type}`).join(', ')}) — ${q.summary}`).join('; ')}`)
    .join('. ');
}

/** module_query, generated from the chain's modules: each module's named queries at the head or a recent height. */
export function moduleQueryMethod(registry: ModuleRegistry): MethodSpec {
  return {
    name: 'module_query',
    summary: `A module's named query at the head or a recent height: module, query name, the query's parameters as an object, and the height. ${describe(registry)}.`,
    params: [
      { ...P.string('module', 'the module, e.g. "bank"', 32), schema: { enum: registry.modules.filter((m) => m.queries?.length).map((m) => m.name) } },
      P.string('query', 'the query name, e.g. "balances"', 64),
      { name: 'params', required: false, description: "the query's parameters, e.g. {\"address\":\"mn1…\"}", schema: { type: 'object' }, parse: (v: unknown) => v },
      stateHeightParam,
    ],
    result: { name: 'result', description: "the query's answer (JSON; amounts as decimal strings)", schema: {} },
    example: { params: ['bank', 'balances', { address: 'mn1…' }], result: { GEN: '0', NEX: '999000', FLX: '0', AUR: '0' } },
    handler: (b, [module, query, params, at]) => {
      const m = registry.get(module as string);
      if (!m || !m.queries?.length) throw invalidParams('module', `no module "${String(module).slice(0, 32)}" with queries; modules: ${registry.modules.filter((x) => x.queries?.length).map((x) => x.name).join(', ')}`);
      const spec = m.queries.find((q) => q.name === query);
      if (!spec) throw invalidParams('query', `${m.name} has no query "${String(query).slice(0, 64)}"; its queries: ${m.queries.map((q) => q.name).join(', ')}`);
      const args = parseQueryParams(spec.params, params, `${m.name}.${spec.name}`);
      try {
        return m.query(stateAt(b, at as number | 'latest'), spec.name, args);
      } catch (e) {
        if (e instanceof VmError) throw new RpcError(RpcErrorCode.InvalidParams, `invalid params: ${e.message}`);
        throw e;
      }
    },
  };
}
