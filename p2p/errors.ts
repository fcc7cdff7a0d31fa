import { CodedError } from '../chain/errors.js';

export const P2PErrorCode = {
  /** The options are malformed (a bad multiaddr, a bootstrap address without /p2p/<id>, a non-positive limit). */
  BadOptions: 'P2P_BAD_OPTIONS',
  /** A key for the node's libp2p identity is malformed (not a 32-byte Ed25519 seed, or its public key does not match). */
  BadKey: 'P2P_BAD_KEY',
  /** The network is not started (or already stopped). */
  NotStarted: 'P2P_NOT_STARTED',
  /** start() called on a network that is starting or running. */
  State: 'P2P_STATE',
  /** An outgoing gossip message is larger than its topic's cap. */
  MessageTooLarge: 'P2P_MESSAGE_TOO_LARGE',
  /** A block range request is empty, reversed or longer than maxBlocksPerRequest. */
  InvalidRange: 'P2P_INVALID_RANGE',
  /** The peer did not answer within requestTimeoutMs. */
  Timeout: 'P2P_TIMEOUT',
  /** The peer's answer broke the protocol (malformed, too many blocks, too large). */
  BadResponse: 'P2P_BAD_RESPONSE',
  /** The peer answered with an error status, or the stream failed. */
  RequestFailed: 'P2P_REQUEST_FAILED',
  /** libp2p could not start (typically: a listen address is in use or not local). */
  StartFailed: 'P2P_START_FAILED',
  /** A multiaddr given at runtime (addPeer) is malformed, lacks /p2p/<peerId>, or is this node's own. */
  BadAddress: 'P2P_BAD_ADDRESS',
  /** A string is not a valid peer id. */
  BadPeerId: 'P2P_BAD_PEER_ID',
} as const;
export type P2PErrorCode = (typeof P2PErrorCode)[keyof typeof P2PErrorCode];

export class P2PError extends CodedError<P2PErrorCode> {}
