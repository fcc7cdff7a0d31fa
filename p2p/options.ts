import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { P2PError, P2PErrorCode } from './errors.js';
import { Topic } from './network.js';

export interface P2POptions {
  /** Namespaces every topic and protocol id, so nodes of different chains never exchange messages. */
  chainId: string;
  /** Multiaddrs to listen on (port 0 picks a free port). */
  listen: string[];
  /** Multiaddrs to advertise instead of the listen ones (public address behind NAT); [] = the listen ones. */
  announce: string[];
  /** Peers to keep connected to, each /…/p2p/<peerId>; redialled with backoff whenever not connected. */
  bootstrap: string[];
  /**
   * Who may connect (checked in the connection gater, once the Noise handshake has proved the
   * peer id). 'permissioned': only the validators of the next height, `allowPeers`, the bootstrap
   * peers and peers added at runtime (addPeer); everyone else is refused during the handshake.
   * 'open': anyone (a public observer node).
   */
  admission: AdmissionMode;
  /** Peer ids (observers) admitted in permissioned mode besides the validators and bootstrap peers. */
  allowPeers: string[];
  maxConnections: number;
  /** Largest gossip message per topic, in bytes; larger ones are refused on publish and rejected on receipt. */
  topicMaxBytes: Record<Topic, number>;
  /** Most blocks asked for or served in one block range request. */
  maxBlocksPerRequest: number;
  /** Largest block range response, in bytes (the blocks' total). */
  maxResponseBytes: number;
  /** Deadline for a whole request/response exchange, either side. */
  requestTimeoutMs: number;
  /** Deadline for one dial. */
  dialTimeoutMs: number;
  /** Bootstrap redial backoff: first delay, doubling up to the max. */
  redialMinMs: number;
  redialMaxMs: number;
  /** Gossipsub heartbeat (mesh maintenance). */
  heartbeatIntervalMs: number;
  /**
   * Mesh degree: target, low and high watermarks. A node's own messages go to every peer on the
   * topic (flood publishing); the mesh is whom it forwards others' messages to at once. 0 (the
   * default) forwards nothing eagerly: validators peer with each other directly, so each already
   * has every validator's messages first-hand, and eager forwarding would deliver each message
   * to each node once per peer (each copy costing a send, an encryption and a receive). Messages
   * a node missed (a broken link) still reach it through lazy gossip: the message ids each node
   * advertises to lazyPeers peers every heartbeat, which it can then ask for.
   */
  meshD: number;
  meshDlo: number;
  meshDhi: number;
  /** Peers each heartbeat's message ids are advertised to (gossipsub's Dlazy). */
  lazyPeers: number;
  /** Score contribution of one rejected message, squared per count (must be negative). */
  invalidMessageWeight: number;
  /** Gossipsub score thresholds (each <= the previous one, all <= 0). */
  gossipThreshold: number;
  publishThreshold: number;
  graylistThreshold: number;
  /** How often peer scores are checked; a connected peer below graylistThreshold is disconnected and banned. */
  scoreCheckIntervalMs: number;
  banMs: number;
}

export const AdmissionMode = { Permissioned: 'permissioned', Open: 'open' } as const;
export type AdmissionMode = (typeof AdmissionMode)[keyof typeof AdmissionMode];

const KiB = 1024;
const MiB = 1024 * KiB;

export const defaultP2POptions: Omit<P2POptions, 'chainId'> = {
  listen: ['/ip4/0.0.0.0/tcp/26656'],
  announce: [],
  bootstrap: [],
  admission: AdmissionMode.Permissioned,
  allowPeers: [],
  maxConnections: 50,
  topicMaxBytes: { [Topic.Transactions]: 64 * KiB, [Topic.Consensus]: 4 * MiB, [Topic.Blocks]: 16 * KiB },
  maxBlocksPerRequest: 64,
  maxResponseBytes: 16 * MiB,
  requestTimeoutMs: 10_000,
  dialTimeoutMs: 5_000,
  redialMinMs: 1_000,
  redialMaxMs: 30_000,
  heartbeatIntervalMs: 700,
  meshD: 0,
  meshDlo: 0,
  meshDhi: 0,
  lazyPeers: 8,
  invalidMessageWeight: -20,
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  scoreCheckIntervalMs: 1_000,
  banMs: 60_000,
};

