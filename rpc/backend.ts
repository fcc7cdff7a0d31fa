import type { Transaction } from '../chain/index.js';
import type { Blockchain, Mempool, MempoolError } from '../consensus/index.js';
import type { AdminBackend } from './methods/admin.js';

/** What the RPC server needs from the node; the node composes it. */
export interface RpcBackend {
  readonly chain: Blockchain;
  readonly mempool: Mempool;
  readonly version: string;
  /** This node's validator address, when it is one. */
  readonly validatorAddress: Uint8Array | undefined;
  /** Admits a raw transaction to the mempool and relays it to peers; throws MempoolError. */
  submitTransaction(raw: Uint8Array): Promise<Transaction>;
  /** submitTransaction for many: one answer per transaction, in order (the MempoolError, not thrown). */
  submitTransactions(raws: Uint8Array[]): Promise<(Transaction | MempoolError)[]>;
  /** Connected peers (0 for a single node) and whether the node is catching up. */
  network(): { peers: number; syncing: boolean };
  /** What the admin_ methods operate on (absent: they answer "not available"). */
  readonly admin?: AdminBackend;
}
