import { formatUnits, toHex, Transaction } from '../../chain/index.js';
import { parseBaseUnits } from './amount.js';
import type { Context } from './context.js';
import { CliError, ExitCode, usage } from './errors.js';
import { kvTable } from './output.js';
import { assertConfirmable, confirmOrFail } from './prompt.js';
import { assertReceiptOk, renderReceipt, waitForReceipt } from './receipt.js';
import type { Account, Asset, BankParams } from './rpc-types.js';

/** What a signed-transaction command was given: --fee, --yes, --wait, --timeout (seconds, parsed). */
export interface SendFlags {
  fee?: string | undefined;
  yes?: boolean | undefined;
  wait?: boolean | undefined;
  timeoutS: number;
}

/** The chain facts a command checks its transaction against before it asks anything. */
export interface SendSetup {
  keyName: string;
  from: { address: string };
  chainId: string;
  account: Account;
  assets: Asset[];
  params: BankParams;
  fee: bigint;
}

/**
 * The first half of every signed-transaction command: the sending key, the chain's facts, and the
 * fee (--fee, at least the chain's minimum), checked before anything is asked or signed.
 */
export async function prepareSend(ctx: Context, flags: SendFlags, action: string): Promise<SendSetup> {
  assertConfirmable(ctx.prompter, { yes: flags.yes === true, action });
  const keyName = await ctx.keyName();
  const from = await ctx.keystore.info(keyName);
  const [assets, params, chainId, account] = await Promise.all([ctx.rpc.assets(), ctx.rpc.bankParams(), ctx.rpc.chainId(), ctx.rpc.account(from.address)]);
  const minFee = BigInt(params.minFee);
  const fee = flags.fee === undefined ? minFee : parseBaseUnits(flags.fee, '--fee');
  if (fee < minFee) throw usage(`--fee ${fee} is below the chain's minimum fee of ${minFee} ${params.feeAsset} base units: raise it or omit --fee`);
  if (BigInt(account.balances[params.feeAsset] ?? '0') < fee) {
    throw new CliError(ExitCode.InsufficientFunds, `insufficient funds: ${keyName} (${from.address}) cannot pay the fee of ${fee} ${params.feeAsset} base units; fund the account first`);
  }
  return { keyName, from, chainId, account, assets, params, fee };
}

/**
 * The second half, shared by every command that sends a transaction: show what will be signed,
 * confirm (unless --yes), sign with the key, send, and with --wait follow it to its receipt
 * (a failed receipt exits non-zero).
 */
export async function confirmSignSend(
  ctx: Context,
  s: SendSetup,
  t: { kind: string; payload: Uint8Array; question: string; action: string; rows: [string, string][]; summary: Record<string, unknown> },
  flags: SendFlags,
): Promise<void> {
  const feeDecimals = s.assets.find((a) => a.symbol === s.params.feeAsset)?.decimals ?? 0;
  const summary = { chainId: s.chainId, from: s.from.address, key: s.keyName, kind: t.kind, ...t.summary, fee: s.fee.toString(), feeAsset: s.params.feeAsset, nonce: s.account.nonce };
  if (!ctx.out.json || !flags.yes) {
    ctx.out.note(kvTable([
      ['from', `${s.from.address} (${s.keyName})`],
      ...t.rows,
      ['fee', `${formatUnits(s.fee, feeDecimals)} ${s.params.feeAsset} (${s.fee} base units)`],
      ['nonce', String(s.account.nonce)],
      ['chain', s.chainId],
    ]));
  }
  await confirmOrFail(ctx.prompter, t.question, { yes: flags.yes === true, action: t.action });
  const key = await ctx.unlock(s.keyName);
  const tx = Transaction.sign({ chainId: s.chainId, nonce: BigInt(s.account.nonce), sender: key.publicKey, fee: s.fee, kind: t.kind, payload: t.payload }, key);
  key.secret.fill(0);
  const hash = toHex(tx.hash());
  const sent = await ctx.rpc.sendRaw(toHex(tx.serialize()));
  if (sent.toLowerCase() !== hash) throw new CliError(ExitCode.NodeError, `the node answered with hash ${sent} for transaction ${hash}: is it the same version as metanode-cli?`);
  if (!flags.wait) {
    ctx.out.result({ ...summary, hash }, () => `sent ${hash}\nfollow it with: metanode-cli tx wait ${hash}`);
    return;
  }
  if (!ctx.out.json) ctx.out.note(`sent ${hash}`);
  const receipt = await waitForReceipt(ctx, hash, flags.timeoutS);
  ctx.out.result({ ...summary, hash, receipt }, () => renderReceipt({ txHash: hash, ...receipt }, { decimals: new Map(s.assets.map((a) => [a.symbol, a.decimals])), feeAsset: s.params.feeAsset }));
  assertReceiptOk(receipt, hash);
}
