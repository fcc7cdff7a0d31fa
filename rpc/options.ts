export interface RpcOptions {
  host: string;
  port: number;
  /** Largest request body accepted, in bytes (larger: HTTP 413 and JSON-RPC -32600); also the largest WebSocket message. */
  maxBodyBytes: number;
  /** Most requests in one batch. */
  maxBatch: number;
  /** Value of Access-Control-Allow-Origin ('' to send none). */
  corsOrigin: string;
  /** Serve the block explorer at GET / (and /metrics, /health either way). */
  explorer: boolean;
  /** Most WebSocket connections at once; the next upgrade is answered 503. */
  wsMaxConnections: number;
  /** Most subscriptions one WebSocket connection may hold. */
  wsMaxSubscriptions: number;
  /**
   * A connection whose unsent data would pass this many bytes is closed (1008): a slow client
   * cannot grow the node's memory. One message is always accepted when nothing is waiting.
   */
  wsMaxBufferedBytes: number;
  /** …or whose unsent messages would pass this many. */
  wsMaxQueuedMessages: number;
  /** Requests of one connection processed at once; at the limit the node stops reading from it. */
  wsMaxInFlight: number;
  /** How often connections are pinged; one that has not answered the previous ping is dropped. */
  wsPingIntervalMs: number;
  /** After a close for overflow, how long the close handshake may take before the socket is cut. */
  wsCloseGraceMs: number;
}

export const defaultRpcOptions: RpcOptions = {
  host: '127.0.0.1',
  port: 8545,
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatch: 1000,
  corsOrigin: '*',
  explorer: true,
  wsMaxConnections: 256,
  wsMaxSubscriptions: 64,
  wsMaxBufferedBytes: 8 * 1024 * 1024,
  wsMaxQueuedMessages: 4096,
  wsMaxInFlight: 64,
  wsPingIntervalMs: 30_000,
  wsCloseGraceMs: 10_000,
};
