import { setTimeout as sleep } from 'node:timers/promises';
import { showAmount } from './amount.js';
import type { Context } from './context.js';
import { CliError, ExitCode } from './errors.js';
import { cell, kvTable } from './output.js';
import type { JsonRecord } from './rpc-types.js';

export const POLL_MS = 300;
export const DEFAULT_WAIT_S = 60;

/** Polls chain_getReceipt until the transaction is committed; a spinner runs meanwhile on a terminal. */
export async function waitForReceipt(ctx: Context, hash: string, timeoutS: number): Promise<JsonRecord> {
  const deadline = Date.now() + timeoutS * 1000;
  const spinner = ctx.out.spinner(`waiting for ${hash} to be committed`);
  const onSigint = (): void => {
    spinner.stop();
    process.stderr.write(`error: interrupted; the transaction may still be committed: check with metanode-cli tx get ${hash}\n`);
    process.exit(ExitCode.Interrupted);
  };
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      const r = await ctx.rpc.receipt(hash);
      if (r !== null) return r;
      if (Date.now() >= deadline) {
        throw new CliError(ExitCode.Timeout, `transaction ${hash} was not committed within ${timeoutS}s: it may still be pending; keep waiting with metanode-cli tx wait ${hash} --timeout 300`);
      }
      await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
    }
  } finally {
    spinner.stop();
    process.off('SIGINT', onSigint);
  }
}

/** Whether a receipt (as the node gives it) records success: status 0, "success" or ok: true. */
export function receiptOk(r: JsonRecord): boolean {
  if (typeof r.ok === 'boolean') return r.ok;
  if (typeof r.status === 'number') return r.status === 0;
  if (typeof r.status === 'string') return /^(0|ok|success|succeeded)$/i.test(r.status);
  return r.errorCode === undefined || r.errorCode === null || r.errorCode === '';
}

/** Throws TxFailed for a committed transaction whose receipt records a failure. */
export function assertReceiptOk(r: JsonRecord, hash: string): void {
  if (receiptOk(r)) return;
  const code = typeof r.errorCode === 'string' && r.errorCode ? `${r.errorCode}: ` : '';
  throw new CliError(ExitCode.TxFailed, `transaction ${hash} was committed but failed: ${code}${cell(r.errorMessage ?? 'no reason given')} (the fee was still charged)`);
}

/**
 * One event as `module/type key=value …`; an `amount` in base units is shown in its asset's units
 * (the event's `asset`, or the fee asset for a bank fee event), its base units beside it.
 */
function eventLine(e: unknown, u: { decimals: Map<string, number>; feeAsset: string }): string {
  if (typeof e !== 'object' || e === null) return cell(e);
  const ev = e as { module?: unknown; type?: unknown; attributes?: unknown };
  const pairs: [string, unknown][] = Array.isArray(ev.attributes)
    ? ev.attributes.map((a) => (Array.isArray(a) ? [cell(a[0]), a[1]] : ['', a]))
    : Object.entries((ev.attributes ?? {}) as Record<string, unknown>);
  const attr = new Map(pairs);
  const asset = typeof attr.get('asset') === 'string' ? (attr.get('asset') as string) : ev.module === 'bank' && ev.type === 'fee' ? u.feeAsset : undefined;
  const value = (k: string, v: unknown): string => {
    if (k === 'amount' && asset && typeof v === 'string' && /^\d+$/.test(v) && u.decimals.has(asset)) return `${showAmount(BigInt(v), asset, u.decimals.get(asset))} (${v})`;
    return cell(v);
  };
  return [`${cell(ev.module)}/${cell(ev.type)}`, ...pairs.map(([k, v]) => (k === '' ? cell(v) : `${k}=${value(k, v)}`))].join(' ');
}

/** The receipt as a table, amounts in the units people read. */
export function renderReceipt(r: JsonRecord, u: { decimals: Map<string, number>; feeAsset: string }): string {
  const fee = typeof r.fee === 'string' && /^\d+$/.test(r.fee) ? showAmount(BigInt(r.fee), u.feeAsset, u.decimals.get(u.feeAsset)) : cell(r.fee);
  const status = receiptOk(r) ? 'success' : `FAILED ${cell(r.errorCode)}: ${cell(r.errorMessage)}`;
  const events = Array.isArray(r.events) ? r.events.map((e) => eventLine(e, u)) : [];
  return kvTable([
    ['transaction', r.txHash === undefined && r.hash === undefined ? undefined : cell(r.txHash ?? r.hash)],
    ['status', status],
    ['block', r.blockHeight === undefined ? undefined : `${cell(r.blockHeight)} ${cell(r.blockHash)}`],
    ['index', r.index === undefined ? undefined : cell(r.index)],
    ['fee', fee],
    ...events.map((e, i) => [i === 0 ? 'events' : '', e] as const),
  ]);
}
