export interface RpcOptions {
  host: string;
  port: number;
  /** Largest request body accepted, in bytes (larger: HTTP 413 and JSON-RPC -32600). */
  maxBodyBytes: number;
  /** Most requests in one batch. */
  maxBatch: number;
  /** Value of Access-Control-Allow-Origin ('' to send none). */
  corsOrigin: string;
}

export const defaultRpcOptions: RpcOptions = {
  host: '127.0.0.1',
  port: 8545,
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatch: 1000,
  corsOrigin: '*',
};
