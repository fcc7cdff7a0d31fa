import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { cell, examples, formatTime, kvTable } from '../output.js';
import type { JsonRecord } from '../rpc-types.js';

type BlockRef = { height: number | 'latest' } | { hash: string };

export function parseBlockRef(text: string | undefined): BlockRef {
  if (text === undefined || text === 'latest') return { height: 'latest' };
  if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return { height: Number(text) };
  if (/^0x[0-9a-fA-F]{64}$/.test(text)) return { hash: text.toLowerCase() };
  throw usage(`"${text}" is not a block: give a height (e.g. 42), a block hash (0x + 64 hex digits) or latest`);
}

const obj = (v: unknown): JsonRecord => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonRecord) : {});

function certText(c: unknown): string | undefined {
  const o = obj(c);
  if (c === undefined) return undefined;
  if (!Array.isArray(o.signers)) return c === null ? 'none yet' : 'present';
  return `round ${cell(o.round)}, ${o.signers.length} signer${o.signers.length === 1 ? '' : 's'}`;
}

/** Header fields whether the node nests them under `header` or not. */
export function renderBlock(block: JsonRecord, now = Date.now()): string {
  const h = { ...block, ...obj(block.header) };
  const txs = Array.isArray(block.transactions) ? block.transactions : [];
  const txLine = (t: unknown): string => {
    if (typeof t === 'string') return t;
    const r = obj(t);
    return [cell(r.hash), r.kind === undefined ? '' : cell(r.kind), r.from === undefined ? '' : `from ${cell(r.from)}`].filter(Boolean).join('  ');
  };
  return kvTable([
    ['height', cell(h.height)],
    ['hash', cell(block.hash ?? h.hash)],
    ['time', typeof h.timestamp === 'number' ? formatTime(h.timestamp, now) : undefined],
    ['proposer', h.proposer === undefined ? undefined : cell(h.proposer)],
    ['parent', h.parentHash === undefined ? undefined : cell(h.parentHash)],
    ['state root', h.stateRoot === undefined ? undefined : cell(h.stateRoot)],
    ['certificate', certText(block.certificate)],
    ['transactions', String(txs.length)],
    ...txs.map((t) => ['', txLine(t)] as const),
  ]);
}

export function registerBlock(program: Command): void {
  const block = program.command('block').description('look up blocks');

  block.command('get').description('show a block by height, hash, or the latest')
    .argument('[block]', 'a height, a block hash (0x…) or latest', 'latest')
    .option('--full', 'include whole transactions, not only their hashes')
    .addHelpText('after', examples(['block get', 'block get 42', 'block get 0x9b2e… --full --json']))
    .action(async (text: string, o: { full?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const ref = parseBlockRef(text);
      const full = o.full === true;
      const b = 'hash' in ref ? await ctx.rpc.blockByHash(ref.hash, full) : await ctx.rpc.blockByHeight(ref.height, full);
      if (b === null) {
        if ('hash' in ref) throw new CliError(ExitCode.NotFound, `no block with hash ${ref.hash} on this node: check the hash`);
        const head = await ctx.rpc.head();
        throw new CliError(ExitCode.NotFound, `no block at height ${ref.height} yet: the head is at ${head.height}`);
      }
      ctx.out.result(b, () => renderBlock(b));
    });
}
