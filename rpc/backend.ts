import type { Blockchain, Mempool } from '../consensus/index.js';

/** What the RPC server needs from the node; the node composes it. */
export interface RpcBackend {
  readonly chain: Blockchain;
  readonly mempool: Mempool;
  readonly version: string;
  /** This node's validator address, when it is one. */
  readonly validatorAddress: Uint8Array | undefined;
  /** Connected peers (0 for a single node) and whether the node is catching up. */
  network(): { peers: number; syncing: boolean };
}
