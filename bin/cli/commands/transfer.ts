import type { Command } from 'commander';
import { formatUnits, parseAddress } from '../../../chain/index.js';
import { encodeTransfer, TRANSFER_KIND } from '../../../vm/modules/bank/codec.js';
import { resolveAccount } from '../accounts.js';
import { parseHumanAmount } from '../amount.js';
import { contextOf } from '../context.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { examples } from '../output.js';
import { addSendOptions, confirmSignSend, prepareSend, sendFlags } from '../send.js';
import { parseTimeout } from './tx.js';

interface TransferOptions {
  asset: string;
  fee?: string;
  nonce?: string;
  yes?: boolean;
  wait?: boolean;
  timeout: string;
  dryRun?: boolean;
  generateOnly?: string;
}

export function registerTransfer(program: Command): void {
  const cmd = program.command('transfer').alias('send').description('send an amount of an asset to an address or a key, signed locally')
    .argument('<amount>', 'amount in asset units, e.g. 1.5 (at most the asset\'s decimals)')
    .argument('<to>', 'recipient: an address (mn1…) or a key name')
    .requiredOption('--asset <symbol>', 'asset to send: GEN, NEX, FLX or AUR');
  addSendOptions(cmd)
    .addHelpText('after', examples([
      'transfer --asset NEX 1.5 bob',
      'transfer --asset GEN 10 mn1qv… --key alice --fee 2000 --yes --wait',
      'transfer --asset NEX 1.5 bob --dry-run',
      'transfer --asset NEX 1.5 bob --generate-only unsigned.json   # then: tx sign, tx send',
    ]))
    .action(async (amountText: string, toText: string, o: TransferOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const flags = sendFlags(o, parseTimeout);
      const s = await prepareSend(ctx, flags, 'send the transfer');
      const to = await resolveAccount(ctx, toText);
      const symbol = o.asset.toUpperCase();
      const asset = s.assets.find((a) => a.symbol === symbol);
      if (!asset) throw usage(`unknown asset "${o.asset}": this chain has ${s.assets.map((a) => a.symbol).join(', ')}`);
      const amount = parseHumanAmount(amountText, symbol, asset.decimals);
      const show = (v: bigint, sym: string, d: number): string => `${formatUnits(v, d)} ${sym}`;
      const balance = (sym: string): bigint => BigInt(s.account.balances[sym] ?? '0');
      const needs = new Map<string, bigint>([[symbol, amount]]);
      needs.set(s.params.feeAsset, (needs.get(s.params.feeAsset) ?? 0n) + s.fee);
      // A dry run lets the chain say what would happen (a failed receipt); a send is stopped here.
      for (const [sym, need] of flags.dryRun ? [] : needs) {
        if (balance(sym) < need) {
          const d = s.assets.find((a) => a.symbol === sym)?.decimals ?? 0;
          const what = sym === symbol && sym === s.params.feeAsset ? 'amount + fee' : sym === symbol ? 'amount' : 'fee';
          throw new CliError(ExitCode.InsufficientFunds, `insufficient funds: ${s.keyName} (${s.from.address}) has ${show(balance(sym), sym, d)} but the transfer needs ${show(need, sym, d)} (${what}); fund the account first`);
        }
      }
      await confirmSignSend(ctx, s, {
        kind: TRANSFER_KIND,
        payload: encodeTransfer({ to: parseAddress(to.address), asset: symbol, amount }),
        question: 'Send this transfer?',
        action: 'send the transfer',
        rows: [
          ['to', `${to.address}${to.key ? ` (${to.key})` : ''}`],
          ['amount', `${show(amount, symbol, asset.decimals)} (${amount} base units)`],
        ],
        summary: { to: to.address, ...(to.key ? { toKey: to.key } : {}), asset: symbol, amount: formatUnits(amount, asset.decimals), baseUnits: amount.toString() },
      }, flags);
    });
}
