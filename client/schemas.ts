import * as z from 'zod';

/**
 * The shapes of the node's answers (docs/json-rpc.md), checked on every call: a node of another
 * version, or something that is not a node, fails loudly instead of handing a program odd data.
 * Loose objects: a module may add fields (state_getAccount gains a section per module).
 */

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, 'hex');
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, '32-byte hash');
const decimal = z.string().regex(/^\d+$/, 'decimal string');
const height = z.number().int().nonnegative();

const address = z.string().regex(/^mn1[02-9ac-hj-np-z]+$/, 'mn1… address');
const timestamp = z.number().int().nonnegative();

export const headSchema = z.object({ height, hash, stateRoot: hash, timestamp });

export const certificateSchema = z.object({ height, round: z.number().int().nonnegative(), blockHash: hash, signers: z.array(z.number().int().nonnegative()), signersBitmap: hex, signature: hex });
export type CertificateJson = z.infer<typeof certificateSchema>;

/** A block header as JSON (rpc/format.ts headerToJson). */
export const headerSchema = z.looseObject({
  hash,
  version: z.number().int(),
  chainId: z.string(),
  height,
  parentHash: hash,
  timestamp,
  proposer: address,
  txRoot: hash,
  receiptsRoot: hash,
  eventsRoot: hash,
  stateRoot: hash,
  validatorsHash: hash,
  nextValidatorsHash: hash,
  lastCommit: certificateSchema.nullable(),
});
export type HeaderJson = z.infer<typeof headerSchema>;
export type Head = z.infer<typeof headSchema>;

export const accountSchema = z.looseObject({ address, height, nonce: z.number().int().nonnegative(), balances: z.record(z.string(), decimal) });
export type Account = z.infer<typeof accountSchema>;

export const eventSchema = z.object({ module: z.string(), type: z.string(), attributes: z.record(z.string(), z.string()) });
export type EventJson = z.infer<typeof eventSchema>;

export const receiptSchema = z.looseObject({
  txHash: hash,
  blockHeight: height,
  blockHash: hash,
  index: z.number().int().nonnegative(),
  status: z.enum(['success', 'failed']),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  fee: decimal,
  events: z.array(eventSchema),
});
export type ReceiptJson = z.infer<typeof receiptSchema>;

export const transactionSchema = z.looseObject({
  hash,
  chainId: z.string(),
  nonce: z.number().int().nonnegative(),
  from: address,
  senderPublicKey: hex,
  fee: decimal,
  kind: z.string(),
  payload: hex,
  /** What the module reads from the payload (a transfer: to, asset, amount), or null. */
  args: z.unknown(),
  signature: hex,
  size: z.number().int().positive(),
  blockHeight: height.optional(),
  blockHash: hash.optional(),
  index: z.number().int().nonnegative().optional(),
});
export type TransactionJson = z.infer<typeof transactionSchema>;

export const sentSchema = z.object({ hash });

export const simulationSchema = z.object({
  height,
  signatureChecked: z.boolean(),
  receipt: z.looseObject({ txHash: hash, status: z.enum(['success', 'failed']), errorCode: z.string().nullable(), errorMessage: z.string().nullable(), fee: decimal, events: z.array(eventSchema) }),
});
export type Simulation = z.infer<typeof simulationSchema>;

export const assetsSchema = z.array(z.looseObject({ symbol: z.string(), decimals: z.number().int().min(0).max(36), supply: decimal }));
export type AssetJson = z.infer<typeof assetsSchema>[number];

export const bankParamsSchema = z.looseObject({ minFee: decimal, feeAsset: z.string() });
export type BankParams = z.infer<typeof bankParamsSchema>;

export const nodeStatusSchema = z.looseObject({
  version: z.string(),
  chainId: z.string(),
  head: z.looseObject({ height, hash, timestamp }),
  syncing: z.boolean(),
  validator: address.nullable(),
  validators: z.number().int().nonnegative(),
  peers: z.number().int().nonnegative(),
  mempool: z.object({ size: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }),
});
export type NodeStatus = z.infer<typeof nodeStatusSchema>;

export const validatorsSchema = z.looseObject({
  height,
  hash,
  quorum: decimal,
  totalPower: decimal,
  /** Each validator, with what the modules hold for it (staking: operator, status, tokens, …). */
  validators: z.array(z.looseObject({ address, publicKey: hex, blsPublicKey: hex, power: decimal })),
});
export type ValidatorsJson = z.infer<typeof validatorsSchema>;

