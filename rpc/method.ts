import type { JSONRPCErrorException } from 'json-rpc-2.0';
import type { RpcBackend } from './backend.js';
import type { MethodGroup } from './options.js';
import type { ParamSpec } from './params.js';
import type { SubscriptionSession } from './subscriptions.js';

/** Who is calling: the client's address (what rate limits count by), transport, and what a verified token granted. */
export interface ClientInfo {
  address: string;
  transport: 'http' | 'ws';
  /** The bearer token sent with the request or the WebSocket upgrade, if any (verified when a method needs it). */
  token?: string;
  /** The verified token's subject, once a protected method has checked it (for the audit log). */
  subject?: string;
}

/** What a call knows about its connection: who calls, and over WebSocket a session that can subscribe. */
export interface CallContext {
  client: ClientInfo;
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
  /** What the call counts as for rate limits, authentication and the audit log (default read). */
  group?: MethodGroup;
  /**
   * The call's cost in units (about one cheap call, or one KiB of answer, each; default 1),
   * estimated from its parsed arguments before it runs, so a batch too dear is refused unrun.
   */
  cost?(backend: RpcBackend, args: unknown[]): number | Promise<number>;
  handler(backend: RpcBackend, args: unknown[], ctx: CallContext): unknown;
  /**
   * What the audit log records of this message's successful calls of a write or admin method
   * (one record for all of them); default: their number.
   */
  audit?(calls: { args: unknown[]; result: unknown }[]): { detail?: unknown; result?: unknown };
  /**
   * Answers several calls of this method from one JSON-RPC batch together (tx_send: one mempool
   * admission and one round of signature checks for all of them). One answer per call, in order;
   * the same answers `handler` would give one by one.
   */
  batchHandler?(backend: RpcBackend, argsList: unknown[][]): Promise<BatchAnswer[]>;
}

/** A call's outcome in a batchHandler: a result, or the error to answer it with. */
export type BatchAnswer = { result: unknown } | { error: JSONRPCErrorException };
