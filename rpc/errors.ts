import { JSONRPCErrorException } from 'json-rpc-2.0';

/** JSON-RPC error codes: the specification's, then Metanode's in the server range. */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  TxRejected: -32001,
  HeightUnavailable: -32002,
  NotReady: -32003,
  /** A limit (rate, cost, size, connections): error.data.limit names the setting that sets it. */
  LimitExceeded: -32005,
  /** The method needs a bearer token that grants it (or, without authentication, a loopback client). */
  Unauthorized: -32006,
  /** The write could not be recorded in the audit log, so it was not done. */
  AuditFailed: -32007,
} as const;
export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode];

export class RpcError extends JSONRPCErrorException {
  constructor(code: RpcErrorCode, message: string, data?: Record<string, unknown>) {
    super(message, code, data);
    this.name = 'RpcError';
  }
}

export function invalidParams(param: string, message: string): RpcError {
  return new RpcError(RpcErrorCode.InvalidParams, `invalid params: "${param}" ${message}`, { param });
}
