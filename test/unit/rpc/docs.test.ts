import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { resultJsonSchema, resultSchemas } from '../../../client/schemas.js';

type Schema = { type?: string | string[]; properties?: Record<string, unknown>; required?: string[]; items?: Schema; anyOf?: Schema[] };

/** The names of the top-level fields of the first {…} in a table cell ("{a, b: {c}, d?, …}" → a, b, d; "…" says there are more). */
function documentedFields(cell: string): { fields: string[]; more: boolean } | undefined {
  const start = cell.indexOf('{');
  if (start < 0) return undefined;
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of cell.slice(start)) {
    if ('{[('.includes(c) && ++depth === 1) continue;
    if ('}])'.includes(c) && --depth === 0) {
      parts.push(cur);
      break;
    }
    if (depth === 1 && c === ',') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  const names = parts.map((p) => /^\s*`?([A-Za-z]+)/.exec(p)?.[1]).filter((n): n is string => n !== undefined);
  return { fields: names, more: parts.some((p) => p.includes('…')) };
}

/** The object a result is (or holds: the non-null branch, an array's items). */
function objectOf(s: Schema): Schema | undefined {
  if (s.anyOf) return s.anyOf.map(objectOf).find((x) => x !== undefined);
  if (s.type === 'array' && s.items) return objectOf(s.items);
  return s.properties ? s : undefined;
}

describe('docs/json-rpc.md against the OpenRPC result schemas', () => {
  const rows = readFileSync(new URL('../../../../docs/json-rpc.md', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => /^\| `([A-Za-z_.]+)` \| [^|]* \| (.*) \|$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && resultSchemas[m[1]!] !== undefined);

  it('documents most methods\' results field by field', () => {
    expect(rows.filter((m) => documentedFields(m[2]!) !== undefined).length).to.be.at.least(18);
  });

  for (const m of rows) {
    const method = m[1]!;
    const doc = documentedFields(m[2]!);
    if (!doc) continue;
    it(`${method}: the table names the fields the node answers with`, () => {
      const obj = objectOf(resultJsonSchema(method) as Schema);
      expect(obj, `${method}'s schema is an object`).to.not.equal(undefined);
      const props = Object.keys(obj!.properties!);
      for (const f of doc.fields) expect(props, `docs/json-rpc.md names ${method}.${f}`).to.include(f);
      if (!doc.more) for (const f of obj!.required ?? []) expect(doc.fields, `docs/json-rpc.md leaves out ${method}.${f}`).to.include(f);
    });
  }
});
