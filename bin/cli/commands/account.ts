import type { Command } from 'commander';
import { formatUnits } from '../../../chain/index.js';
import { resolveAccountOrDefault } from '../accounts.js';
import { contextOf } from '../context.js';
import { usage } from '../errors.js';
import { cell, examples, kvTable, table } from '../output.js';
import type { Account, Asset } from '../rpc-types.js';

export interface BalanceRow {
  asset: string;
  /** Human units; absent when the node does not list the asset's decimals. */
  amount?: string;
  baseUnits: string;
  decimals?: number;
}

/** Balances in the node's asset order, then any asset it has no decimals for. */
export function balanceRows(account: Account, assets: readonly Asset[]): BalanceRow[] {
  const known = assets.map((a) => {
    const base = account.balances[a.symbol] ?? '0';
    return { asset: a.symbol, amount: formatUnits(BigInt(base), a.decimals), baseUnits: base, decimals: a.decimals };
  });
  const extra = Object.entries(account.balances)
    .filter(([s]) => !assets.some((a) => a.symbol === s))
    .map(([asset, baseUnits]) => ({ asset, baseUnits }));
  return [...known, ...extra];
}

export function registerAccount(program: Command): void {
  const account = program.command('account').alias('balance').description('show the balances of every asset and the nonce of an account')
    .argument('[account]', 'an address (mn1…) or a key name (default: --key, or the only key)')
    .addHelpText('after', examples(['account', 'account alice', 'account mn1qv… --json']))
    .action(async (arg: string | undefined, _o: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const who = await resolveAccountOrDefault(ctx, arg);
      const [account, assets] = await Promise.all([ctx.rpc.account(who.address), ctx.rpc.assets()]);
      const rows = balanceRows(account, assets);
      const json = {
        address: account.address,
        ...(who.key ? { key: who.key } : {}),
        nonce: account.nonce,
        balances: Object.fromEntries(rows.map((r) => [r.asset, { amount: r.amount ?? null, baseUnits: r.baseUnits, decimals: r.decimals ?? null }])),
      };
      ctx.out.result(json, () =>
        [
          kvTable([['address', account.address], ['key', who.key], ['nonce', String(account.nonce)]]),
          '',
          table(['ASSET', 'BALANCE'], rows.map((r) => [r.asset, r.amount ?? `${r.baseUnits} base units`]), ['l', 'd']),
        ].join('\n'),
      );
    });

  account.command('txs').alias('history').description("an account's transactions, newest first, a page at a time")
    .argument('[account]', 'an address (mn1…) or a key name (default: --key, or the only key)')
    .option('--limit <n>', 'transactions per page (1-100)', '20')
    .option('--before <cursor>', 'the page after the one that printed this cursor')
    .addHelpText('after', examples(['account txs', 'account txs alice --limit 5', 'account txs mn1qv… --before 1200:0 --json']))
    .action(async (arg: string | undefined, o: { limit: string; before?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const limit = Number(o.limit);
      if (!/^\d+$/.test(o.limit) || limit < 1 || limit > 100) throw usage(`--limit "${o.limit}" must be a whole number from 1 to 100`);
      const who = await resolveAccountOrDefault(ctx, arg);
      const page = await ctx.rpc.accountTransactions(who.address, { limit, ...(o.before === undefined ? {} : { before: o.before }) });
      ctx.out.result({ ...page, ...(who.key ? { key: who.key } : {}) }, () => {
        if (page.transactions.length === 0) return `no ${o.before === undefined ? '' : 'more '}transactions for ${who.address}`;
        const rows = page.transactions.map((t) => [cell(t.blockHeight), Number.isSafeInteger(t.timestamp) && (t.timestamp as number) >= 0 && (t.timestamp as number) < 8.64e15 ? new Date(t.timestamp as number).toISOString() : cell(t.timestamp), cell(t.hash), cell(t.kind), t.status === 'success' ? 'success' : `FAILED ${cell(t.errorCode)}`]);
        const lines = [table(['HEIGHT', 'TIME', 'HASH', 'KIND', 'STATUS'], rows, ['r', 'l', 'l', 'l', 'l'])];
        if (page.next) lines.push('', `more: metanode-cli account txs ${who.key ?? who.address} --limit ${limit} --before ${page.next}`);
        return lines.join('\n');
      });
    });
}
