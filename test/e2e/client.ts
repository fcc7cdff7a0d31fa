/**
 * A tiny JSON-RPC 2.0 client over fetch, and the shapes of Metanode's answers on the wire
 * (written from docs/json-rpc.md, not imported from rpc/, so the tests check the wire format).
 */

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: Record<string, unknown> & { reason?: string; param?: string };
}

export interface JsonRpcResponse<T = unknown> {
  jsonrpc: '2.0';
  id: number | string | null;
  result?: T;
  error?: JsonRpcErrorObject;
}

/** A JSON-RPC error answer, thrown by RpcClient.call. */
export class RpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly error: JsonRpcErrorObject,
  ) {
    super(`${method}: ${error.code} ${error.message}${error.data ? ` ${JSON.stringify(error.data)}` : ''}`);
    this.name = 'RpcCallError';
  }
}

export interface HttpAnswer {
  status: number;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  json: unknown;
}

export interface BatchCall {
  method: string;
  params?: unknown;
}

const MAX_RATE_RETRIES = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long to wait before sending a call the node's rate limit refused again; undefined if it was not refused so. */
function rateLimitedFor(error: JsonRpcErrorObject | undefined): number | undefined {
  if (!error || error.code !== -32005 || typeof error.data?.limit !== 'string' || !error.data.limit.startsWith('rpc.rateLimits.')) return undefined;
  const ms = error.data.retryAfterMs;
  return (typeof ms === 'number' ? ms : 1000) + 5;
}

export class RpcClient {
  private nextId = 1;
  constructor(public url: string) {}

  /** POSTs a body as is: a string is sent verbatim, anything else as JSON. */
  async post(body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  }

  /** One request; its whole response object (result or error). */
  async request<T = unknown>(method: string, params?: unknown): Promise<JsonRpcResponse<T>> {
    const id = this.nextId++;
    const a = await this.post({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    const r = a.json as JsonRpcResponse<T>;
    // 429: a call refused by a rate limit, answered with its JSON-RPC error.
    if ((a.status !== 200 && a.status !== 429) || !r || r.id !== id) throw new Error(`${method}: unexpected answer HTTP ${a.status}: ${a.text.slice(0, 300)}`);
    return r;
  }

  /**
   * The result, or a thrown RpcCallError. A call refused by the node's rate limit is made again
   * after the wait the node names, as a well-behaved client does (tests read a lot, fast).
   */
  async call<T = unknown>(method: string, params?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.request<T>(method, params);
      const wait = rateLimitedFor(r.error);
      if (wait !== undefined && attempt < MAX_RATE_RETRIES) {
        await sleep(wait);
        continue;
      }
      if (r.error) throw new RpcCallError(method, r.error);
      return r.result as T;
    }
  }

  /** The error of a call that must fail (throws if it succeeds). */
  async callError(method: string, params?: unknown): Promise<JsonRpcErrorObject> {
    const r = await this.request(method, params);
    if (!r.error) throw new Error(`${method}(${JSON.stringify(params)}) was expected to fail but returned ${JSON.stringify(r.result)}`);
    return r.error;
  }

  /** A batch; the responses in the order of `calls` (matched by id). */
  async batch<T = unknown>(calls: BatchCall[]): Promise<JsonRpcResponse<T>[]> {
    if (calls.length === 0) return [];
    const first = this.nextId;
    this.nextId += calls.length;
    const a = await this.post(calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, ...(c.params === undefined ? {} : { params: c.params }) })));
    if (a.status !== 200 || !Array.isArray(a.json)) throw new Error(`batch: unexpected answer HTTP ${a.status}: ${a.text.slice(0, 300)}`);
    const byId = new Map((a.json as JsonRpcResponse<T>[]).map((r) => [r.id, r]));
    return calls.map((c, i) => {
      const r = byId.get(first + i);
      if (!r) throw new Error(`batch: no response for ${c.method} (id ${first + i})`);
      return r;
    });
  }

  /**
   * A batch whose calls must all succeed; their results in order. Large batches are split; calls
   * refused by the node's rate limit are sent again after the wait it names.
   */
  async batchResults<T = unknown>(calls: BatchCall[], chunk = 500): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < calls.length; i += chunk) {
      const part = calls.slice(i, i + chunk);
      const results = new Array<T>(part.length);
      let todo = part.map((_, j) => j);
      for (let attempt = 0; todo.length > 0; attempt++) {
        const rs = await this.batch<T>(todo.map((j) => part[j]!));
        const again: number[] = [];
        let wait = 0;
        rs.forEach((r, k) => {
          const j = todo[k]!;
          const w = rateLimitedFor(r.error);
          if (w !== undefined && attempt < MAX_RATE_RETRIES) {
            again.push(j);
            wait = Math.max(wait, w);
          } else if (r.error) throw new RpcCallError(part[j]!.method, r.error);
          else results[j] = r.result as T;
        });
        if (again.length) await sleep(wait);
        todo = again;
      }
      out.push(...results);
    }
    return out;
  }
}

export type Asset = 'GEN' | 'NEX' | 'FLX' | 'AUR';
export const ASSET_SYMBOLS: readonly Asset[] = ['GEN', 'NEX', 'FLX', 'AUR'];
export type Balances = Record<Asset, string>;

export interface HeadJson {
  height: number;
  hash: string;
  stateRoot: string;
  timestamp: number;
}

export interface TxJson {
  hash: string;
  chainId: string;
  nonce: number;
  from: string;
  senderPublicKey: string;
  fee: string;
  kind: string;
  payload: string;
  args: Record<string, string> | null;
  signature: string;
  size: number;
  blockHeight?: number;
  blockHash?: string;
  index?: number;
}

export interface CertificateJson {
  height: number;
  round: number;
  blockHash: string;
  signers: number[];
  signersBitmap: string;
  signature: string;
}

export interface BlockJson<Tx = string | TxJson> {
  hash: string;
  version: number;
  chainId: string;
  height: number;
  parentHash: string;
  timestamp: number;
  proposer: string;
  txRoot: string;
  receiptsRoot: string;
  eventsRoot: string;
  stateRoot: string;
  validatorsHash: string;
  nextValidatorsHash: string;
  lastCommit: { height: number; round: number; blockHash: string; signers: number[] } | null;
  transactionCount: number;
  transactions: Tx[];
  certificate: CertificateJson | null;
}

export interface EventJson {
  module: string;
  type: string;
  attributes: Record<string, string>;
}

export interface ReceiptJson {
  txHash: string;
  blockHeight: number;
  blockHash: string;
  index: number;
  status: 'success' | 'failed';
  errorCode: string | null;
  errorMessage: string | null;
  fee: string;
  events: EventJson[];
}

export interface ValidatorsJson {
  height: number;
  hash: string;
  quorum: string;
  totalPower: string;
  validators: { address: string; publicKey: string; blsPublicKey: string; power: string }[];
}

export interface AccountJson {
  address: string;
  height: number;
  nonce: number;
  balances: Balances;
}

export interface ProofJson {
  height: number;
  blockHash: string;
  stateRoot: string;
  key: string;
  value: string | null;
  /** 1: the sparse Merkle tree's proof; 2: the entry log's (chain/versionedproof.ts). */
  proofFormat: number;
  proof: unknown;
}

export interface AssetJson {
  symbol: Asset;
  decimals: number;
  supply: string;
}

export interface NodeStatusJson {
  version: string;
  chainId: string;
  head: { height: number; hash: string; timestamp: number };
  syncing: boolean;
  validator: string | null;
  peers: number;
  mempool: { size: number; bytes: number };
}
