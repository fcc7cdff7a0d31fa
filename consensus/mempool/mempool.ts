import type { Logger } from 'pino';
import { decodeTransaction, toHex, toKey, type Transaction } from '../../chain/index.js';
import { TxError, nonceOf, type FeeHandler, type ModuleRegistry, type StateReader } from '../../vm/index.js';
import { inlineVerifier, type SignatureVerifier } from '../verifier/index.js';
import { Heap } from './heap.js';
import { MempoolError, RejectReason } from './errors.js';
import { defaultMempoolOptions, type MempoolOptions } from './options.js';

interface Entry {
  tx: Transaction;
  size: number;
  seq: number;
}

/** What admission read from the committed state for a sender, and at which state version. */
interface AccountView {
  version: number;
  minFee: bigint;
  nonce: bigint;
  feeBalance: bigint;
}

interface SenderQueue {
  byNonce: Map<bigint, Entry>;
  feeSum: bigint;
}

export interface MempoolDeps {
  chainId: string;
  registry: ModuleRegistry;
  fees: FeeHandler;
  /** The committed state at the head (its version changes whenever a block is applied). */
  state: () => StateReader & { readonly version: number };
  logger: Logger;
  /** Where addRawAsync and preverify check signatures (default: on this thread). */
  verifier?: SignatureVerifier;
}

/** Signatures verified for proposals' transactions that were not in the pool. */
const VERIFIED_CACHE_MAX = 200_000;

/**
 * Transactions waiting for a block. Admission checks everything that can be checked before
 * execution, cheapest first, and each refusal carries a reason. A transaction in the pool has a
 * verified signature, so block execution need not verify it again.
 */
export class Mempool {
  private readonly opts: MempoolOptions;
  private readonly byHash = new Map<string, Entry>();
  private readonly bySender = new Map<string, SenderQueue>();
  private bytes = 0;
  private seq = 0;
  private readonly listeners: ((tx: Transaction) => void)[] = [];
  /** Transactions whose signatures are being checked by addRawAsync. */
  private readonly verifying = new Set<string>();
  private readonly verifiedElsewhere = new Set<string>();
  private readonly verifier: SignatureVerifier;
  /** How many pooled transactions pay each fee: the cheapest is found without a scan. */
  private readonly feeCounts = new Map<bigint, number>();

  constructor(
    opts: Partial<MempoolOptions>,
    private readonly deps: MempoolDeps,
  ) {
    this.opts = { ...defaultMempoolOptions, ...opts };
    this.verifier = deps.verifier ?? inlineVerifier;
  }

