import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blake3 } from '@noble/hashes/blake3.js';
import {
  addressFromPublicKey, decodeTransaction, Ed25519Key, formatAddress, fromHex, toHex, utf8, type Transaction,
} from '../../../chain/index.js';
import { decodeTransfer, TRANSFER_KIND } from '../../../vm/modules/bank/codec.js';
import { resultSchemas } from '../../../client/schemas.js';

/** Dev account i: Ed25519 secret = BLAKE3(utf8("metanode-dev-account-" + i)), as `metanode init --dev` makes them. */
export function devKey(i: number): Ed25519Key {
  return Ed25519Key.fromSecret(blake3(utf8(`metanode-dev-account-${i}`)));
}

export const devAddress = (i: number): string => formatAddress(addressFromPublicKey(devKey(i).publicKey));

export const ASSETS = [
  { symbol: 'GEN', decimals: 6 },
  { symbol: 'NEX', decimals: 6 },
  { symbol: 'FLX', decimals: 9 },
  { symbol: 'AUR', decimals: 2 },
];

interface Account { nonce: number; balances: Record<string, bigint> }
interface Committed { tx: Transaction; receipt: Record<string, unknown>; height: number; index: number }

class RpcFail extends Error {
  constructor(readonly code: number, message: string, readonly reason?: string) {
    super(message);
  }
}

/**
 * A hand-written stand-in for the node's JSON-RPC (docs/json-rpc.md, shapes as rpc/format.ts makes them): in-memory accounts, each
 * accepted transaction committed in its own block after `commitDelayMs`. Enough to drive the CLI.
 * Every answer is checked against the schema the client library (and the CLI) check the real
 * node's answers with (client/schemas.ts): the stand-in cannot drift from the node's shapes.
 */
export class FakeNode {
  readonly chainId = 'metanode-test';
  readonly minFee = 1000n;
  readonly accounts = new Map<string, Account>();
  readonly committed = new Map<string, Committed>();
  readonly blocks: { height: number; hash: string; timestamp: number; txs: string[] }[] = [];
  readonly calls: string[] = [];
  commitDelayMs = 50;
  /** Report nonces one behind, as a node that lags would: the next transaction gets TX_NONCE_TOO_LOW. */
  staleNonces = false;
  /** Fail every transfer at execution, as a spend racing this one would. */
  failTransfers = false;
  private server!: Server;
  url = '';

