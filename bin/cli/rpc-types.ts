import { z } from 'zod';

/**
 * What metanode-cli expects from the node (docs/json-rpc.md). Fields the CLI computes with are
 * checked strictly; objects it only displays (blocks, receipts, status) are loose so that fields
 * added by newer nodes pass through to --json untouched.
 */
const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'must be 0x-hex');
const amount = z.string().regex(/^(0|[1-9][0-9]*)$/, 'must be a decimal string of base units');
const uint = z.number().int().nonnegative();

export const headSchema = z.looseObject({ height: uint, hash: hex, stateRoot: hex.optional(), timestamp: uint.optional() });
export type Head = z.infer<typeof headSchema>;

export const accountSchema = z.looseObject({ address: z.string(), nonce: uint, balances: z.record(z.string(), amount) });
export type Account = z.infer<typeof accountSchema>;

export const assetSchema = z.looseObject({ symbol: z.string(), decimals: z.number().int().min(0).max(36), supply: amount.optional() });
export const assetsSchema = z.array(assetSchema);
export type Asset = z.infer<typeof assetSchema>;

export const paramsSchema = z.looseObject({ minFee: amount, feeAsset: z.string() });
export type BankParams = z.infer<typeof paramsSchema>;

export const sentSchema = z.looseObject({ hash: hex });

export const validatorSchema = z.looseObject({
  address: z.string(),
  publicKey: hex.optional(),
  power: z.union([z.number(), z.string()]),
});
export const validatorsSchema = z.looseObject({ height: uint, hash: hex.optional(), validators: z.array(validatorSchema) });
export type Validators = z.infer<typeof validatorsSchema>;

export const nodeStatusSchema = z.looseObject({
  version: z.string().optional(),
  chainId: z.string(),
  head: z.unknown(),
  syncing: z.unknown(),
  validator: z.unknown(),
  peers: z.unknown(),
  mempool: z.looseObject({ size: z.number(), bytes: z.number() }).optional(),
});
export type NodeStatus = z.infer<typeof nodeStatusSchema>;

/** A JSON object shown as it comes (blocks, transactions, receipts); null when the node has none. */
export const recordSchema = z.record(z.string(), z.unknown());
export type JsonRecord = z.infer<typeof recordSchema>;
export const maybeRecordSchema = recordSchema.nullable();

export const chainIdSchema = z.string().min(1);

/** tx_simulate: the head it ran on, and the receipt the transaction would get. */
export const simulationSchema = z.object({ height: z.number().int(), signatureChecked: z.boolean(), receipt: recordSchema });
export type Simulation = z.infer<typeof simulationSchema>;

/** chain_getAccountTransactions: newest first, `next` the cursor of the following page. */
export const accountTransactionsSchema = z.object({ address: z.string(), transactions: z.array(recordSchema), next: z.string().nullable() });
export type AccountTransactions = z.infer<typeof accountTransactionsSchema>;

/** A JSON-RPC 2.0 error object (the transport, client/transport.ts, checks the envelope). */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}
