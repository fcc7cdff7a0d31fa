import type { Logger } from 'pino';
import { asBytes, asList, rlpDecode, rlpEncode } from '../../chain/index.js';
import { Topic, Verdict, type Network } from '../../p2p/network.js';
import { MempoolError, RejectReason } from './errors.js';
import type { Mempool } from './mempool.js';

export interface TxRelayOptions {
  /** Most transactions in one gossip message. */
  maxBatchTxs: number;
  /** Most bytes of transactions in one gossip message (under the transactions topic's cap). */
  maxBatchBytes: number;
  /**
   * Gossip while no peer is connected. A node that expects peers does (gossipsub keeps the batch
   * for a few heartbeats and offers it to a peer that connects meanwhile); a node configured
   * without any (a lone validator) does not: nobody would get the batch, and that cache would
   * hold every transaction of the last seconds (~6 MB at 10,000 tx/s).
   */
  gossipWithoutPeers: boolean;
}

export const defaultTxRelayOptions: TxRelayOptions = { maxBatchTxs: 1024, maxBatchBytes: 60 * 1024, gossipWithoutPeers: true };

/** Mempool rejections that say nothing bad about the peer that relayed the transaction. */
const HARMLESS = new Set<string>([
  RejectReason.Duplicate,
  RejectReason.NonceTooLow,
  RejectReason.NonceTooHigh,
  RejectReason.ReplacementUnderpriced,
  RejectReason.MempoolFull,
  RejectReason.InsufficientFeeFunds,
]);

/** A transactions-topic message: RLP list of transaction encodings. */
export function encodeTxBatch(raws: readonly Uint8Array[]): Uint8Array {
  return rlpEncode(raws);
}

export function decodeTxBatch(data: Uint8Array, maxTxs: number): Uint8Array[] {
  const items = asList(rlpDecode(data, 'transaction batch'), 'transaction batch');
  if (items.length === 0 || items.length > maxTxs) throw new MempoolError(RejectReason.Malformed, `a transaction batch holds 1..${maxTxs} transactions, got ${items.length}`);
  return items.map((t, i) => asBytes(t, `transaction batch[${i}]`));
}

/**
 * Gossips transactions between mempools. Transactions admitted from this node's clients are sent
 * in batches, one message for everything admitted in one turn of the event loop (a JSON-RPC batch
 * becomes one message, a lone transaction goes out at once): each gossip message costs its
 * sender and every receiver tens of microseconds whatever its size, so under load batching is
 * most of what tx gossip costs. Received batches are admitted transaction by transaction.
 */
export class TxRelay {
  private readonly opts: TxRelayOptions;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private running = false;

  constructor(
    opts: Partial<TxRelayOptions>,
    private readonly deps: { mempool: Mempool; network: Network; logger: Logger },
  ) {
    this.opts = { ...defaultTxRelayOptions, ...opts };
  }

  /** Starts relaying; with `receive`, also admits the transactions peers gossip (validators do). */
  start(o: { receive: boolean }): void {
    this.running = true;
    if (o.receive) this.deps.network.subscribe(Topic.Transactions, (data, from) => this.onGossip(data, from));
  }

  stop(): void {
    this.running = false;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Queues the encoding of a transaction this node admitted, to be gossiped with the others of this turn. */
  relay(raw: Uint8Array): void {
    if (!this.running) return;
    if (this.pendingBytes + raw.length > this.opts.maxBatchBytes || this.pending.length >= this.opts.maxBatchTxs) this.flush();
    this.pending.push(raw);
    this.pendingBytes += raw.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || !this.running) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.opts.gossipWithoutPeers && this.deps.network.peers().length === 0) return;
    this.deps.network.publish(Topic.Transactions, encodeTxBatch(batch)).catch((e: unknown) => this.deps.logger.debug({ err: e, txs: batch.length }, 'gossiping transactions failed'));
  }

  /**
   * A batch from a peer: accepted (and relayed on) when every transaction in it was admitted or
   * refused for a reason that is not the sender's fault; rejected (the peer penalised) when it is
   * malformed or holds a transaction that no honest node would have passed on.
   */
  private async onGossip(data: Uint8Array, from: string): Promise<Verdict> {
    let raws: Uint8Array[];
    try {
      raws = decodeTxBatch(data, this.opts.maxBatchTxs);
    } catch (e) {
      this.deps.logger.debug({ from, err: (e as Error).message }, 'malformed transaction batch');
      return Verdict.Reject;
    }
    const results = await this.deps.mempool.addRawBatchAsync(raws);
    let admitted = 0;
    for (const r of results) {
      if (!(r instanceof MempoolError)) admitted++;
      else if (!HARMLESS.has(r.reason)) {
        this.deps.logger.debug({ from, err: r.message }, 'gossiped transaction refused');
        return Verdict.Reject;
      }
    }
    return admitted > 0 ? Verdict.Accept : Verdict.Ignore;
  }
}
