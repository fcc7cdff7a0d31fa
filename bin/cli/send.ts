import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { formatUnits, fromHex, toHex, Transaction } from '../../chain/index.js';
import { parseBaseUnits } from './amount.js';
import type { Context } from './context.js';
import { CliError, ExitCode, usage } from './errors.js';
import { kvTable } from './output.js';
import { assertConfirmable, confirmOrFail } from './prompt.js';
import { assertReceiptOk, DEFAULT_WAIT_S, receiptOk, renderReceipt, waitForReceipt } from './receipt.js';
import type { Account, Asset, BankParams, JsonRecord } from './rpc-types.js';

/** What a signed-transaction command was given: --fee, --nonce, --yes, --wait, --timeout (seconds, parsed), --dry-run, --generate-only. */
export interface SendFlags {
  fee?: string | undefined;
  nonce?: string | undefined;
  yes?: boolean | undefined;
  wait?: boolean | undefined;
  timeoutS: number;
  dryRun?: boolean | undefined;
  generateOnly?: string | undefined;
}

/** The options every command that sends a transaction takes. */
export function addSendOptions(cmd: Command): Command {
  return cmd
    .option('--fee <base-units>', "fee in NEX base units (default: the chain's minimum fee)")
    .option('--nonce <n>', "the transaction's nonce (default: the account's next one; set it to queue behind transactions still pending)")
    .option('-y, --yes', 'send without asking for confirmation')
    .option('--wait', 'wait until the transaction is committed and print its receipt')
    .option('--timeout <seconds>', 'with --wait: how long to wait', String(DEFAULT_WAIT_S))
    .option('--dry-run', 'execute it on the head state without sending it (tx_simulate) and print the receipt it would get; needs no password')
    .option('--generate-only <file>', 'write the unsigned transaction to FILE ("-" for stdout) for metanode-cli tx sign, e.g. on a machine without a node; needs no password');
}

/** SendFlags from a command's parsed options (addSendOptions). */
export function sendFlags(o: { fee?: string; nonce?: string; yes?: boolean; wait?: boolean; timeout?: string; dryRun?: boolean; generateOnly?: string }, parseTimeout: (t: string) => number): SendFlags {
  if (o.dryRun && o.generateOnly !== undefined) throw usage('--dry-run and --generate-only exclude each other: pick one');
  if ((o.dryRun || o.generateOnly !== undefined) && o.wait) throw usage(`--wait waits for a transaction that is sent; ${o.dryRun ? '--dry-run' : '--generate-only'} sends nothing`);
  return { fee: o.fee, nonce: o.nonce, yes: o.yes, wait: o.wait, timeoutS: parseTimeout(o.timeout ?? String(DEFAULT_WAIT_S)), dryRun: o.dryRun, generateOnly: o.generateOnly };
}

/** What --generate-only writes and metanode-cli tx sign reads: the transaction without its signature, and what it does. */
export const UNSIGNED_FORMAT = 'metanode-unsigned-tx/1';
export const unsignedTxSchema = z.object({
  format: z.literal(UNSIGNED_FORMAT),
  chainId: z.string().min(1),
  nonce: z.string().regex(/^\d+$/),
  sender: z.string().regex(/^0x[0-9a-f]{64}$/),
  from: z.string(),
  fee: z.string().regex(/^\d+$/),
  kind: z.string().min(1),
  payload: z.string().regex(/^0x([0-9a-f]{2})*$/),
  summary: z.record(z.string(), z.unknown()),
});
export type UnsignedTxFile = z.infer<typeof unsignedTxSchema>;

/** What metanode-cli tx sign writes and tx send reads. */
export const SIGNED_FORMAT = 'metanode-signed-tx/1';
export const signedTxSchema = z.object({ format: z.literal(SIGNED_FORMAT), hash: z.string(), raw: z.string().regex(/^0x([0-9a-f]{2})*$/), summary: z.record(z.string(), z.unknown()).optional() });

/** Parses --nonce. */
function parseNonce(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw usage(`--nonce "${text}" must be a whole number`);
  return Number(text);
}

/** The chain facts a command checks its transaction against before it asks anything. */
export interface SendSetup {
  keyName: string;
  from: { address: string; publicKey: string };
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
  const sends = !flags.dryRun && flags.generateOnly === undefined;
  if (sends) assertConfirmable(ctx.prompter, { yes: flags.yes === true, action });
  const nonce = flags.nonce === undefined ? undefined : parseNonce(flags.nonce);
  const keyName = await ctx.keyName();
  const from = await ctx.keystore.info(keyName);
  const [assets, params, chainId, fetched] = await Promise.all([ctx.rpc.assets(), ctx.rpc.bankParams(), ctx.rpc.chainId(), ctx.rpc.account(from.address)]);
  const account = nonce === undefined ? fetched : { ...fetched, nonce };
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
  const decimals = new Map(s.assets.map((a) => [a.symbol, a.decimals]));
  const fields = { chainId: s.chainId, nonce: BigInt(s.account.nonce), sender: fromHex(s.from.publicKey, 32, 'public key'), fee: s.fee, kind: t.kind, payload: t.payload };
  if (flags.dryRun) {
    // Unsigned (64 zero bytes): the node runs it without checking a signature; nothing is committed.
    const unsigned = new Transaction({ ...fields, signature: new Uint8Array(64) });
    const sim = await ctx.rpc.simulate(toHex(unsigned.serialize()));
    // Without its txHash: that is the unsigned bytes' hash, not the one the signed transaction will have.
    const { txHash: _unsigned, ...receipt } = sim.receipt as JsonRecord;
    ctx.out.result({ ...summary, dryRun: true, height: sim.height, receipt }, () =>
      [`dry run on block ${sim.height}: ${receiptOk(receipt) ? 'it would succeed' : 'it would FAIL'} (nothing was sent)`, renderReceipt(receipt, { decimals, feeAsset: s.params.feeAsset })].join('\n'));
    if (!receiptOk(receipt)) throw new CliError(ExitCode.TxFailed, `the dry run failed: ${String(receipt.errorCode)}: ${String(receipt.errorMessage)}`);
    return;
  }
  if (flags.generateOnly !== undefined) {
    const file: UnsignedTxFile = { format: UNSIGNED_FORMAT, chainId: s.chainId, nonce: String(s.account.nonce), sender: s.from.publicKey, from: s.from.address, fee: s.fee.toString(), kind: t.kind, payload: toHex(t.payload), summary };
    const text = JSON.stringify(file, null, 2) + '\n';
    if (flags.generateOnly === '-') process.stdout.write(text);
    else {
      await writeFile(flags.generateOnly, text, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
        throw new CliError(ExitCode.Usage, e.code === 'EEXIST' ? `${flags.generateOnly} exists: pick another file or remove it` : `cannot write ${flags.generateOnly}: ${e.message}`);
      });
      ctx.out.result({ ...summary, unsigned: flags.generateOnly }, () => `wrote the unsigned transaction to ${flags.generateOnly}\nsign it with: metanode-cli tx sign ${flags.generateOnly} --out signed.json`);
    }
    return;
  }
  await confirmOrFail(ctx.prompter, t.question, { yes: flags.yes === true, action: t.action });
  const key = await ctx.unlock(s.keyName);
  const tx = Transaction.sign({ ...fields, sender: key.publicKey }, key);
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
  ctx.out.result({ ...summary, hash, receipt }, () => renderReceipt({ txHash: hash, ...receipt }, { decimals, feeAsset: s.params.feeAsset }));
  assertReceiptOk(receipt, hash);
}
