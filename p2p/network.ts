/**
 * What the rest of the node needs from the network. p2p/ implements it over libp2p; tests use
 * a simulated network that implements the same interface.
 */

/** The outcome of validating a gossiped message before it is relayed (maps onto gossipsub's). */
export const Verdict = {
  /** Valid: deliver and relay. */
  Accept: 'accept',
  /** Not useful (stale, duplicate, not for us): drop without penalty, do not relay. */
  Ignore: 'ignore',
  /** Invalid (bad signature, malformed, from a non-validator): drop, do not relay, penalise the sender. */
  Reject: 'reject',
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export const Topic = {
  Transactions: 'transactions',
  Consensus: 'consensus',
  Blocks: 'blocks',
} as const;
export type Topic = (typeof Topic)[keyof typeof Topic];

/** Validates a gossiped message (synchronously, cheaply) and delivers it if accepted. */
export type GossipHandler = (data: Uint8Array, from: string) => Verdict | Promise<Verdict>;

/** Serves a block range request: the encoded blocks (with certificates) from `from` to `to` inclusive, in order. */
export type BlockRangeProvider = (from: number, to: number) => Promise<Uint8Array[]>;

/** Serves a status request: the peer's head height. */
export type StatusProvider = () => { height: number; chainId: string };

export interface PeerInfo {
  id: string;
  height?: number;
}

export interface Network {
  /** This node's peer id. */
  readonly peerId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  publish(topic: Topic, data: Uint8Array): Promise<void>;
  /** One handler per topic; it decides relay (Accept), drop (Ignore) or penalise (Reject). */
  subscribe(topic: Topic, handler: GossipHandler): void;
  /** Answer other peers' block range and status requests. */
  serveBlocks(provider: BlockRangeProvider): void;
  serveStatus(provider: StatusProvider): void;
  /** Asks one peer for blocks [from, to]; rejects on timeout, error or oversized answers. */
  requestBlocks(peer: string, from: number, to: number): Promise<Uint8Array[]>;
  /** Asks one peer for its head. */
  requestStatus(peer: string): Promise<{ height: number; chainId: string }>;
  peers(): PeerInfo[];
  /** Multiaddrs this node listens on, with /p2p/<peerId>. */
  addresses(): string[];
  /**
   * Disconnects `peer` and refuses it (both ways) for `ms`: it proved itself wrong (for example
   * it served blocks that do not verify). `reason` is logged.
   */
  ban(peer: string, ms: number, reason: string): void;
}
