/**
 * Summarises a V8 CPU profile (`npm run bench -- --profile <dir>` writes one per node):
 * self time by function and by source file, and the share of idle and GC time.
 * Usage: node dist/bench/profile.js <file.cpuprofile> [--top N] [--focus <function name>]
 * With --focus, only samples under a frame of that function count (e.g. --focus commit);
 * --inclusive adds each function's inclusive time (samples with it anywhere on the stack).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' }, focus: { type: 'string' }, inclusive: { type: 'boolean', default: false } } });
const file = positionals[0];
if (!file) {
  console.error('usage: node dist/bench/profile.js <file.cpuprofile> [--top N]');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
/** True when a frame of the focused function is on the sample's stack. */
const underFocus = (id: number): boolean => {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (byId.get(at)!.callFrame.functionName === values.focus) return true;
  return false;
};
const self = new Map<number, number>();
let total = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  if (values.focus && !underFocus(id)) return;
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
});
const shortUrl = (u: string) => u.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, '~/').replace(/.*\/dist\//, '');
const fnKey = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  byFn.set(fnKey(n), (byFn.get(fnKey(n)) ?? 0) + t);
  const f = shortUrl(n.callFrame.url) || n.callFrame.functionName;
  byFile.set(f, (byFile.get(f) ?? 0) + t);
}
const top = Number(values.top);
const pct = (t: number) => ((100 * t) / total).toFixed(1).padStart(5) + '%';
const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((s, [, t]) => s + t, 0);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled${values.focus ? ` under ${values.focus}` : ''}, ${pct(idle)} idle\n\nself time by function:`);
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
console.log('\nself time by file:');
for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);

if (values.inclusive) {
  const incl = new Map<string, number>();
  for (const [id, t] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = fnKey(byId.get(at)!);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + t);
    }
  }
  console.log('\ninclusive time by function:');
  for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
}
