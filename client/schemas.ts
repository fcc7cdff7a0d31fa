import { z } from 'zod';

/**
 * The shapes of the node's answers (docs/json-rpc.md), checked on every call: a node of another
 * version, or something that is not a node, fails loudly instead of handing a program odd data.
 * Loose objects: a module may add fields (state_getAccount gains a section per module).
 */

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, 'hex');
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, '32-byte hash');
const decimal = z.string().regex(/^\d+$/, 'decimal string');
const height = z.number().int().nonnegative();

export const headSchema = z.object({ height, hash, stateRoot: hash, timestamp: z.number().int() });
export type Head = z.infer<typeof headSchema>;

export const accountSchema = z.looseObject({ address: z.string(), height, nonce: z.number().int().nonnegative(), balances: z.record(z.string(), decimal) });
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

export const transactionSchema = z.looseObject({ hash, chainId: z.string(), nonce: z.number().int(), from: z.string(), fee: decimal, kind: z.string(), payload: hex, args: z.unknown() });
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

export const nodeStatusSchema = z.looseObject({ version: z.string(), chainId: z.string(), head: z.looseObject({ height }), syncing: z.boolean(), peers: z.number().int() });
export type NodeStatus = z.infer<typeof nodeStatusSchema>;

export const validatorsSchema = z.looseObject({
  height,
  hash,
  quorum: decimal,
  totalPower: decimal,
  validators: z.array(z.looseObject({ address: z.string(), publicKey: hex, blsPublicKey: hex, power: decimal })),
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