export const stateProofAnswerSchema = z.object({
  height,
  blockHash: hash,
  stateRoot: hash,
  key: hex,
  value: hex.nullable(),
  proofFormat: z.number().int(),
  proof: z.unknown(),
});
export type StateProofAnswer = z.infer<typeof stateProofAnswerSchema>;

export const lightBlockSchema = z.object({ height, hash, header: hex, certificate: hex.nullable(), validators: hex });
export type LightBlockJson = z.infer<typeof lightBlockSchema>;

const merkleProofSchema = z.object({ index: z.number().int().nonnegative(), total: z.number().int().positive(), siblings: z.array(hash) });
export const transactionProofSchema = z.object({ blockHeight: height, blockHash: hash, index: z.number().int().nonnegative(), transaction: hex, receipt: hex, txProof: merkleProofSchema, receiptProof: merkleProofSchema });
export type TransactionProofJson = z.infer<typeof transactionProofSchema>;

export const blockSchema = headerSchema.extend({
  transactionCount: z.number().int().nonnegative(),
  /** Hashes, or whole transactions (with their location) when fullTransactions. */
  transactions: z.union([z.array(hash), z.array(transactionSchema)]),
  certificate: certificateSchema.nullable(),
});
export type BlockJson = z.infer<typeof blockSchema>;

export const blocksPageSchema = z.object({ blocks: z.array(headerSchema.extend({ transactionCount: z.number().int().nonnegative() })), next: height.nullable() });

export const accountTransactionsSchema = z.object({
  address,
  transactions: z.array(transactionSchema.extend({ timestamp, status: z.enum(['success', 'failed']).nullable(), errorCode: z.string().nullable() })),
  /** The `before` of the next page ("height:index"), or null on the last. */
  next: z.string().nullable(),
});
export type AccountTransactionsJson = z.infer<typeof accountTransactionsSchema>;

export const blockEventsSchema = z.object({ height, hash, events: z.array(eventSchema) });
export const healthSchema = z.object({ ok: z.boolean(), reason: z.string().optional() });

/**
 * The result of every method, by name: the node's OpenRPC document (rpc.discover) publishes these
 * as JSON Schema (z.toJSONSchema), and the client checks every answer against them, so the
 * document, the library's types and the node's answers cannot drift apart unnoticed (a test calls
 * each method on a live node and checks its answer). Methods without one here (module queries,
 * the ENC estimates) answer module-defined JSON.
 */
export const resultSchemas: Readonly<Record<string, z.ZodType>> = {
  chain_getChainId: z.string().min(1),
  chain_getHead: headSchema,
  chain_getBlockByHeight: blockSchema.nullable(),
  chain_getBlockByHash: blockSchema.nullable(),
  chain_getBlocks: blocksPageSchema,
  chain_getAccountTransactions: accountTransactionsSchema,
  chain_getTransaction: transactionSchema.nullable(),
  chain_getReceipt: receiptSchema.nullable(),
  chain_getBlockEvents: blockEventsSchema.nullable(),
  chain_getValidators: validatorsSchema,
  chain_getLightBlock: lightBlockSchema.nullable(),
  chain_getTransactionProof: transactionProofSchema.nullable(),
  state_getAccount: accountSchema,
  state_getProof: stateProofAnswerSchema,
  bank_getAssets: assetsSchema,
  bank_getParams: bankParamsSchema,
  tx_send: sentSchema,
  tx_simulate: simulationSchema,
  node_status: nodeStatusSchema,
  node_health: healthSchema,
  subscribe: z.string().regex(/^0x[0-9a-f]+$/, 'subscription id'),
  unsubscribe: z.boolean(),
  admin_nodeInfo: z.looseObject({ peerId: z.string(), addresses: z.array(z.string()), version: z.string(), chainId: z.string(), validator: address.nullable(), height, logLevel: z.string() }),
  admin_peers: z.array(
    z.looseObject({
      id: z.string(),
      addresses: z.array(z.string()),
      direction: z.enum(['inbound', 'outbound']),
      score: z.number(),
      height: height.optional(),
      validator: z.boolean(),
      allowlisted: z.boolean(),
      bootstrap: z.boolean(),
      added: z.boolean(),
    }),
  ),
  admin_addPeer: z.looseObject({ peerId: z.string(), connected: z.boolean() }),
  admin_removePeer: z.boolean(),
  admin_setLogLevel: z.string(),
};

/** A result schema as JSON Schema (draft 2020-12), for the OpenRPC document. */
export function resultJsonSchema(method: string): Record<string, unknown> | undefined {
  const s = resultSchemas[method];
  if (!s) return undefined;
  const { $schema: _drop, ...json } = z.toJSONSchema(s, { unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}
