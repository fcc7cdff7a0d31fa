import { CodedError } from '../chain/errors.js';

/** What went wrong in a client call: stable codes a program can switch on. */
export const ClientErrorCode = {
  /** The node could not be reached (connection refused, DNS, TLS). */
  Unreachable: 'CLIENT_UNREACHABLE',
  /** The node did not answer within the timeout. */
  Timeout: 'CLIENT_TIMEOUT',
  /** The answer is not a JSON-RPC response, or its result does not have the documented shape. */
  BadResponse: 'CLIENT_BAD_RESPONSE',
  /** The node answered with a JSON-RPC error (RpcResponseError carries its code and reason). */
  Rpc: 'CLIENT_RPC',
  /** An answer did not verify against a verified header (a node lying, or a broken one). */
  Verification: 'CLIENT_VERIFICATION',
  /** A bad argument to a client function (an address, an amount, a key). */
  BadArgument: 'CLIENT_BAD_ARGUMENT',
  /** A receipt did not arrive in time (waitForReceipt). */
  NotCommitted: 'CLIENT_NOT_COMMITTED',
  /** A subscription's reader fell too far behind (WsTransportOptions.maxQueued). */
  SubscriptionOverflow: 'CLIENT_SUBSCRIPTION_OVERFLOW',
  /** The client was closed. */
  Closed: 'CLIENT_CLOSED',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export class ClientError extends CodedError<ClientErrorCode> {}

/** A JSON-RPC error answer: the node's code and message, and `reason` (e.g. TX_NONCE_TOO_LOW) when it gave one. */
export class RpcResponseError extends ClientError {
  readonly method: string;
  readonly rpcCode: number;
  /** The node's message, as it gave it. */
  readonly rpcMessage: string;
  readonly reason: string | undefined;
  readonly data: unknown;
  constructor(method: string, error: { code: number; message: string; data?: unknown }) {
    const data = error.data as { reason?: unknown } | undefined;
    const reason = typeof data?.reason === 'string' ? data.reason : undefined;
    super(ClientErrorCode.Rpc, `${method}: ${error.message}`, { method, rpcCode: error.code, ...(reason ? { reason } : {}) });
    this.method = method;
    this.rpcCode = error.code;
    this.rpcMessage = error.message;
    this.reason = reason;
    this.data = error.data;
  }
}

/** An answer that failed verification; `what` names the check (e.g. "certificate", "state proof"). */
export class VerificationError extends ClientError {
  constructor(
    readonly what: string,
    message: string,
    context: Record<string, unknown> = {},
  ) {
    super(ClientErrorCode.Verification, message, { what, ...context });
  }
}
