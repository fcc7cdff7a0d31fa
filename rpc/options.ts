/**
 * What a method call is allowed and limited as. Rate limits, authentication and the audit log
 * apply per group: `read` (chain, state, bank, node and rpc.discover), `write` (tx_send),
 * `subscribe` (subscribe, unsubscribe) and `admin` (the admin_ methods).
 */
export const METHOD_GROUPS = ['read', 'write', 'subscribe', 'admin'] as const;
export type MethodGroup = (typeof METHOD_GROUPS)[number];

/** A token bucket: `rate` cost units a second, up to `burst` at once (rate 0: unlimited). */
export interface RateLimit {
  rate: number;
  burst: number;
}

export interface RpcAuthOptions {
  /**
   * PEM file of the public key that signs JSON-RPC tokens (JWT, as Besu's JSON-RPC
   * authentication): Ed25519 (EdDSA), P-256 (ES256) or RSA (RS256), the algorithm following the
   * key. Unset: no authentication (write methods are open; admin methods answer loopback clients only).
   */
  jwtPublicKeyFile?: string;
  /** Groups whose methods need a token that grants them when authentication is on. */
  protect: MethodGroup[];
}

export interface RpcOptions {
  host: string;
  port: number;
  /** Largest request body accepted, in bytes (larger: HTTP 413 and JSON-RPC -32600); also the largest WebSocket message. */
  maxBodyBytes: number;
  /** Most requests in one batch. */
  maxBatch: number;
  /**
   * Most cost units one message (a call or a whole batch) may ask for, checked before any of it
   * runs (a unit is about one cheap call or one KiB of answer; docs/json-rpc.md lists each method's cost).
   */
  maxRequestCost: number;
  /** Largest answer to one message, in bytes: the calls of a batch past it are answered with an error instead of run. */
  maxResponseBytes: number;
  /**
   * Origins (scheme://host[:port]) whose pages may call the node from a browser: CORS headers are
   * sent to them, and WebSocket upgrades and POSTs that carry any other Origin are refused (403).
   * [] (the default): no cross-origin browser access; ['*']: any origin (never on a machine with a browser).
   */
  corsOrigins: string[];
  /**
   * Host names accepted in the Host header, against DNS rebinding: an IP address always passes,
   * a name only if listed (or ['*']). Default: localhost.
   */
  hosts: string[];
  /** Messages (calls or batches) worked on at once, node-wide; the others wait their turn. */
  maxConcurrentRequests: number;
  /**
   * How busy the event loop may be (its utilisation over the last 20 ms, 0…1) for read and
   * subscribe work to go on: above it, each slice of read work waits for the next sample (one
   * goes ahead per sample), so that consensus, gossip and transactions keep the loop. 1: no limit.
   */
  maxLoopUtilization: number;
  /** Bodies of the messages waiting for their turn, in bytes, at most; past it a message is refused (HTTP 503, -32005). */
  maxQueuedBytes: number;
  /** Most open HTTP and WebSocket connections; more are refused at accept. */
  maxConnections: number;
  /** Time a client has to send a request's headers (and most a connection may stay silent), and its whole request. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
  /** Per client address and group, in cost units; the refusal names the limit. */
  rateLimits: Record<MethodGroup, RateLimit>;
  /** Client addresses whose buckets are kept (the least recently seen are forgotten first). */
  rateLimitClients: number;
  auth: RpcAuthOptions;
  /** Value of Access-Control-Allow-Origin ('' to send none). Replaced by corsOrigins; ignored with a warning. */
  corsOrigin?: string;
  /** Serve the block explorer at GET / (and /health either way). */
  explorer: boolean;
  /** Also serve GET /metrics on the RPC port (normally on the metrics listener: node/options). */
  metricsOnRpc: boolean;
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
  maxRequestCost: 4000,
  maxResponseBytes: 8 * 1024 * 1024,
  corsOrigins: [],
  hosts: ['localhost'],
  maxConcurrentRequests: 8,
  maxLoopUtilization: 0.5,
  maxQueuedBytes: 16 * 1024 * 1024,
  maxConnections: 512,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 30_000,
  rateLimits: {
    read: { rate: 1000, burst: 2000 },
    write: { rate: 50_000, burst: 50_000 },
    subscribe: { rate: 20, burst: 100 },
    admin: { rate: 20, burst: 40 },
  },
  rateLimitClients: 10_000,
  auth: { protect: ['write', 'admin'] },
  explorer: true,
  metricsOnRpc: false,
  wsMaxConnections: 256,
  wsMaxSubscriptions: 64,
  wsMaxBufferedBytes: 8 * 1024 * 1024,
  wsMaxQueuedMessages: 4096,
  wsMaxInFlight: 64,
  wsPingIntervalMs: 30_000,
  wsCloseGraceMs: 10_000,
};

/** Defaults merged with `opts` (nested rate limits and auth field by field). */
export function resolveRpcOptions(opts: Partial<Omit<RpcOptions, 'rateLimits' | 'auth'>> & { rateLimits?: Partial<Record<MethodGroup, Partial<RateLimit>>>; auth?: Partial<RpcAuthOptions> }): RpcOptions {
  const rateLimits = Object.fromEntries(METHOD_GROUPS.map((g) => [g, { ...defaultRpcOptions.rateLimits[g], ...opts.rateLimits?.[g] }])) as Record<MethodGroup, RateLimit>;
  return { ...defaultRpcOptions, ...opts, rateLimits, auth: { ...defaultRpcOptions.auth, ...opts.auth } };
}
