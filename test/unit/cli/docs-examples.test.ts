import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCli } from './helpers.js';

/** A command line's words, as a POSIX shell splits them (quotes kept together), up to a pipe, redirection or comment. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  let quote: string | undefined;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = undefined;
      else cur = (cur ?? '') + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur ??= '';
    } else if (/\s/.test(c)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else if (c === '|' || c === '>' || c === '#') break;
    else cur = (cur ?? '') + c;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

const read = (path: string): string[] => readFileSync(new URL(`../../../../${path}`, import.meta.url), 'utf8').split('\n');

/** Every `$ metanode-cli …` example of docs/cli.md and `npx metanode-cli …` line of the README, as words after the program's name. */
const examples = [
  ...read('docs/cli.md').filter((l) => l.startsWith('$ metanode-cli ')).map((l) => l.slice(2)),
  ...read('README.md').filter((l) => l.startsWith('npx metanode-cli ')).map((l) => l.slice(4)),
]
  .filter((l) => !l.includes('$('))
  .map((l) => shellWords(l).slice(1));

/**
 * docs/cli.md's examples, run as printed against no node and an empty keystore: each may fail for
 * want of a node or a key (files they name are looked for in a temporary folder), but none may be refused by the command line's parser (an unknown
 * command or option, a missing or extra argument), which is what drifts when a command changes.
 */
describe('docs/cli.md and the README: every metanode-cli example is a command it accepts', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metanode-cli-docs-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the examples', () => {
    expect(examples.length).to.be.at.least(30);
  });

  for (const args of examples) {
    it(`metanode-cli ${args.join(' ')}`, async () => {
      const r = await runCli(args, { METANODE_RPC: 'http://127.0.0.1:1', METANODE_KEYSTORE: join(dir, 'keys'), METANODE_CLI_CONFIG: join(dir, 'config.json') }, '', dir);
      expect(r.stderr, 'refused by the parser').to.not.match(/; see metanode-cli[^\n]*--help\n?$/);
    });
  }
});
