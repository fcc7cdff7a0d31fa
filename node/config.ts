import { z } from 'zod';
import { defaultBlockchainOptions, defaultIbftOptions, defaultMempoolOptions } from '../consensus/index.js';
import { defaultP2POptions } from '../p2p/index.js';
import { METHOD_GROUPS, defaultRpcOptions } from '../rpc/index.js';
import { MIN_OPEN_FILES } from '../storage/index.js';

const rateLimit = z.object({ rate: z.number().min(0).optional(), burst: z.number().positive().optional() }).strict().optional();

/** config.json in a node home. Every field is optional; defaults come from each part's options.ts. */
export const configSchema = z
  .object({
    moniker: z.string().max(64).optional(),
    log: z.object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional() }).strict().optional(),
    rpc: z
      .object({
        host: z.string().optional(),
        port: z.number().int().min(0).max(65535).optional(),
        maxBodyBytes: z.number().int().positive().optional(),
        maxBatch: z.number().int().positive().optional(),
        maxRequestCost: z.number().int().positive().optional(),
        maxResponseBytes: z.number().int().positive().optional(),
        /** Replaced by corsOrigins; still accepted (and ignored with a warning) so older homes start. */
        corsOrigin: z.string().optional(),
        corsOrigins: z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'must be an origin such as "https://explorer.example.org" (scheme and host, no path) or "*"')).optional(),
        hosts: z.array(z.string().min(1).max(253)).optional(),
        maxConnections: z.number().int().positive().optional(),
        maxConcurrentRequests: z.number().int().positive().optional(),
        maxQueuedBytes: z.number().int().min(0).optional(),
        maxLoopUtilization: z.number().gt(0).max(1).optional(),
        headersTimeoutMs: z.number().int().positive().optional(),
        requestTimeoutMs: z.number().int().positive().optional(),
        keepAliveTimeoutMs: z.number().int().positive().optional(),
        rateLimits: z.object(Object.fromEntries(METHOD_GROUPS.map((g) => [g, rateLimit])) as Record<(typeof METHOD_GROUPS)[number], typeof rateLimit>).strict().optional(),
        rateLimitClients: z.number().int().positive().optional(),
        auth: z
          .object({
            /** PEM public key (path relative to the home) that verifies bearer tokens; unset: no authentication. */
            jwtPublicKeyFile: z.string().min(1).optional(),
            protect: z.array(z.enum(METHOD_GROUPS)).optional(),
          })
          .strict()
          .optional(),
        /** Record accepted write requests and admin actions in <home>/audit (default true). */
        audit: z.boolean().optional(),
        explorer: z.boolean().optional(),
        metricsOnRpc: z.boolean().optional(),
        wsMaxConnections: z.number().int().positive().optional(),
        wsMaxSubscriptions: z.number().int().positive().optional(),
        wsMaxBufferedBytes: z.number().int().positive().optional(),
        wsMaxQueuedMessages: z.number().int().positive().optional(),
        wsMaxInFlight: z.number().int().positive().optional(),
        wsPingIntervalMs: z.number().int().positive().optional(),
        wsCloseGraceMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    mempool: z
      .object({
        maxTxs: z.number().int().positive().optional(),
        maxBytes: z.number().int().positive().optional(),
        maxTxBytes: z.number().int().positive().optional(),
        maxNonceGap: z.number().int().min(0).optional(),
        /** Write acknowledged transactions to <home>/mempool before answering, so they survive a crash (default true). */
        journal: z.boolean().optional(),
      })
      .strict()
      .optional(),
    consensus: z
      .object({
        roundTimeoutMs: z.number().int().positive().optional(),
        maxRoundTimeoutMs: z.number().int().positive().optional(),
        emptyBlockIntervalMs: z.number().int().positive().optional(),
        minBlockIntervalMs: z.number().int().min(0).optional(),
        targetBlockTxs: z.number().int().positive().optional(),
        maxBlockTxs: z.number().int().positive().optional(),
        maxBlockBytes: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** GET /metrics on a listener of its own; absent: no metrics listener. */
    metrics: z
      .object({
        host: z.string().optional(),
        port: z.number().int().min(0).max(65535),
      })
      .strict()
      .optional(),
    storage: z
      .object({
        writeRetries: z.number().int().min(0).max(100).optional(),
        writeRetryDelayMs: z.number().int().positive().optional(),
        stateHistory: z.number().int().min(0).max(100_000).optional(),
        stateCacheMB: z.number().int().min(1).max(65_536).optional(),
        statePrefetch: z.boolean().optional(),
        openFiles: z.number().int().min(MIN_OPEN_FILES).max(50_000).optional(),
      })
      .strict()
      .optional(),
    verifier: z
      .object({
        workers: z.number().int().min(0).max(64).optional(),
      })
      .strict()
      .optional(),
    p2p: z
      .object({
        listen: z.array(z.string()).optional(),
        announce: z.array(z.string()).optional(),
        bootstrap: z.array(z.string()).optional(),
        admission: z.enum(['permissioned', 'open']).optional(),
        allowPeers: z.array(z.string()).optional(),
        maxConnections: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type NodeConfig = z.infer<typeof configSchema>;

/** The config written by `metanode init`: the defaults, spelled out so operators see them. */
export function defaultConfig(moniker: string): NodeConfig {
  return {
    moniker,
    log: { level: 'info' },
    rpc: {
      host: defaultRpcOptions.host,
      port: defaultRpcOptions.port,
      maxBodyBytes: defaultRpcOptions.maxBodyBytes,
      maxBatch: defaultRpcOptions.maxBatch,
      maxRequestCost: defaultRpcOptions.maxRequestCost,
      corsOrigins: defaultRpcOptions.corsOrigins,
      hosts: defaultRpcOptions.hosts,
    },
    mempool: { ...defaultMempoolOptions },
    consensus: {
      roundTimeoutMs: defaultIbftOptions.roundTimeoutMs,
      maxRoundTimeoutMs: defaultIbftOptions.maxRoundTimeoutMs,
      emptyBlockIntervalMs: defaultIbftOptions.emptyBlockIntervalMs,
      minBlockIntervalMs: defaultIbftOptions.minBlockIntervalMs,
      targetBlockTxs: defaultIbftOptions.targetBlockTxs,
      maxBlockTxs: defaultIbftOptions.maxBlockTxs,
      maxBlockBytes: defaultIbftOptions.maxBlockBytes,
    },
    storage: { ...defaultBlockchainOptions },
    p2p: { listen: ['/ip4/0.0.0.0/tcp/26656'], bootstrap: [], admission: defaultP2POptions.admission, allowPeers: [] },
  };
}
