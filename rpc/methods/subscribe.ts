import { RpcError, RpcErrorCode } from '../errors.js';
import type { CallContext, MethodSpec } from '../method.js';
import { P } from '../params.js';
import type { SubscriptionFilter, SubscriptionKind, SubscriptionSession } from '../subscriptions.js';

const ID = '0x9cef478923ff08bf67fde6c64013158d';

function session(ctx: CallContext, method: string): SubscriptionSession {
  if (!ctx.session) {
    throw new RpcError(RpcErrorCode.MethodNotFound, `${method} works over a WebSocket connection to the same address (ws://host:port/); plain HTTP cannot deliver notifications`);
  }
  return ctx.session;
}

/** Subscriptions: only over WebSocket (rpc/ws.ts gives those calls a session). */
export const subscribeMethods: MethodSpec[] = [
  {
    name: 'subscribe',
    group: 'subscribe',
    summary:
      'WebSocket only. Starts a subscription and returns its id; notifications then arrive as {"jsonrpc":"2.0","method":"subscription","params":{"subscription":id,"result":…}}. ' +
      'Kinds: "newHeads" (each committed block\'s header with transactionCount, in height order), "receipts" (each committed transaction\'s receipt with from and kind; filter {address?, module?}), ' +
      '"pendingTransactions" (each transaction admitted to the mempool; same filter). address matches the sender or an account the module names (a transfer\'s recipient); module matches the module the ' +
      'transaction calls or one that emitted an event in it (every fee is a bank event). A connection that does not read its notifications fast enough is closed with code 1008.',
    params: [
      P.subscriptionKind('kind', '"newHeads", "receipts" or "pendingTransactions"'),
      P.subscriptionFilter('filter', 'for receipts and pendingTransactions: {address?: "mn1…", module?: "bank"}; both must match when both are given'),
    ],
    result: { name: 'subscription', description: 'the subscription id', schema: { type: 'string', pattern: '^0x[0-9a-f]{32}$' } },
    errors: [
      { code: RpcErrorCode.MethodNotFound, message: 'called over HTTP: subscriptions need a WebSocket connection' },
      { code: RpcErrorCode.LimitExceeded, message: 'this connection already holds the most subscriptions allowed' },
    ],
    example: { params: ['receipts', { address: 'mn1…' }], result: ID },
    handler: (_b, [kind, filter], ctx) => {
      const s = session(ctx, 'subscribe');
      const f = filter as SubscriptionFilter;
      if (kind === 'newHeads' && (f.address !== undefined || f.module !== undefined)) throw new RpcError(RpcErrorCode.InvalidParams, 'invalid params: "filter" applies to receipts, pendingTransactions and blockEvents, not newHeads', { param: 'filter' });
      return s.subscribe(kind as SubscriptionKind, f);
    },
  },
  {
    name: 'unsubscribe',
    group: 'subscribe',
    summary: 'WebSocket only. Ends a subscription of this connection; false if it has none with that id. Closing the connection ends all of them.',
    params: [P.subscriptionId('subscription', 'the id subscribe returned')],
    result: { name: 'removed', description: 'whether a subscription was removed', schema: { type: 'boolean' } },
    errors: [{ code: RpcErrorCode.MethodNotFound, message: 'called over HTTP: subscriptions need a WebSocket connection' }],
    example: { params: [ID], result: true },
    handler: (_b, [id], ctx) => session(ctx, 'unsubscribe').unsubscribe(id as string),
  },
];
