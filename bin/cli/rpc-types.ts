/**
 * What metanode-cli expects from the node: the client library's result schemas
 * (client/schemas.ts), the ones every call of metanode/client is checked against and rpc.discover
 * publishes. Blocks, transactions, receipts, accounts and the status keep the fields a newer node
 * adds (loose objects), so --json shows them; the head, a simulation and a page of an account's
 * transactions are exact.
 */
export {
  accountSchema,
  accountTransactionsSchema,
  assetsSchema,
  bankParamsSchema,
  blockSchema,
  headSchema,
  nodeStatusSchema,
  receiptSchema,
  resultSchemas,
  sentSchema,
  simulationSchema,
  transactionSchema,
  validatorsSchema,
  type Account,
  type AccountTransactionsJson as AccountTransactions,
  type AssetJson as Asset,
  type BankParams,
  type Head,
  type NodeStatus,
  type Simulation,
  type ValidatorsJson as Validators,
} from '../../client/schemas.js';

/** A JSON object shown as it comes (a block, a transaction, a receipt). */
export type JsonRecord = Record<string, unknown>;

/** A JSON-RPC 2.0 error object (the transport, client/transport.ts, checks the envelope). */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}
