import type { Command } from 'commander';
import { formatUnits } from '../../../chain/index.js';
import { resolveAccountOrDefault } from '../accounts.js';
import { contextOf } from '../context.js';
import { examples, kvTable, table } from '../output.js';
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
  program.command('account').alias('balance').description('show the balances of every asset and the nonce of an account')
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
}
