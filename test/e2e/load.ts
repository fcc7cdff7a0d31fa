/**
 * A load generator: dev accounts sending each other bank transfers as fast as blocks take them,
 * one JSON-RPC batch per round (one transfer per account). Some transfers overdraw on purpose
 * (they commit as failed receipts that only charge the fee). It survives the node going away:
 * network errors pause it briefly and make it re-read nonces from state before going on.
 */
import { toHex, type Transaction } from '../../chain/index.js';
import type { Asset, RpcClient } from './client.js';
import { devAddress, getAccount, MIN_FEE, rawHex, signTransfer } from './txs.js';

export interface LoadOptions {
  chainId: string;
  /** Dev account indices that send; recipients are drawn from the same set. */
  accounts: number[];
  /** A random number in [0, 1): pass a seeded one for reproducible runs. */
  random?: () => number;
  /** Pause between rounds (ms). */
  intervalMs?: number;
  /** Share of transfers that ask for more than the sender has. */
  overdrawShare?: number;
}

/** mulberry32: a small seeded PRNG for reproducible "random" tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ASSETS: Asset[] = ['GEN', 'NEX', 'FLX', 'AUR'];

export class TransferLoad {
  /** Every transaction tx_send accepted, by hash. */
  readonly accepted = new Map<string, Transaction>();
  /**
   * Sent in a round that got no answer (the node went away mid-request): each may or may not
   * have been admitted, and so may or may not be committed.
   */
  readonly inDoubt = new Map<string, Transaction>();
  /** Rejections by data.reason (nonce ones are expected right after a node restart). */
  readonly rejected = new Map<string, number>();
  networkErrors = 0;
  rounds = 0;
  private readonly nonces = new Map<number, bigint>();
  private readonly random: () => number;
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly rpc: RpcClient,
    private readonly opts: LoadOptions,
  ) {
    this.random = opts.random ?? Math.random;
  }

  get running(): boolean {
    return this.loop !== undefined;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run().finally(() => (this.loop = undefined));
  }

  /** Stops after the round in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    let synced = false;
    while (!this.stopping) {
      try {
        if (!synced) {
          await this.syncNonces();
          synced = true;
        }
        synced = await this.round();
        this.rounds++;
      } catch {
        this.networkErrors++;
        synced = false;
        await sleep(50);
      }
      await sleep(this.opts.intervalMs ?? 5);
    }
  }

  private async syncNonces(): Promise<void> {
    for (const i of this.opts.accounts) this.nonces.set(i, BigInt((await getAccount(this.rpc, devAddress(i))).nonce));
  }

  /** One transfer per account in one batch; false when nonces need re-reading. */
  private async round(): Promise<boolean> {
    const txs = this.opts.accounts.map((i) => this.transfer(i));
    let res;
    try {
      res = await this.rpc.batch<{ hash: string }>(txs.map((tx) => ({ method: 'tx_send', params: [rawHex(tx)] })));
    } catch (e) {
      for (const tx of txs) this.inDoubt.set(toHex(tx.hash()), tx);
      throw e;
    }
    let ok = true;
    res.forEach((r, k) => {
      const tx = txs[k]!;
      const i = this.opts.accounts[k]!;
      if (r.error) {
        const reason = String(r.error.data?.reason ?? r.error.code);
        this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
        ok = false;
        return;
      }
      if (r.result?.hash !== toHex(tx.hash())) throw new Error(`tx_send answered ${JSON.stringify(r.result)} for ${toHex(tx.hash())}`);
      this.accepted.set(r.result.hash, tx);
      this.nonces.set(i, this.nonces.get(i)! + 1n);
    });
    return ok;
  }

  private transfer(from: number): Transaction {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(this.random() * xs.length)]!;
    const asset = pick(ASSETS);
    const overdraw = this.random() < (this.opts.overdrawShare ?? 0.1);
    // A dev account holds 10^6 whole units; 10^15 base units is more than any of them has.
    const amount = overdraw ? 10n ** 15n : BigInt(1 + Math.floor(this.random() * 100_000));
    return signTransfer({
      chainId: this.opts.chainId,
      from,
      to: pick(this.opts.accounts),
      asset,
      amount,
      nonce: this.nonces.get(from)!,
      fee: MIN_FEE + BigInt(Math.floor(this.random() * 1000)),
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