export type P2POptionsInput = Partial<Omit<P2POptions, 'topicMaxBytes'>> & { chainId: string; topicMaxBytes?: Partial<Record<Topic, number>> };

/** Defaults merged with `opts`, checked; throws P2PError(BadOptions) naming the offending field. */
export function resolveP2POptions(opts: P2POptionsInput): P2POptions {
  const o: P2POptions = { ...defaultP2POptions, ...opts, topicMaxBytes: { ...defaultP2POptions.topicMaxBytes, ...opts.topicMaxBytes } };
  const bad = (field: string, why: string): never => {
    throw new P2PError(P2PErrorCode.BadOptions, `p2p option ${field} ${why}`, { field });
  };
  if (!/^[\w.-]{1,64}$/.test(o.chainId)) bad('chainId', 'must be 1-64 characters of [A-Za-z0-9_.-]');
  if (o.listen.length === 0) bad('listen', 'needs at least one multiaddr');
  o.listen.forEach((a, i) => parseMultiaddr(a, `listen[${i}]`));
  o.announce.forEach((a, i) => parseMultiaddr(a, `announce[${i}]`));
  o.bootstrap.forEach((a, i) => {
    const id = parseMultiaddr(a, `bootstrap[${i}]`).getPeerId();
    if (id == null) bad(`bootstrap[${i}]`, `(${a}) must end in /p2p/<peerId>`);
    try {
      peerIdFromString(id!);
    } catch {
      bad(`bootstrap[${i}]`, `(${a}) has an invalid peer id`);
    }
  });
  if (!Object.values(AdmissionMode).includes(o.admission)) bad('admission', `must be one of ${Object.values(AdmissionMode).join(', ')} (got ${String(o.admission)})`);
  o.allowPeers.forEach((id, i) => {
    try {
      peerIdFromString(id);
    } catch {
      bad(`allowPeers[${i}]`, `(${id}) is not a peer id`);
    }
  });
  const positive: (keyof P2POptions)[] = ['maxConnections', 'maxBlocksPerRequest', 'maxResponseBytes', 'requestTimeoutMs', 'dialTimeoutMs', 'redialMinMs', 'redialMaxMs', 'heartbeatIntervalMs', 'lazyPeers', 'scoreCheckIntervalMs', 'banMs'];
  for (const f of positive) if (!Number.isSafeInteger(o[f]) || (o[f] as number) <= 0) bad(f, 'must be a positive integer');
  for (const f of ['meshD', 'meshDlo', 'meshDhi'] as const) if (!Number.isSafeInteger(o[f]) || o[f] < 0) bad(f, 'must be a non-negative integer');
  for (const t of Object.values(Topic)) if (!Number.isSafeInteger(o.topicMaxBytes[t]) || o.topicMaxBytes[t] <= 0) bad(`topicMaxBytes.${t}`, 'must be a positive integer');
  if (o.redialMaxMs < o.redialMinMs) bad('redialMaxMs', 'must be >= redialMinMs');
  if (!(o.meshDlo <= o.meshD && o.meshD <= o.meshDhi)) bad('meshD', 'must satisfy meshDlo <= meshD <= meshDhi');
  if (!(o.invalidMessageWeight < 0)) bad('invalidMessageWeight', 'must be negative');
  if (!(o.gossipThreshold <= 0 && o.publishThreshold <= o.gossipThreshold && o.graylistThreshold <= o.publishThreshold)) {
    bad('graylistThreshold', 'must satisfy graylistThreshold <= publishThreshold <= gossipThreshold <= 0');
  }
  return o;
}

export function parseMultiaddr(addr: string, field: string): Multiaddr {
  try {
    return multiaddr(addr);
  } catch (e) {
    throw new P2PError(P2PErrorCode.BadOptions, `p2p option ${field} is not a valid multiaddr (${addr}): ${(e as Error).message}`, { field });
  }
}
