import { z } from 'zod';
import { ClientError, ClientErrorCode, RpcResponseError, VerificationError } from '../../client/errors.js';
import { HttpTransport } from '../../client/transport.js';
import { CliError, ExitCode, usage } from './errors.js';
import {
  accountSchema, accountTransactionsSchema, assetsSchema, bankParamsSchema, blockSchema, headSchema, nodeStatusSchema, receiptSchema, resultSchemas, sentSchema, simulationSchema,
  transactionSchema, validatorsSchema, type Account, type AccountTransactions, type Asset, type BankParams, type Head, type JsonRecord, type NodeStatus, type RpcErrorObject,
  type Simulation, type Validators,
} from './rpc-types.js';

export interface RpcClientOptions {
  url: string;
  /** Per request, connection included. */
  timeoutMs: number;
  /** Sent as `Authorization: Bearer <token>` (a node with JSON-RPC authentication). */
  token?: string;
}

export const defaultRpcClientOptions: RpcClientOptions = { url: 'http://127.0.0.1:8545', timeoutMs: 15_000 };

export interface RpcClientDeps {
  fetch: typeof globalThis.fetch;
}

/**
 * The CLI's view of the node: the client library's transport (client/transport.ts) with the CLI's
 * result checks, and every failure a CliError with the CLI's exit codes and advice.
 */
export class RpcClient {
  readonly url: string;
  readonly transport: HttpTransport;

  constructor(
    private readonly opts: RpcClientOptions,
    deps: RpcClientDeps = { fetch: globalThis.fetch },
  ) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw usage(`--rpc "${opts.url}" is not a URL: pass one like http://127.0.0.1:8545`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usage(`--rpc "${opts.url}" must be an http:// or https:// URL`);
    this.url = opts.url;
    this.transport = new HttpTransport({ url: opts.url, timeoutMs: opts.timeoutMs, fetch: deps.fetch, ...(opts.token ? { token: opts.token } : {}) });
  }

  async call<T>(method: string, params: unknown[], schema: z.ZodType<T>): Promise<T> {
    let answer: unknown;
    try {
      answer = await this.transport.request(method, params);
    } catch (e) {
      throw this.toCli(method, e);
    }
    const result = schema.safeParse(answer);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      throw new CliError(ExitCode.NodeError, `the node answered ${method} with an unexpected result${where} (${issue?.message ?? 'invalid'}): is the node the same version as metanode-cli?`);
    }
    return result.data;
  }

  /** The library's errors (client/errors.ts), in the CLI's words and exit codes; anything else as it is. */
  toCli(method: string, e: unknown): unknown {
    if (e instanceof RpcResponseError) return rpcErrorToCli(method, { code: e.rpcCode, message: e.rpcMessage, ...(e.data === undefined ? {} : { data: e.data }) });
    if (!(e instanceof ClientError)) return e;
    if (e instanceof VerificationError) return new CliError(ExitCode.NotVerified, `the node's answer did not verify (${e.what}): ${e.message}; do not rely on this node`, { what: e.what });
    switch (e.code) {
      case ClientErrorCode.Timeout:
        return new CliError(ExitCode.NodeUnreachable, `the node at ${this.url} did not answer within ${Math.round(this.opts.timeoutMs / 1000)}s: is it overloaded or stuck? retry, or pass --rpc`);
      case ClientErrorCode.Unreachable:
        return new CliError(ExitCode.NodeUnreachable, `cannot reach the node at ${this.url}: is it running? start it with npm start or pass --rpc`);
      case ClientErrorCode.BadResponse:
        return new CliError(ExitCode.NodeError, `${this.url} did not answer with a JSON-RPC response: is --rpc pointing at a Metanode node?`);
      default:
        return new CliError(ExitCode.NodeError, e.message);
    }
  }

  chainId = (): Promise<string> => this.call('chain_getChainId', [], resultSchemas.chain_getChainId as z.ZodType<string>);
  head = (): Promise<Head> => this.call('chain_getHead', [], headSchema);
  blockByHeight = (h: number | 'latest', full = false): Promise<JsonRecord | null> => this.call('chain_getBlockByHeight', [h, full], blockSchema.nullable());
  blockByHash = (hash: string, full = false): Promise<JsonRecord | null> => this.call('chain_getBlockByHash', [hash, full], blockSchema.nullable());
  transaction = (hash: string): Promise<JsonRecord | null> => this.call('chain_getTransaction', [hash], transactionSchema.nullable());
  receipt = (hash: string): Promise<JsonRecord | null> => this.call('chain_getReceipt', [hash], receiptSchema.nullable());
  validators = (): Promise<Validators> => this.call('chain_getValidators', [], validatorsSchema);
  account = (address: string): Promise<Account> => this.call('state_getAccount', [address], accountSchema);
  assets = (): Promise<Asset[]> => this.call('bank_getAssets', [], assetsSchema);
  bankParams = (): Promise<BankParams> => this.call('bank_getParams', [], bankParamsSchema);
  sendRaw = async (rawHex: string): Promise<string> => (await this.call('tx_send', [rawHex], sentSchema)).hash;
  simulate = (rawHex: string): Promise<Simulation> => this.call('tx_simulate', [rawHex], simulationSchema);
  accountTransactions = (address: string, page: { limit?: number; before?: string }): Promise<AccountTransactions> =>
    this.call('chain_getAccountTransactions', [address, page], accountTransactionsSchema);
  status = (): Promise<NodeStatus> => this.call('node_status', [], nodeStatusSchema);
  moduleQuery = (module: string, path: string, params?: Record<string, unknown>): Promise<unknown> => this.call('module_query', params ? [module, path, params] : [module, path], z.unknown());
}

