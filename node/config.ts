import { z } from 'zod';
import { defaultIbftOptions, defaultMempoolOptions } from '../consensus/index.js';
import { defaultP2POptions } from '../p2p/index.js';
import { defaultRpcOptions } from '../rpc/index.js';

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
        corsOrigin: z.string().optional(),
        explorer: z.boolean().optional(),
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
    rpc: { host: defaultRpcOptions.host, port: defaultRpcOptions.port, maxBodyBytes: defaultRpcOptions.maxBodyBytes, maxBatch: defaultRpcOptions.maxBatch, corsOrigin: defaultRpcOptions.corsOrigin },
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
    p2p: { listen: ['/ip4/0.0.0.0/tcp/26656'], bootstrap: [], admission: defaultP2POptions.admission, allowPeers: [] },
  };
}
