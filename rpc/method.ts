import type { JSONRPCErrorException } from 'json-rpc-2.0';
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
  /**
   * Answers several calls of this method from one JSON-RPC batch together (tx_send: one mempool
   * admission and one round of signature checks for all of them). One answer per call, in order;
   * the same answers `handler` would give one by one.
   */
  batchHandler?(backend: RpcBackend, argsList: unknown[][]): Promise<BatchAnswer[]>;
}

/** A call's outcome in a batchHandler: a result, or the error to answer it with. */
export type BatchAnswer = { result: unknown } | { error: JSONRPCErrorException };
