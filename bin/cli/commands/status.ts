import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { cell, examples, formatTime, kvTable, table } from '../output.js';
import type { JsonRecord, NodeStatus, Validators } from '../rpc-types.js';

const obj = (v: unknown): JsonRecord | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonRecord) : undefined);

function headText(head: unknown, now: number): string {
  const h = obj(head);
  if (!h) return cell(head);
  const time = typeof h.timestamp === 'number' ? `, ${formatTime(h.timestamp, now)}` : '';
  return `${cell(h.height)} ${cell(h.hash)}${time}`;
}

/** The node's validator address (or null, or a boolean) as yes/no. */
function validatorText(v: unknown): string {
  if (typeof v === 'string') return `yes (${v})`;
  if (v === null || v === undefined || v === false) return 'no';
  return cell(v);
}

export function renderStatus(rpcUrl: string, s: NodeStatus, v: Validators, now = Date.now()): string {
  const peers = Array.isArray(s.peers) ? String(s.peers.length) : cell(s.peers);
  const total = v.validators.reduce((acc, x) => acc + (/^\d+$/.test(String(x.power)) ? BigInt(x.power) : 0n), 0n);
  return [
    kvTable([
      ['node', rpcUrl],
      ['version', s.version],
      ['chain id', s.chainId],
      ['head', headText(s.head, now)],
      ['syncing', cell(s.syncing)],
      ['validator', validatorText(s.validator)],
      ['peers', peers],
      ['mempool', s.mempool ? `${s.mempool.size} transactions, ${s.mempool.bytes} bytes` : undefined],
    ]),
    '',
    `validators at height ${v.height} (${v.validators.length}, total power ${total})`,
    table(['ADDRESS', 'POWER'], v.validators.map((x) => [x.address, String(x.power)]), ['l', 'r']),
  ].join('\n');
}

export function registerStatus(program: Command): void {
  program.command('status').description('show the node\'s chain id, head, validators and sync state')
    .addHelpText('after', examples(['status', 'status --rpc http://10.0.0.5:8545 --json']))
    .action(async (_o: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const [status, validators] = await Promise.all([ctx.rpc.status(), ctx.rpc.validators()]);
      ctx.out.result({ rpc: ctx.rpc.url, ...status, validatorSet: validators }, () => renderStatus(ctx.rpc.url, status, validators));
    });
}
