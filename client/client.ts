import * as z from 'zod';
import { addressFromPublicKey, formatAddress } from '../chain/address.js';
import { toHex } from '../chain/bytes.js';
import { Transaction } from '../chain/transaction.js';
import { ClientError, ClientErrorCode } from './errors.js';
import {
  accountSchema, accountTransactionsSchema, assetsSchema, blockSchema, bankParamsSchema, headSchema, lightBlockSchema, nodeStatusSchema, receiptSchema, sentSchema,
  simulationSchema, stateProofAnswerSchema, transactionProofSchema, transactionSchema, validatorsSchema,
  type Account, type AccountTransactionsJson, type AssetJson, type BlockJson, type BankParams, type Head, type LightBlockJson, type NodeStatus, type ReceiptJson,
  type Simulation, type StateProofAnswer, type TransactionJson, type TransactionProofJson, type ValidatorsJson,
} from './schemas.js';
import type { Signer } from './signer.js';
import { HttpTransport, type Call, type HttpTransportOptions, type Settled, type Transport } from './transport.js';
import { WsTransport, type SubscribeOptions, type Subscription, type SubscriptionFilter, type SubscriptionKind, type WsTransportOptions } from './ws.js';
import { baseUnits, type TxIntent } from './tx.js';

/** A height to read at: a number, or "latest" (the head). */
export type HeightArg = number | 'latest';

const bytesArg = (v: Uint8Array | string): string => (typeof v === 'string' ? v : toHex(v));

/** What sendTransaction sends: a module's intent, and optionally the fee and nonce (default: the chain's minimum fee, the account's next nonce). */
export interface SendOptions {
  fee?: bigint | string;
  nonce?: bigint | number;
}

/**
 * A typed client of a Metanode node's JSON-RPC (docs/json-rpc.md, docs/client.md): one method per
 * RPC method, every answer checked against its documented shape, every failure a ClientError
 * (RpcResponseError with the node's `reason` for a refused call). Reads answer what the node
 * says; the LightClient (light.ts) checks them against headers it verified.
 */
export class MetanodeClient {
  readonly transport: Transport;
  private chain?: string;
  private ws: WsTransport | undefined;

  /**
   * A URL (http(s):// for calls over HTTP, ws(s):// for calls over one WebSocket), transport
   * options, or a transport. Subscriptions always go over a WebSocket: for an HTTP client, one
   * opened on first use to the same host and port.
   */
  constructor(opts: HttpTransportOptions | WsTransportOptions | Transport | string) {
    const o = typeof opts === 'string' ? { url: opts } : opts;
    if ('request' in o) this.transport = o;
    else if (/^wss?:/i.test(o.url)) this.transport = new WsTransport(o);
    else this.transport = new HttpTransport(o);
    if (this.transport instanceof WsTransport) this.ws = this.transport;
    this.wsOptions = 'request' in o ? undefined : o;
  }

  private readonly wsOptions: HttpTransportOptions | WsTransportOptions | undefined;

  /**
   * A subscription (docs/json-rpc.md "Subscriptions") as an async iterator of its notifications:
   * `for await (const head of await client.subscribe('newHeads'))`. Reconnects by itself;
   * `newHeads` fills in the heights it missed while away.
   */
  subscribe<T = unknown>(kind: SubscriptionKind, filter?: SubscriptionFilter, opts?: SubscribeOptions): Promise<Subscription<T>> {
    if (!this.ws) {
      const url = new URL(this.transport.url);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const { timeoutMs, token } = (this.wsOptions ?? {}) as { timeoutMs?: number; token?: string };
      this.ws = new WsTransport({ url: url.toString(), ...(timeoutMs ? { timeoutMs } : {}), ...(token ? { token } : {}) });
    }
    return this.ws.subscribe<T>(kind, filter, opts);
  }

  /** Closes the WebSocket (if one is open): subscriptions end. An HTTP client holds nothing else open. */
  async close(): Promise<void> {
    await this.ws?.close();
  }

  /** Any method, its result checked by `schema` (default: unchecked). */
  async call<T = unknown>(method: string, params: unknown[] = [], schema?: z.ZodType<T>): Promise<T> {
    const result = await this.transport.request(method, params);
    return schema ? this.check(method, schema, result) : (result as T);
  }

  /** Several calls in one HTTP round trip; one outcome per call, in order (results unchecked). */
  batch(calls: readonly Call[]): Promise<Settled[]> {
    return this.transport.batch(calls);
  }

  private check<T>(method: string, schema: z.ZodType<T>, result: unknown): T {
    const r = schema.safeParse(result);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ClientError(ClientErrorCode.BadResponse, `the node answered ${method} with an unexpected result${where} (${issue?.message ?? 'invalid'}): is it the same version as this client?`, { method });
  }

