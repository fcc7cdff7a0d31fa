import type { Command } from 'commander';
import { formatUnits, parseAddress, toHex, Transaction } from '../../../chain/index.js';
import { encodeTransfer, TRANSFER_KIND } from '../../../vm/modules/bank/codec.js';
import { resolveAccount } from '../accounts.js';
import { parseBaseUnits, parseHumanAmount } from '../amount.js';
import { contextOf } from '../context.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { examples, kvTable } from '../output.js';
import { assertConfirmable, confirmOrFail } from '../prompt.js';
import { assertReceiptOk, DEFAULT_WAIT_S, renderReceipt, waitForReceipt } from '../receipt.js';
import { parseTimeout } from './tx.js';

interface TransferOptions {
  asset: string;
  fee?: string;
  yes?: boolean;
  wait?: boolean;
  timeout: string;
}

export function registerTransfer(program: Command): void {
  program.command('transfer').alias('send').description('send an amount of an asset to an address or a key, signed locally')
    .argument('<amount>', 'amount in asset units, e.g. 1.5 (at most the asset\'s decimals)')
    .argument('<to>', 'recipient: an address (mn1…) or a key name')
    .requiredOption('--asset <symbol>', 'asset to send: GEN, NEX, FLX or AUR')
    .option('--fee <base-units>', 'fee in NEX base units (default: the chain\'s minimum fee)')
    .option('-y, --yes', 'send without asking for confirmation')
    .option('--wait', 'wait until the transaction is committed and print its receipt')
    .option('--timeout <seconds>', 'with --wait: how long to wait', String(DEFAULT_WAIT_S))
    .addHelpText('after', examples(['transfer --asset NEX 1.5 bob', 'transfer --asset GEN 10 mn1qv… --key alice --fee 2000 --yes --wait']))
    .action(async (amountText: string, toText: string, o: TransferOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const confirm = { yes: o.yes === true, action: 'send the transfer' };
      assertConfirmable(ctx.prompter, confirm);
      const timeoutS = parseTimeout(o.timeout);
      const keyName = await ctx.keyName();
      const from = await ctx.keystore.info(keyName);
      const to = await resolveAccount(ctx, toText);
      const [assets, params, chainId, account] = await Promise.all([ctx.rpc.assets(), ctx.rpc.bankParams(), ctx.rpc.chainId(), ctx.rpc.account(from.address)]);

      const symbol = o.asset.toUpperCase();
      const asset = assets.find((a) => a.symbol === symbol);
      if (!asset) throw usage(`unknown asset "${o.asset}": this chain has ${assets.map((a) => a.symbol).join(', ')}`);
      const amount = parseHumanAmount(amountText, symbol, asset.decimals);
      const minFee = BigInt(params.minFee);
      const fee = o.fee === undefined ? minFee : parseBaseUnits(o.fee, '--fee');
      if (fee < minFee) throw usage(`--fee ${fee} is below the chain's minimum fee of ${minFee} ${params.feeAsset} base units: raise it or omit --fee`);
      const feeDecimals = assets.find((a) => a.symbol === params.feeAsset)?.decimals ?? 0;
      const show = (v: bigint, s: string, d: number): string => `${formatUnits(v, d)} ${s}`;

      const balance = (s: string): bigint => BigInt(account.balances[s] ?? '0');
      const needs = new Map<string, bigint>([[symbol, amount]]);
      needs.set(params.feeAsset, (needs.get(params.feeAsset) ?? 0n) + fee);
      for (const [s, need] of needs) {
        if (balance(s) < need) {
          const d = assets.find((a) => a.symbol === s)?.decimals ?? 0;
          const what = s === symbol && s === params.feeAsset ? 'amount + fee' : s === symbol ? 'amount' : 'fee';
          throw new CliError(ExitCode.InsufficientFunds, `insufficient funds: ${keyName} (${from.address}) has ${show(balance(s), s, d)} but the transfer needs ${show(need, s, d)} (${what}); fund the account first`);
        }
      }

      const summary = {
        chainId, from: from.address, key: keyName, to: to.address, ...(to.key ? { toKey: to.key } : {}),
        asset: symbol, amount: formatUnits(amount, asset.decimals), baseUnits: amount.toString(),
        fee: fee.toString(), feeAsset: params.feeAsset, nonce: account.nonce,
      };
      if (!ctx.out.json || !o.yes) {
        ctx.out.note(kvTable([
          ['from', `${from.address} (${keyName})`],
          ['to', `${to.address}${to.key ? ` (${to.key})` : ''}`],
          ['amount', `${show(amount, symbol, asset.decimals)} (${amount} base units)`],
          ['fee', `${show(fee, params.feeAsset, feeDecimals)} (${fee} base units)`],
          ['nonce', String(account.nonce)],
          ['chain', chainId],
        ]));
      }
      await confirmOrFail(ctx.prompter, 'Send this transfer?', confirm);

      const key = await ctx.unlock(keyName);
      const tx = Transaction.sign({
        chainId, nonce: BigInt(account.nonce), sender: key.publicKey, fee, kind: TRANSFER_KIND,
        payload: encodeTransfer({ to: parseAddress(to.address), asset: symbol, amount }),
      }, key);
      key.secret.fill(0);
      const hash = toHex(tx.hash());
      const sent = await ctx.rpc.sendRaw(toHex(tx.serialize()));
      if (sent.toLowerCase() !== hash) throw new CliError(ExitCode.NodeError, `the node answered with hash ${sent} for transaction ${hash}: is it the same version as metanode-cli?`);

      if (!o.wait) {
        ctx.out.result({ ...summary, hash }, () => `sent ${hash}\nfollow it with: metanode-cli tx wait ${hash}`);
        return;
      }
      if (!ctx.out.json) ctx.out.note(`sent ${hash}`);
      const receipt = await waitForReceipt(ctx, hash, timeoutS);
      ctx.out.result({ ...summary, hash, receipt }, () => renderReceipt({ txHash: hash, ...receipt }, { decimals: new Map(assets.map((a) => [a.symbol, a.decimals])), feeAsset: params.feeAsset }));
      assertReceiptOk(receipt, hash);
    });
}
