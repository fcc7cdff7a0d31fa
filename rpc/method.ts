import type { RpcBackend } from './backend.js';
import type { ParamSpec } from './params.js';
import type { SubscriptionSession } from './subscriptions.js';

/** What a call knows about its connection: over WebSocket, a session that can subscribe. */
export interface CallContext {
  session?: SubscriptionSession;
}

/** One JSON-RPC method: its documentation (rendered into OpenRPC) and its handler. */
export interface MethodSpec {
  name: string;
  summary: string;
  params: ParamSpec[];
  result: { name: string; description: string; schema: Record<string, unknown> };
  errors?: { code: number; message: string }[];
  example: { params: unknown[]; result: unknown };
  handler(backend: RpcBackend, args: unknown[], ctx: CallContext): unknown;
}