const REASON_HINTS: Record<string, [ExitCode, string]> = {
  TX_NONCE_TOO_LOW: [ExitCode.BadNonce, 'nonce too low: another transaction from this account got in first; run the command again'],
  TX_NONCE_TOO_HIGH: [ExitCode.BadNonce, 'nonce too high: an earlier transaction from this account is missing; wait for it or run the command again'],
  TX_INSUFFICIENT_FEE_FUNDS: [ExitCode.InsufficientFunds, 'insufficient funds for the fee: fund the account with NEX or lower --fee'],
  TX_FEE_TOO_LOW: [ExitCode.TxRejected, 'fee too low: raise --fee to at least the minimum fee (omit --fee to use it)'],
  TX_DUPLICATE: [ExitCode.TxRejected, 'already sent: wait for it with metanode-cli tx wait HASH'],
  TX_WRONG_CHAIN: [ExitCode.TxRejected, 'wrong chain id: check that --rpc points at the chain you mean'],
  TX_MEMPOOL_FULL: [ExitCode.TxRejected, 'the mempool is full: retry in a moment'],
};

/** A JSON-RPC error object to a CliError; mempool rejections keep the node's data.reason. */
export function rpcErrorToCli(method: string, err: RpcErrorObject): CliError {
  const data = err.data as { reason?: unknown } | undefined;
  const reason = typeof data?.reason === 'string' ? data.reason : undefined;
  const ctx = { method, rpcCode: err.code, reason };
  if (err.code === -32001) {
    const [code, hint] = REASON_HINTS[reason ?? ''] ?? [ExitCode.TxRejected, ''];
    const what = hint ? `${hint} (${reason}: ${err.message})` : `${reason ?? 'rejected'}: ${err.message}`;
    return new CliError(code, `the node rejected the transaction: ${what}`, ctx);
  }
  if (err.code === -32003) return new CliError(ExitCode.NodeError, `the node is not ready (${err.message}): it is starting, syncing or stopping; retry in a moment`, ctx);
  if (err.code === -32002) return new CliError(ExitCode.NotFound, `not available on this node: ${err.message}`, ctx);
  if (err.code === -32601) return new CliError(ExitCode.NodeError, `the node does not support ${method}: is it the same version as metanode-cli?`, ctx);
  if (err.code === -32006) return new CliError(ExitCode.NodeError, `the node refused ${method}: ${err.message}; pass a token that grants it with --rpc-token (or METANODE_RPC_TOKEN)`, ctx);
  if (err.code === -32005) return new CliError(ExitCode.NodeError, `the node refused ${method}: ${err.message}`, ctx);
  return new CliError(ExitCode.NodeError, `the node refused ${method} (${err.code}): ${err.message}`, ctx);
}