  get size(): number {
    return this.byHash.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Called (synchronously) with each admitted transaction. */
  onAdded(listener: (tx: Transaction) => void): void {
    this.listeners.push(listener);
  }

  has(hash: Uint8Array): boolean {
    return this.byHash.has(toKey(hash));
  }

  /** True when this exact transaction (signature included) passed admission. */
  isVerified = (tx: Transaction): boolean => {
    const k = tx.key;
    return this.byHash.has(k) || this.verifiedElsewhere.has(k);
  };

  /**
   * The pooled copy of a transaction with this hash key (Transaction.key), if any: a block
   * decoded from the network can execute the pool's objects, whose hashes, addresses and
   * decoded payloads are already computed.
   */
  pooled(key: string): Transaction | undefined {
    return this.byHash.get(key)?.tx;
  }

  /** Decodes and admits raw bytes; throws MempoolError with the reason. */
  addRaw(raw: Uint8Array): Transaction {
    const tx = this.decode(raw);
    this.add(tx, raw.length);
    return tx;
  }

  /**
   * addRaw with the signature checked by the verifier (worker threads) instead of on this thread:
   * every other check runs before (to refuse early) and again after (the state may have moved).
   */
  async addRawAsync(raw: Uint8Array): Promise<Transaction> {
    const [r] = await this.addRawBatchAsync([raw]);
    if (r instanceof MempoolError) throw r;
    return r!;
  }

  /**
   * addRawAsync for many transactions at once (a JSON-RPC batch, a gossiped batch): one answer per
   * encoding, in order — the admitted transaction or the MempoolError that refused it. Their
   * signatures go to the verifier together.
   */
  async addRawBatchAsync(raws: readonly Uint8Array[]): Promise<(Transaction | MempoolError)[]> {
    const out = new Array<Transaction | MempoolError>(raws.length);
    const checked: { at: number; tx: Transaction; size: number; account: AccountView }[] = [];
    raws.forEach((raw, at) => {
      try {
        const tx = this.decode(raw);
        const { account } = this.check(tx, raw.length);
        if (this.verifying.has(tx.key)) throw new MempoolError(RejectReason.Duplicate, `transaction ${toHex(tx.hash())} is already being admitted`);
        this.verifying.add(tx.key);
        checked.push({ at, tx, size: raw.length, account });
      } catch (e) {
        if (!(e instanceof MempoolError)) throw e;
        out[at] = e;
      }
    });
    if (checked.length === 0) return out;
    // A transaction first seen in a proposal was verified then (preverify): not again when its gossip arrives.
    const unverified = checked.filter(({ tx }) => !this.verifiedElsewhere.has(tx.key));
    let verdicts: boolean[];
    try {
      verdicts = await this.verifier.verifyMany(unverified.map(({ tx }) => ({ publicKey: tx.sender, messageHash: tx.signingHash(), signature: tx.signature })));
    } finally {
      for (const { tx } of checked) this.verifying.delete(tx.key);
    }
    const bad = new Set(unverified.filter((_, i) => !verdicts[i]).map(({ tx }) => tx.key));
    const ok = checked.map(({ tx }) => !bad.has(tx.key));
    checked.forEach(({ at, tx, size, account }, i) => {
      if (!ok[i]) {
        out[at] = new MempoolError(RejectReason.BadSignature, 'signature does not verify for this sender and chain');
        return;
      }
      try {
        this.admit(tx, size, false, account);
        out[at] = tx;
      } catch (e) {
        if (!(e instanceof MempoolError)) throw e;
        out[at] = e;
      }
    });
    return out;
  }

  add(tx: Transaction, size = tx.serialize().length): void {
    this.admit(tx, size, true);
  }

  /**
   * Verifies, in parallel on the verifier, the signatures of a proposal's transactions that this
   * node has not seen, so that executing the proposal does not verify them one by one.
   */
  async preverify(txs: readonly Transaction[]): Promise<void> {
    const unknown = txs.filter((t) => !this.isVerified(t));
    const results = await this.verifier.verifyMany(unknown.map((t) => ({ publicKey: t.sender, messageHash: t.signingHash(), signature: t.signature })));
    unknown.forEach((t, i) => {
      if (!results[i]) return;
      if (this.verifiedElsewhere.size >= VERIFIED_CACHE_MAX) this.verifiedElsewhere.clear();
      this.verifiedElsewhere.add(t.key);
    });
  }

  /** A raw transaction, decoded within the size limit; MempoolError (TX_TOO_LARGE, TX_MALFORMED) if not. */
  decode(raw: Uint8Array): Transaction {
    if (raw.length > this.opts.maxTxBytes) {
      throw new MempoolError(RejectReason.TooLarge, `transaction is ${raw.length} bytes; the limit is ${this.opts.maxTxBytes}`);
    }
    try {
      return decodeTransaction(raw);
    } catch (e) {
      throw new MempoolError(RejectReason.Malformed, `cannot decode transaction: ${(e as Error).message}`);
    }
  }

  /**
   * Every admission rule but the signature; returns what insertion needs. `known`: what an
   * earlier check of this transaction read from the state, reused if no block was applied since.
   */
  private check(tx: Transaction, size: number, known?: AccountView): { senderKey: string; replaced: Entry | undefined; account: AccountView } {
    const hashKey = tx.key;
    if (size > this.opts.maxTxBytes) throw new MempoolError(RejectReason.TooLarge, `transaction is ${size} bytes; the limit is ${this.opts.maxTxBytes}`);
    if (tx.chainId !== this.deps.chainId) {
      throw new MempoolError(RejectReason.WrongChain, `transaction is for chain "${tx.chainId}", this node runs "${this.deps.chainId}"`);
    }
    const route = this.deps.registry.route(tx.kind);
    if (!route) throw new MempoolError(RejectReason.UnknownKind, `no module handles transaction kind "${tx.kind}"`);
    try {
      this.deps.registry.decode(tx);
    } catch (e) {
      throw new MempoolError(RejectReason.InvalidPayload, e instanceof TxError ? e.message : `invalid payload: ${(e as Error).message}`);
    }
    if (this.byHash.has(hashKey)) throw new MempoolError(RejectReason.Duplicate, `transaction ${toHex(tx.hash())} is already in the mempool`);

    const state = this.deps.state();
    const senderKey = tx.fromKey;
    const account: AccountView =
      known && known.version === state.version
        ? known
        : { version: state.version, minFee: this.deps.fees.minFee(state), nonce: nonceOf(state, senderKey), feeBalance: this.deps.fees.feeBalance(state, senderKey) };
    const { minFee } = account;
    if (tx.fee < minFee) throw new MempoolError(RejectReason.FeeTooLow, `fee ${tx.fee} is below the minimum ${minFee} NEX base units`);

    const accountNonce = account.nonce;
    if (tx.nonce < accountNonce) {
      throw new MempoolError(RejectReason.NonceTooLow, `nonce ${tx.nonce} is already used; the account's next nonce is ${accountNonce}`, { accountNonce });
    }
    if (tx.nonce > accountNonce + BigInt(this.opts.maxNonceGap)) {
      throw new MempoolError(RejectReason.NonceTooHigh, `nonce ${tx.nonce} is too far ahead of the account's next nonce ${accountNonce}`, { accountNonce });
    }
    const queue = this.bySender.get(senderKey);
    const replaced = queue?.byNonce.get(tx.nonce);
    if (replaced && tx.fee <= replaced.tx.fee) {
      throw new MempoolError(RejectReason.ReplacementUnderpriced, `a transaction with nonce ${tx.nonce} is already pending; to replace it, pay a higher fee than ${replaced.tx.fee}`);
    }
    const pendingFees = (queue?.feeSum ?? 0n) - (replaced?.tx.fee ?? 0n);
    if (account.feeBalance < pendingFees + tx.fee) {
      throw new MempoolError(RejectReason.InsufficientFeeFunds, `the sender's NEX balance cannot pay this fee (${tx.fee}) on top of its pending fees (${pendingFees})`);
    }
    // A full pool refuses, before the signature is checked, what could not displace anything.
    if (!replaced && this.isFull(size)) {
      const cheapest = this.cheapestFee();
      if (cheapest !== undefined && cheapest >= tx.fee) throw this.fullError(cheapest);
    }
    return { senderKey, replaced, account };
  }

  private admit(tx: Transaction, size: number, verifyHere: boolean, known?: AccountView): void {
    const { senderKey, replaced } = this.check(tx, size, known);
    if (verifyHere && !tx.verifySignature()) throw new MempoolError(RejectReason.BadSignature, 'signature does not verify for this sender and chain');

    if (!replaced) this.makeRoom(tx, senderKey, size);
    if (replaced) this.removeEntry(replaced);
    const entry: Entry = { tx, size, seq: this.seq++ };
    this.insert(entry, senderKey);
    for (const l of this.listeners) l(tx);
  }

  /** Every pooled transaction, each sender's in nonce order (what a restart must admit again). */
  pending(): Transaction[] {
    const out: Transaction[] = [];
    for (const queue of this.bySender.values()) {
      const entries = [...queue.byNonce.values()].sort((a, b) => (a.tx.nonce < b.tx.nonce ? -1 : a.tx.nonce > b.tx.nonce ? 1 : 0));
      for (const e of entries) out.push(e.tx);
    }
    return out;
  }

  /** Up to `maxTxs` executable transactions (nonce-contiguous per sender), highest fee first. */
  reap(maxTxs: number, maxBytes: number): Transaction[] {
    const state = this.deps.state();
    type Cursor = { queue: SenderQueue; nonce: bigint; entry: Entry };
    const heap = new Heap<Cursor>((a, b) => a.entry.tx.fee > b.entry.tx.fee || (a.entry.tx.fee === b.entry.tx.fee && a.entry.seq < b.entry.seq));
    for (const [senderKey, queue] of this.bySender) {
      const nonce = nonceOf(state, senderKey);
      const entry = queue.byNonce.get(nonce);
      if (entry) heap.push({ queue, nonce, entry });
    }
    const out: Transaction[] = [];
    let bytes = 0;
    while (out.length < maxTxs && heap.size > 0) {
      const c = heap.pop()!;
      if (bytes + c.entry.size > maxBytes) continue;
      out.push(c.entry.tx);
      bytes += c.entry.size;
      const next = c.queue.byNonce.get(c.nonce + 1n);
      if (next) heap.push({ queue: c.queue, nonce: c.nonce + 1n, entry: next });
    }
    return out;
  }

  /** After a commit: drop the committed transactions and any made stale by the new nonces. */
  update(committed: readonly Transaction[]): void {
    const touched = new Set<string>();
    for (const tx of committed) {
      this.verifiedElsewhere.delete(tx.key);
      const e = this.byHash.get(tx.key);
      if (e) this.removeEntry(e);
      touched.add(tx.fromKey);
    }
    const state = this.deps.state();
    for (const senderKey of touched) {
      const queue = this.bySender.get(senderKey);
      if (!queue) continue;
      const nonce = nonceOf(state, senderKey);
      for (const [n, e] of queue.byNonce) if (n < nonce) this.removeEntry(e);
    }
  }

  /** Removes a transaction (and the later nonces of its sender, which can no longer execute). */
  evict(tx: Transaction): void {
    const queue = this.bySender.get(tx.fromKey);
    if (!queue) return;
    for (const [n, e] of queue.byNonce) if (n >= tx.nonce) this.removeEntry(e);
  }

  private insert(entry: Entry, senderKey: string): void {
    let queue = this.bySender.get(senderKey);
    if (!queue) this.bySender.set(senderKey, (queue = { byNonce: new Map(), feeSum: 0n }));
    queue.byNonce.set(entry.tx.nonce, entry);
    queue.feeSum += entry.tx.fee;
    this.byHash.set(entry.tx.key, entry);
    this.bytes += entry.size;
    this.feeCounts.set(entry.tx.fee, (this.feeCounts.get(entry.tx.fee) ?? 0) + 1);
  }

  private removeEntry(entry: Entry): void {
    if (!this.byHash.delete(entry.tx.key)) return;
    this.bytes -= entry.size;
    const left = this.feeCounts.get(entry.tx.fee)! - 1;
    if (left === 0) this.feeCounts.delete(entry.tx.fee);
    else this.feeCounts.set(entry.tx.fee, left);
    const senderKey = entry.tx.fromKey;
    const queue = this.bySender.get(senderKey)!;
    queue.byNonce.delete(entry.tx.nonce);
    queue.feeSum -= entry.tx.fee;
    if (queue.byNonce.size === 0) this.bySender.delete(senderKey);
  }

  private isFull(size: number): boolean {
    return this.byHash.size + 1 > this.opts.maxTxs || this.bytes + size > this.opts.maxBytes;
  }

  /** The lowest fee in the pool (a scan of the distinct fees, not of the transactions). */
  private cheapestFee(): bigint | undefined {
    let cheapest: bigint | undefined;
    for (const f of this.feeCounts.keys()) if (cheapest === undefined || f < cheapest) cheapest = f;
    return cheapest;
  }

  private fullError(cheapest: bigint): MempoolError {
    return new MempoolError(RejectReason.MempoolFull, `the mempool is full (${this.byHash.size} transactions); pay a fee above ${cheapest} to get in, or retry later`);
  }

  /** When full, evicts the cheapest tail transaction if the newcomer pays more; else refuses. */
  private makeRoom(newcomer: Transaction, newcomerSender: string, size: number): void {
    const fee = newcomer.fee;
    while (this.isFull(size)) {
      // Under a flood of equal-fee transactions the pool stays full: refuse without a scan.
      const cheapest = this.cheapestFee();
      if (cheapest !== undefined && cheapest >= fee) throw this.fullError(cheapest);
      let victim: Entry | undefined;
      for (const [senderKey, queue] of this.bySender) {
        let tail: Entry | undefined;
        for (const e of queue.byNonce.values()) if (!tail || e.tx.nonce > tail.tx.nonce) tail = e;
        // Evicting a lower nonce of the newcomer's own sender would strand the newcomer behind a gap.
        if (senderKey === newcomerSender && tail && tail.tx.nonce < newcomer.nonce) continue;
        if (tail && (!victim || tail.tx.fee < victim.tx.fee)) victim = tail;
      }
      if (!victim || victim.tx.fee >= fee) {
        throw new MempoolError(RejectReason.MempoolFull, `the mempool is full (${this.byHash.size} transactions); pay a fee above ${victim?.tx.fee ?? 0n} to get in, or retry later`);
      }
      this.deps.logger.debug({ tx: toHex(victim.tx.hash()), fee: victim.tx.fee.toString() }, 'mempool full: evicting lowest-fee transaction');
      this.removeEntry(victim);
    }
  }
}
