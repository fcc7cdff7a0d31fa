import type { Command } from 'commander';
import { formatAddress, fromHex } from '../../../chain/index.js';
import { decodeTransfer, TRANSFER_KIND } from '../../../vm/modules/bank/codec.js';
import { showAmount } from '../amount.js';
import { contextOf, type Context } from '../context.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { cell, examples, kvTable } from '../output.js';
import { assertReceiptOk, DEFAULT_WAIT_S, renderReceipt, waitForReceipt } from '../receipt.js';
import type { JsonRecord } from '../rpc-types.js';

export function parseHash(text: string, what = 'transaction hash'): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw usage(`${what} "${text}" must be 0x followed by 64 hex digits`);
  return text.toLowerCase();
}

export function parseTimeout(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n <= 0 || n > 86_400) throw usage(`--timeout "${text}" must be a number of seconds between 1 and 86400`);
  return n;
}

/** The transfer a bank.transfer payload carries, as text; undefined for other kinds or odd payloads. */
function describePayload(tx: JsonRecord, u: Units): string | undefined {
  if (tx.kind !== TRANSFER_KIND || typeof tx.payload !== 'string') return undefined;
  try {
    const t = decodeTransfer(fromHex(tx.payload));
    return `${showAmount(t.amount, t.asset, u.decimals.get(t.asset))} to ${formatAddress(t.to)}`;
  } catch {
    return undefined;
  }
}

/** Decimals of every asset, and which one pays fees: to show amounts in units people read. */
export interface Units {
  decimals: Map<string, number>;
  feeAsset: string;
}

export async function fetchUnits(ctx: Context): Promise<Units> {
  const [assets, params] = await Promise.all([ctx.rpc.assets(), ctx.rpc.bankParams()]);
  return { decimals: new Map(assets.map((a) => [a.symbol, a.decimals])), feeAsset: params.feeAsset };
}

const feeText = (fee: unknown, u: Units): string =>
  typeof fee === 'string' && /^\d+$/.test(fee) ? showAmount(BigInt(fee), u.feeAsset, u.decimals.get(u.feeAsset)) : cell(fee);

export function renderTransaction(tx: JsonRecord, u: Units): string {
  return kvTable([
    ['hash', cell(tx.hash)],
    ['from', tx.from === undefined ? undefined : cell(tx.from)],
    ['kind', cell(tx.kind)],
    ['transfer', describePayload(tx, u)],
    ['args', tx.kind === TRANSFER_KIND || tx.args === undefined || tx.args === null ? undefined : cell(tx.args)],
    ['nonce', cell(tx.nonce)],
    ['fee', feeText(tx.fee, u)],
    ['chain', tx.chainId === undefined ? undefined : cell(tx.chainId)],
    ['block', tx.blockHeight === undefined ? 'not committed yet' : `${cell(tx.blockHeight)} ${cell(tx.blockHash)} (index ${cell(tx.index)})`],
  ]);
}

export function registerTx(program: Command): void {
  const tx = program.command('tx').description('look up transactions, wait for them, sign them offline and broadcast them');

  tx.command('get').description('show a committed transaction and its receipt')
    .argument('<hash>', 'transaction hash (0x…)')
    .addHelpText('after', examples(['tx get 0x3f1c…', 'tx get 0x3f1c… --json']))
    .action(async (hashText: string, _o: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const hash = parseHash(hashText);
      const [t, receipt, units] = await Promise.all([ctx.rpc.transaction(hash), ctx.rpc.receipt(hash), fetchUnits(ctx)]);
      if (t === null) {
        throw new CliError(ExitCode.NotFound, `no committed transaction ${hash} on this node: if it was just sent, wait for it with metanode-cli tx wait ${hash}`);
      }
      ctx.out.result({ transaction: t, receipt }, () =>
        [renderTransaction({ hash, ...t }, units), '', receipt === null ? 'receipt  not available yet' : renderReceipt(receipt, units)].join('\n'),
      );
    });

  tx.command('wait').description('wait until a transaction is committed, then show its receipt')
    .argument('<hash>', 'transaction hash (0x…)')
    .option('--timeout <seconds>', 'give up after this many seconds', String(DEFAULT_WAIT_S))
    .addHelpText('after', examples(['tx wait 0x3f1c…', 'tx wait 0x3f1c… --timeout 300 --json']))
    .action(async (hashText: string, o: { timeout: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const hash = parseHash(hashText);
      const timeoutS = parseTimeout(o.timeout);
      const units = await fetchUnits(ctx);
      const receipt = await waitForReceipt(ctx, hash, timeoutS);
      ctx.out.result(receipt, () => renderReceipt({ txHash: hash, ...receipt }, units));
      assertReceiptOk(receipt, hash);
    });
}
