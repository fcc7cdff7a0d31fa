import { z } from 'zod';
import { CliError, ExitCode, usage } from './errors.js';
import {
  accountSchema, assetsSchema, chainIdSchema, envelopeSchema, headSchema, maybeRecordSchema, nodeStatusSchema, paramsSchema,
  sentSchema, validatorsSchema, type Account, type Asset, type BankParams, type Head, type JsonRecord, type NodeStatus,
  type RpcErrorObject, type Validators,
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

/** A JSON-RPC 2.0 client for the node (docs/json-rpc.md) over global fetch; every failure is a CliError. */
export class RpcClient {
  private nextId = 1;
  readonly url: string;

  constructor(
    private readonly opts: RpcClientOptions,
    private readonly deps: RpcClientDeps = { fetch: globalThis.fetch },
  ) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw usage(`--rpc "${opts.url}" is not a URL: pass one like http://127.0.0.1:8545`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usage(`--rpc "${opts.url}" must be an http:// or https:// URL`);
    this.url = opts.url;
  }

  async call<T>(method: string, params: unknown[], schema: z.ZodType<T>): Promise<T> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params });
    let json: unknown;
    let status = 0;
    try {
      const res = await this.deps.fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}) },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      status = res.status;
      const text = await res.text();
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    } catch (e) {
      throw this.transportError(e);
    }
    const env = envelopeSchema.safeParse(json);
    if (!env.success) {
      throw new CliError(ExitCode.NodeError, `${this.url} answered HTTP ${status} without a JSON-RPC response: is --rpc pointing at a Metanode node?`);
    }
    if ('error' in env.data) throw rpcErrorToCli(method, env.data.error);
    const result = schema.safeParse(env.data.result);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      throw new CliError(ExitCode.NodeError, `the node answered ${method} with an unexpected result${where} (${issue?.message ?? 'invalid'}): is the node the same version as metanode-cli?`);
    }
    return result.data;
  }

  private transportError(e: unknown): CliError {
    const name = (e as { name?: string })?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      const s = Math.round(this.opts.timeoutMs / 1000);
      return new CliError(ExitCode.NodeUnreachable, `the node at ${this.url} did not answer within ${s}s: is it overloaded or stuck? retry, or pass --rpc`);
    }
    return new CliError(ExitCode.NodeUnreachable, `cannot reach the node at ${this.url}: is it running? start it with npm start or pass --rpc`);
  }

  chainId = (): Promise<string> => this.call('chain_getChainId', [], chainIdSchema);
  head = (): Promise<Head> => this.call('chain_getHead', [], headSchema);
  blockByHeight = (h: number | 'latest', full = false): Promise<JsonRecord | null> => this.call('chain_getBlockByHeight', [h, full], maybeRecordSchema);
  blockByHash = (hash: string, full = false): Promise<JsonRecord | null> => this.call('chain_getBlockByHash', [hash, full], maybeRecordSchema);
  transaction = (hash: string): Promise<JsonRecord | null> => this.call('chain_getTransaction', [hash], maybeRecordSchema);
  receipt = (hash: string): Promise<JsonRecord | null> => this.call('chain_getReceipt', [hash], maybeRecordSchema);
  validators = (): Promise<Validators> => this.call('chain_getValidators', [], validatorsSchema);
  account = (address: string): Promise<Account> => this.call('state_getAccount', [address], accountSchema);
  assets = (): Promise<Asset[]> => this.call('bank_getAssets', [], assetsSchema);
  bankParams = (): Promise<BankParams> => this.call('bank_getParams', [], paramsSchema);
  sendRaw = async (rawHex: string): Promise<string> => (await this.call('tx_send', [rawHex], sentSchema)).hash;
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
