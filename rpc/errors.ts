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
  LimitExceeded: -32005,
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