  static async start(funded: Record<string, Record<string, bigint>>): Promise<FakeNode> {
    const n = new FakeNode();
    for (const [addr, balances] of Object.entries(funded)) n.accounts.set(addr, { nonce: 0, balances: { ...balances } });
    n.addBlock([]);
    n.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] };
        n.calls.push(method);
        let out: object;
        try {
          const result = n.handle(method, params);
          const shape = resultSchemas[method]?.safeParse(result);
          if (shape && !shape.success) throw new Error(`the fake node's ${method} answer is not the node's shape: ${shape.error.message}`);
          out = { jsonrpc: '2.0', id, result };
        } catch (e) {
          const f = e instanceof RpcFail ? e : new RpcFail(-32603, (e as Error).message);
          out = { jsonrpc: '2.0', id, error: { code: f.code, message: f.message, ...(f.reason ? { data: { reason: f.reason } } : {}) } };
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      });
    });
    await new Promise<void>((r) => n.server.listen(0, '127.0.0.1', r));
    n.url = `http://127.0.0.1:${(n.server.address() as AddressInfo).port}`;
    return n;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  account(addr: string): Account {
    let a = this.accounts.get(addr);
    if (!a) this.accounts.set(addr, (a = { nonce: 0, balances: {} }));
    return a;
  }

  private addBlock(txs: string[]): number {
    const height = this.blocks.length;
    this.blocks.push({ height, hash: toHex(blake3(utf8(`block-${height}`))), timestamp: Date.now(), txs });
    return height;
  }

  private blockJson(b: FakeNode['blocks'][number] | undefined): object | null {
    if (!b) return null;
    const zero = toHex(new Uint8Array(32));
    const parentHash = this.blocks[b.height - 1]?.hash ?? zero;
    const roots = { txRoot: zero, receiptsRoot: zero, eventsRoot: zero, stateRoot: b.hash, validatorsHash: zero, nextValidatorsHash: zero };
    const certificate = { height: b.height, round: 0, blockHash: b.hash, signers: [0], signersBitmap: '0x01', signature: toHex(new Uint8Array(96)) };
    return { hash: b.hash, version: 1, chainId: this.chainId, height: b.height, parentHash, timestamp: b.timestamp, proposer: devAddress(9), ...roots, lastCommit: null, transactionCount: b.txs.length, transactions: b.txs, certificate };
  }

  private handle(method: string, p: unknown[]): unknown {
    switch (method) {
      case 'chain_getChainId': return this.chainId;
      case 'chain_getHead': { const b = this.blocks.at(-1)!; return { height: b.height, hash: b.hash, stateRoot: b.hash, timestamp: b.timestamp }; }
      case 'chain_getBlockByHeight': return this.blockJson(p[0] === 'latest' ? this.blocks.at(-1) : this.blocks[p[0] as number]);
      case 'chain_getBlockByHash': return this.blockJson(this.blocks.find((b) => b.hash === p[0]));
      case 'chain_getTransaction': {
        const c = this.committed.get(p[0] as string);
        if (!c) return null;
        const t = c.tx;
        return {
          hash: toHex(t.hash()), chainId: t.chainId, nonce: Number(t.nonce), from: formatAddress(t.from()), senderPublicKey: toHex(t.sender), fee: t.fee.toString(), kind: t.kind, payload: toHex(t.payload),
          args: null, signature: toHex(t.signature), size: t.serialize().length, blockHeight: c.height, blockHash: this.blocks[c.height]!.hash, index: c.index,
        };
      }
      case 'chain_getReceipt': return this.committed.get(p[0] as string)?.receipt ?? null;
      case 'chain_getValidators': return { height: this.blocks.length - 1, hash: toHex(new Uint8Array(32)), quorum: '7', totalPower: '10', validators: [{ address: devAddress(9), publicKey: toHex(devKey(9).publicKey), blsPublicKey: '0x', power: '10' }] };
      case 'state_getAccount': {
        const a = this.accounts.get(p[0] as string) ?? { nonce: 0, balances: {} };
        return { address: p[0], height: this.blocks.length - 1, nonce: Math.max(0, a.nonce - (this.staleNonces ? 1 : 0)), balances: Object.fromEntries(ASSETS.map((x) => [x.symbol, (a.balances[x.symbol] ?? 0n).toString()])) };
      }
      case 'bank_getAssets': return ASSETS.map((a) => ({ ...a, supply: '0' }));
      case 'bank_getParams': return { minFee: this.minFee.toString(), feeAsset: 'NEX' };
      case 'node_status': { const b = this.blocks.at(-1)!; return { version: '0.0.0-fake', chainId: this.chainId, head: { height: b.height, hash: b.hash, timestamp: b.timestamp }, syncing: false, validator: null, validators: 1, peers: 0, mempool: { size: 0, bytes: 0 } }; }
      case 'tx_send': return { hash: this.accept(p[0] as string) };
      default: throw new RpcFail(-32601, `method ${method} not found`);
    }
  }

  private accept(raw: string): string {
    let tx: Transaction;
    try {
      tx = decodeTransaction(fromHex(raw));
    } catch (e) {
      throw new RpcFail(-32001, (e as Error).message, 'TX_MALFORMED');
    }
    if (!tx.verifySignature()) throw new RpcFail(-32001, 'bad signature', 'TX_BAD_SIGNATURE');
    if (tx.chainId !== this.chainId) throw new RpcFail(-32001, 'wrong chain', 'TX_WRONG_CHAIN');
    const from = this.account(formatAddress(tx.from()));
    if (tx.nonce < BigInt(from.nonce)) throw new RpcFail(-32001, `nonce ${tx.nonce} < ${from.nonce}`, 'TX_NONCE_TOO_LOW');
    if (tx.nonce > BigInt(from.nonce)) throw new RpcFail(-32001, `nonce ${tx.nonce} > ${from.nonce}`, 'TX_NONCE_TOO_HIGH');
    if (tx.fee < this.minFee) throw new RpcFail(-32001, 'fee too low', 'TX_FEE_TOO_LOW');
    if ((from.balances.NEX ?? 0n) < tx.fee) throw new RpcFail(-32001, 'cannot pay the fee', 'TX_INSUFFICIENT_FEE_FUNDS');
    from.nonce++;
    const hash = toHex(tx.hash());
    setTimeout(() => this.commit(tx, from), this.commitDelayMs);
    return hash;
  }

  private commit(tx: Transaction, from: Account): void {
    const hash = toHex(tx.hash());
    from.balances.NEX = (from.balances.NEX ?? 0n) - tx.fee;
    let errorCode = '';
    const events: unknown[] = [];
    if (tx.kind === TRANSFER_KIND) {
      const t = decodeTransfer(tx.payload);
      if (this.failTransfers || (from.balances[t.asset] ?? 0n) < t.amount) errorCode = 'BANK_INSUFFICIENT_FUNDS';
      else {
        from.balances[t.asset] = (from.balances[t.asset] ?? 0n) - t.amount;
        const to = this.account(formatAddress(t.to));
        to.balances[t.asset] = (to.balances[t.asset] ?? 0n) + t.amount;
        events.push({ module: 'bank', type: 'transfer', attributes: { from: formatAddress(tx.from()), to: formatAddress(t.to), asset: t.asset, amount: t.amount.toString() } });
      }
    }
    const height = this.addBlock([hash]);
    const receipt = {
      txHash: hash, status: errorCode ? 'failed' : 'success', errorCode: errorCode || null, errorMessage: errorCode ? 'not enough funds' : null, fee: tx.fee.toString(), events,
      blockHeight: height, blockHash: this.blocks[height]!.hash, index: 0,
    };
    this.committed.set(hash, { tx, receipt, height, index: 0 });
  }
}