  // chain_
  /** The chain id (cached after the first call). */
  async chainId(): Promise<string> {
    return (this.chain ??= await this.call('chain_getChainId', [], z.string()));
  }
  head = (): Promise<Head> => this.call('chain_getHead', [], headSchema);
  block = (height: HeightArg, fullTransactions = false): Promise<BlockJson | null> => this.call('chain_getBlockByHeight', [height, fullTransactions], blockSchema.nullable());
  blockByHash = (hash: string, fullTransactions = false): Promise<BlockJson | null> => this.call('chain_getBlockByHash', [hash, fullTransactions], blockSchema.nullable());
  transaction = (hash: string): Promise<TransactionJson | null> => this.call('chain_getTransaction', [hash], transactionSchema.nullable());
  receipt = (hash: string): Promise<ReceiptJson | null> => this.call('chain_getReceipt', [hash], receiptSchema.nullable());
  validators = (height: HeightArg = 'latest'): Promise<ValidatorsJson | null> => this.call('chain_getValidators', [height], validatorsSchema.nullable());
  lightBlock = (height: HeightArg): Promise<LightBlockJson | null> => this.call('chain_getLightBlock', [height], lightBlockSchema.nullable());
  /** Checks a chain_getLightBlock result got some other way (a batch). */
  checkLightBlock = (result: unknown): LightBlockJson | null => this.check('chain_getLightBlock', lightBlockSchema.nullable(), result);
  transactionProof = (hash: string): Promise<TransactionProofJson | null> => this.call('chain_getTransactionProof', [hash], transactionProofSchema.nullable());
  accountTransactions = (address: string, page: { limit?: number; before?: string } = {}): Promise<AccountTransactionsJson> =>
    this.call('chain_getAccountTransactions', [address, page], accountTransactionsSchema);

  // state_, bank_, module_query
  account = (address: string, height: HeightArg = 'latest'): Promise<Account> => this.call('state_getAccount', [address, height], accountSchema);
  stateProof = (key: Uint8Array | string, height: HeightArg = 'latest'): Promise<StateProofAnswer> => this.call('state_getProof', [bytesArg(key), height], stateProofAnswerSchema);
  assets = (): Promise<AssetJson[]> => this.call('bank_getAssets', [], assetsSchema);
  bankParams = (): Promise<BankParams> => this.call('bank_getParams', [], bankParamsSchema);
  moduleQuery = (module: string, query: string, params: Record<string, unknown> = {}, height: HeightArg = 'latest'): Promise<unknown> =>
    this.call('module_query', [module, query, params, height]);

  // node_
  status = (): Promise<NodeStatus> => this.call('node_status', [], nodeStatusSchema);

  // tx_
  /** Submits signed bytes (or a Transaction); its hash once the mempool admitted it. RpcResponseError (-32001, reason) if refused. */
  async sendRaw(tx: Uint8Array | string | Transaction): Promise<string> {
    const raw = tx instanceof Transaction ? toHex(tx.serialize()) : bytesArg(tx);
    return (await this.call('tx_send', [raw], sentSchema)).hash;
  }

  /** A dry run of signed (or zero-signature) bytes on the head's state: the receipt it would get. */
  simulateRaw = (tx: Uint8Array | string | Transaction): Promise<Simulation> =>
    this.call('tx_simulate', [tx instanceof Transaction ? toHex(tx.serialize()) : bytesArg(tx)], simulationSchema);

  /**
   * Builds and signs a transaction for `intent`: the chain id, the account's next nonce (or
   * `opts.nonce`) and the chain's minimum fee (or `opts.fee`).
   */
  async prepare(signer: Signer, intent: TxIntent, opts: SendOptions = {}): Promise<Transaction> {
    const { chainId, nonce, fee } = await this.envelope(signer.addressText, opts);
    return signer.sign({ chainId, nonce, fee, kind: intent.kind, payload: intent.payload });
  }

  /** What a transaction from `address` is signed with: the chain id, its nonce and fee (the account's next and the chain's minimum unless given), read at once. */
  private async envelope(address: string, opts: SendOptions): Promise<{ chainId: string; nonce: bigint; fee: bigint }> {
    const [chainId, nonce, fee] = await Promise.all([
      this.chainId(),
      opts.nonce === undefined ? this.account(address).then((a) => BigInt(a.nonce)) : Promise.resolve(BigInt(opts.nonce)),
      opts.fee === undefined ? this.bankParams().then((p) => BigInt(p.minFee)) : Promise.resolve(baseUnits(opts.fee, 'fee')),
    ]);
    return { chainId, nonce, fee };
  }

  /** prepare, then tx_send: the transaction, once admitted (its hash is transaction.hash()). */
  async send(signer: Signer, intent: TxIntent, opts: SendOptions = {}): Promise<Transaction> {
    const tx = await this.prepare(signer, intent, opts);
    const hash = await this.sendRaw(tx);
    if (hash.toLowerCase() !== toHex(tx.hash())) throw new ClientError(ClientErrorCode.BadResponse, `the node answered with hash ${hash} for transaction ${toHex(tx.hash())}`);
    return tx;
  }

  /**
   * A dry run of `intent` from the signer's account, unsigned (a zero signature: the key signs
   * nothing). The receipt it would get; RpcResponseError where no block could hold it.
   */
  async simulate(from: Signer | { publicKey: Uint8Array }, intent: TxIntent, opts: SendOptions = {}): Promise<Simulation> {
    const { chainId, nonce, fee } = await this.envelope(formatAddress(addressFromPublicKey(from.publicKey)), opts);
    const tx = new Transaction({ chainId, nonce, sender: from.publicKey, fee, kind: intent.kind, payload: intent.payload, signature: new Uint8Array(64) });
    return this.simulateRaw(tx);
  }

  /** Polls for a transaction's receipt until it is committed; ClientError NotCommitted after `timeoutMs` (default 60 s). */
  async waitForReceipt(hash: string | Transaction, o: { timeoutMs?: number; pollMs?: number } = {}): Promise<ReceiptJson> {
    const h = typeof hash === 'string' ? hash : toHex(hash.hash());
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    for (;;) {
      const r = await this.receipt(h);
      if (r) return r;
      if (Date.now() > deadline) throw new ClientError(ClientErrorCode.NotCommitted, `transaction ${h} was not committed within ${Math.round((o.timeoutMs ?? 60_000) / 1000)} s`, { hash: h });
      await new Promise((res) => setTimeout(res, o.pollMs ?? 250));
    }
  }
}
