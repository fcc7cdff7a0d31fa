import type { GossipSub } from '@chainsafe/libp2p-gossipsub';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { TopicValidatorResult, type Connection, type Libp2p, type Message, type PeerId, type PrivateKey, type Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr as parseMultiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import { PeerAdmission, type PeerRoles } from './admission.js';
import { BootstrapDialer } from './dialer.js';
import { P2PError, P2PErrorCode } from './errors.js';
import { blocksProtocol, gossipsubService, statusProtocol, topicName } from './gossip.js';
import { Topic, Verdict, type BlockRangeProvider, type GossipHandler, type Network, type PeerInfo, type StatusProvider } from './network.js';
import { noopP2PNetworkMetrics, type P2PNetworkMetrics } from './metrics.js';
import { resolveP2POptions, type P2POptions, type P2POptionsInput } from './options.js';
import { rangeProblem, readBlocks, readStatus, requestError, serveBlocks, serveStatus } from './reqresp.js';

export interface P2PDeps {
  logger: Logger;
  /** The node's libp2p identity: its validator Ed25519 key (see peerKeyFromEd25519Seed). */
  privateKey: PrivateKey;
  /**
   * Peer ids of the validator set at the node's next height (see validatorPeerIds), asked at
   * each handshake in permissioned mode. Without it only the allowlist and bootstrap peers are admitted.
   */
  validatorPeers?: () => ReadonlySet<string>;
  metrics?: P2PNetworkMetrics;
}

export type ConnectionDirection = 'inbound' | 'outbound';

/** A connected peer, as the admin API shows it. */
export interface PeerDetails extends PeerRoles {
  id: string;
  /** Remote multiaddrs of its open connections. */
  addresses: string[];
  /** Who dialled: of its oldest open connection. */
  direction: ConnectionDirection;
  /** The gossipsub score this node gives it. */
  score: number;
  /** The head height it last reported to a status request, if any. */
  height?: number;
}

/** What removePeer undid. */
export interface RemovedPeer {
  /** It was connected and has been hung up on. */
  disconnected: boolean;
  /** It was being redialled (a bootstrap peer or one added at runtime) and no longer is. */
  redialStopped: boolean;
  /** Its runtime admission (from addPeer) was taken back. */
  admissionRevoked: boolean;
}

type Status = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * The Network over libp2p: TCP + Noise + Yamux, identify, gossipsub for the three topics and two
 * request/response protocols (block ranges, status). Construction does no I/O; start() listens,
 * subscribes and begins dialling the bootstrap peers. stop() is idempotent; a stopped network can
 * be started again (with a fresh libp2p node and the same identity).
 */
export class P2PNetwork implements Network {
  readonly peerId: string;
  readonly options: P2POptions;
  private status: Status = 'created';
  private starting?: Promise<void>;
  private node?: Libp2p;
  private gossip?: GossipSub;
  private dialer?: BootstrapDialer;
  private scoreTimer?: NodeJS.Timeout;
  private readonly handlers = new Map<Topic, GossipHandler>();
  private blockProvider?: BlockRangeProvider;
  private statusProvider?: StatusProvider;
  private readonly heights = new Map<string, number>();
  private readonly bannedUntil = new Map<string, number>();
  private readonly admission: PeerAdmission;
  /** Peers added at runtime (addPeer), by peer id: redialled like bootstrap peers, also after a restart. */
  private readonly added = new Map<string, Multiaddr>();
  /** Bootstrap peers removed at runtime (removePeer): no longer redialled, also after a restart. */
  private readonly dropped = new Set<string>();
  private readonly metrics: P2PNetworkMetrics;
  private readonly log: Logger;

  constructor(
    opts: P2POptionsInput,
    private readonly deps: P2PDeps,
  ) {
    this.options = resolveP2POptions(opts);
    this.peerId = peerIdFromPrivateKey(deps.privateKey).toString();
    this.admission = new PeerAdmission(this.options, { validatorPeers: deps.validatorPeers });
    this.metrics = deps.metrics ?? noopP2PNetworkMetrics;
    this.log = deps.logger;
  }

  async start(): Promise<void> {
    if (this.status !== 'created' && this.status !== 'stopped') throw new P2PError(P2PErrorCode.State, `cannot start a network that is ${this.status}`);
    this.status = 'starting';
    this.starting = this.doStart();
    try {
      await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  private async doStart(): Promise<void> {
    const o = this.options;
    let node: Libp2p | undefined;
    try {
      node = await createLibp2p({
        privateKey: this.deps.privateKey,
        addresses: { listen: o.listen, announce: o.announce },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        connectionManager: { maxConnections: o.maxConnections, dialTimeout: o.dialTimeoutMs },
        // The encrypted-connection hooks run once the Noise handshake has proved the remote peer id.
        connectionGater: {
          denyDialPeer: (p: PeerId) => this.isBanned(p.toString()),
          denyInboundEncryptedConnection: (p: PeerId) => this.refuses(p.toString(), 'inbound'),
          denyOutboundEncryptedConnection: (p: PeerId) => this.refuses(p.toString(), 'outbound'),
        },
        services: { identify: identify(), pubsub: gossipsubService(o) },
        start: false,
      });
      node.addEventListener('connection:open', (e) => this.logConnection(e.detail, 'peer connection opened'));
      node.addEventListener('connection:close', (e) => this.logConnection(e.detail, 'peer connection closed'));
      const limits = { maxInboundStreams: 8, maxOutboundStreams: 8 };
      await node.handle(blocksProtocol(o.chainId), ({ stream }) => void serveBlocks(stream, this.blockProvider, o, this.log), limits);
      await node.handle(statusProtocol(o.chainId), ({ stream }) => void serveStatus(stream, this.statusProvider, o, this.log), limits);
      await node.start();
    } catch (e) {
      await Promise.resolve(node?.stop()).catch(() => undefined);
      this.status = 'stopped';
      throw new P2PError(P2PErrorCode.StartFailed, `cannot start libp2p on ${o.listen.join(', ')}: ${(e as Error).message}`, { listen: o.listen });
    }
    this.node = node;
    this.gossip = (node.services as { pubsub: unknown }).pubsub as GossipSub;
    for (const topic of this.handlers.keys()) this.install(topic);
    this.dialer = new BootstrapDialer({ ...o, bootstrap: o.bootstrap.filter((a) => !this.dropped.has(parseMultiaddr(a).getPeerId()!)) }, { libp2p: node, logger: this.log });
    for (const addr of this.added.values()) this.dialer.add(addr);
    this.dialer.start();
    this.scoreTimer = setInterval(() => this.checkScores(), o.scoreCheckIntervalMs);
    this.status = 'running';
    this.log.info({ peerId: this.peerId, addresses: this.addresses(), bootstrap: o.bootstrap.length, admission: o.admission, allowPeers: o.allowPeers.length }, 'p2p started');
  }

  /** Stops dialling, scoring and libp2p, in reverse order of start. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    if (this.status !== 'running') return;
    this.status = 'stopping';
    clearInterval(this.scoreTimer);
    this.dialer?.stop();
    await this.node?.stop();
    this.node = undefined;
    this.gossip = undefined;
    this.dialer = undefined;
    this.heights.clear();
    this.status = 'stopped';
    this.log.info({ peerId: this.peerId }, 'p2p stopped');
  }

  async publish(topic: Topic, data: Uint8Array): Promise<void> {
    const gossip = this.running().gossip;
    const cap = this.options.topicMaxBytes[topic];
    if (data.length > cap) throw new P2PError(P2PErrorCode.MessageTooLarge, `${topic} message of ${data.length} bytes exceeds the topic's cap of ${cap}`, { topic, size: data.length });
    await gossip.publish(topicName(this.options.chainId, topic), data);
  }

  /**
   * Installs `handler` as the topic's validator: it runs synchronously before a message is relayed,
   * and only Accepted messages are relayed. `from` is the peer that delivered the message to us
   * (the one penalised on Reject), not necessarily its author. Replaces an earlier handler.
   */
  subscribe(topic: Topic, handler: GossipHandler): void {
    if (!Object.values(Topic).includes(topic)) throw new P2PError(P2PErrorCode.BadOptions, `unknown topic ${String(topic)}`);
    this.handlers.set(topic, handler);
    if (this.status === 'running') this.install(topic);
  }

  serveBlocks(provider: BlockRangeProvider): void {
    this.blockProvider = provider;
  }

  serveStatus(provider: StatusProvider): void {
    this.statusProvider = provider;
  }

  async requestBlocks(peer: string, from: number, to: number): Promise<Uint8Array[]> {
    const problem = rangeProblem(from, to, this.options.maxBlocksPerRequest);
    if (problem !== undefined) throw new P2PError(P2PErrorCode.InvalidRange, `invalid block range [${from}, ${to}]: ${problem}`, { from, to });
    return this.open(peer, blocksProtocol(this.options.chainId), 'block range request', (s, signal) => readBlocks(s, from, to, this.options, signal, peer));
  }

  async requestStatus(peer: string): Promise<{ height: number; chainId: string }> {
    const status = await this.open(peer, statusProtocol(this.options.chainId), 'status request', readStatus);
    if (this.node?.getConnections(peerIdFromString(peer)).length) this.heights.set(peer, status.height);
    return status;
  }

  /** Connected peers, with the height they last reported to requestStatus. */
  peers(): PeerInfo[] {
    return (this.node?.getPeers() ?? []).map((p) => {
      const id = p.toString();
      const height = this.heights.get(id);
      return height === undefined ? { id } : { id, height };
    });
  }

  addresses(): string[] {
    return (this.node?.getMultiaddrs() ?? []).map((a) => a.toString());
  }

  /** The gossipsub score this node gives `peer` (0 if unknown or not running). */
  score(peer: string): number {
    return this.gossip?.getScore(peer) ?? 0;
  }

  /** Peers in this node's gossipsub mesh for `topic` (the ones it relays to). */
  meshPeers(topic: Topic): string[] {
    return this.gossip?.getMeshPeers(topicName(this.options.chainId, topic)) ?? [];
  }

  /** Peers subscribed to `topic` that this node has a gossip stream to: the ones a publish reaches now. */
  publishPeers(topic: Topic): string[] {
    const gossip = this.gossip;
    return gossip ? this.topicPeers(topic).filter((p) => gossip.streamsOutbound.has(p)) : [];
  }

  /** Peers known to be subscribed to `topic`. */
  topicPeers(topic: Topic): string[] {
    return (this.gossip?.getSubscribers(topicName(this.options.chainId, topic)) ?? []).map((p) => p.toString());
  }

  /** Connected peers in detail: addresses, direction, score, reported height and why each is admitted. */
  peerDetails(): PeerDetails[] {
    const node = this.node;
    if (node === undefined) return [];
    return node.getPeers().map((p) => {
      const id = p.toString();
      const conns = node.getConnections(p).filter((c) => c.status === 'open').sort((a, b) => a.timeline.open - b.timeline.open);
      const height = this.heights.get(id);
      const d: PeerDetails = {
        id,
        addresses: conns.map((c) => c.remoteAddr.toString()),
        direction: conns[0]?.direction ?? 'outbound',
        score: this.score(id),
        ...this.admission.roles(id),
      };
      if (height !== undefined) d.height = height;
      return d;
    });
  }

  /**
   * Keeps `addr` (a multiaddr ending in /p2p/<peerId>) connected from now on, as a bootstrap peer
   * is: dialled now and redialled whenever it drops. In permissioned mode it is also admitted
   * (until removePeer). Lifts a ban on it. Returns its peer id.
   */
  addPeer(addr: string): string {
    let ma: Multiaddr;
    let id: string;
    try {
      ma = parseMultiaddr(addr);
      id = peerIdFromString(ma.getPeerId() ?? '').toString();
    } catch (e) {
      throw new P2PError(P2PErrorCode.BadAddress, `${addr} is not a multiaddr ending in /p2p/<peerId> (${(e as Error).message})`, { addr });
    }
    if (id === this.peerId) throw new P2PError(P2PErrorCode.BadAddress, `${addr} is this node's own address`, { addr });
    this.added.set(id, ma);
    this.dropped.delete(id);
    this.bannedUntil.delete(id);
    this.admission.add(id);
    this.dialer?.add(ma);
    this.log.info({ peer: id, addr }, 'peer added');
    return id;
  }

  /** Resolves true once `peer` is connected (at once if it is), false after `ms` or if not running. */
  async awaitConnection(peer: string, ms: number): Promise<boolean> {
    const node = this.node;
    if (node === undefined) return false;
    const id = parsePeerId(peer);
    if (node.getConnections(id).length > 0) return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        node.removeEventListener('peer:connect', onConnect);
        resolve(ok);
      };
      const onConnect = (e: CustomEvent<PeerId>) => {
        if (e.detail.equals(id)) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      node.addEventListener('peer:connect', onConnect);
    });
  }

  /**
   * Hangs up on `peer`, stops redialling it (a bootstrap peer too, until the node restarts with
   * it in its config) and takes back an admission addPeer gave it. A validator or allowlisted peer
   * stays admitted, so it may connect again itself.
   */
  async removePeer(peer: string): Promise<RemovedPeer> {
    const id = parsePeerId(peer).toString();
    const wasBootstrap = this.admission.roles(id).bootstrap && !this.dropped.has(id);
    const redialStopped = (this.dialer?.remove(id) ?? false) || this.added.has(id) || wasBootstrap;
    this.added.delete(id);
    if (wasBootstrap) this.dropped.add(id);
    const admissionRevoked = this.admission.remove(id);
    const disconnected = await this.hangUp(id);
    this.log.info({ peer: id, disconnected, redialStopped, admissionRevoked }, 'peer removed');
    return { disconnected, redialStopped, admissionRevoked };
  }

  /**
   * Refuses `peer` for `ms` (dials to it and its handshakes; a bootstrap peer is redialled once
   * the ban ends) and hangs up on it. A longer ban already in force is kept.
   */
  ban(peer: string, ms: number, reason: string): void {
    const id = parsePeerId(peer).toString();
    const until = Date.now() + Math.max(0, ms);
    if ((this.bannedUntil.get(id) ?? 0) < until) this.bannedUntil.set(id, until);
    this.log.warn({ peer: id, banMs: ms, reason }, 'banning peer');
    void this.hangUp(id);
  }

  /** Whether `peer` is banned now. */
  isBanned(peer: string): boolean {
    const until = this.bannedUntil.get(peer);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.bannedUntil.delete(peer);
    return false;
  }

  /** Whether `peer` may connect now (ignoring bans): always in open mode. */
  admits(peer: string): boolean {
    return this.admission.admits(peer);
  }

  private async hangUp(id: string): Promise<boolean> {
    const node = this.node;
    if (node === undefined || node.getConnections(peerIdFromString(id)).length === 0) return false;
    try {
      await node.hangUp(peerIdFromString(id));
    } catch (e) {
      this.log.debug({ peer: id, err: (e as Error).message }, 'hang up failed');
    }
    return true;
  }

  /** The connection gater's verdict on a handshake that proved `peer`: true refuses it. */
  private refuses(peer: string, direction: ConnectionDirection): boolean {
    if (this.isBanned(peer)) return true;
    if (this.admission.admits(peer)) return false;
    this.metrics.connectionRefused(direction);
    this.log.debug({ peer, direction }, 'refused a connection: the peer is not a validator, an allowed peer or a bootstrap peer');
    return true;
  }

  private running(): { node: Libp2p; gossip: GossipSub } {
    if (this.status !== 'running' || this.node === undefined || this.gossip === undefined) throw new P2PError(P2PErrorCode.NotStarted, `the p2p network is ${this.status}; start it first`);
    return { node: this.node, gossip: this.gossip };
  }

  private async open<T>(peer: string, protocol: string, what: string, read: (s: Stream, signal: AbortSignal) => Promise<T>): Promise<T> {
    const { node } = this.running();
    const id = parsePeerId(peer);
    const signal = AbortSignal.timeout(this.options.requestTimeoutMs);
    let stream: Stream | undefined;
    try {
      stream = await node.dialProtocol(id, protocol, { signal });
      return await read(stream, signal);
    } catch (e) {
      const err = requestError(e, signal, peer, what);
      stream?.abort(err);
      this.log.debug({ peer, protocol, err: err.message }, `${what} failed`);
      throw err;
    }
  }

  private install(topic: Topic): void {
    const gossip = this.gossip!;
    const name = topicName(this.options.chainId, topic);
    const cap = this.options.topicMaxBytes[topic];
    gossip.topicValidators.set(name, async (peer: PeerId, msg: Message) => {
      const from = peer.toString();
      if (msg.data.length > cap) {
        this.log.warn({ peer: from, topic, size: msg.data.length, cap }, 'rejected oversized gossip message');
        return TopicValidatorResult.Reject;
      }
      const handler = this.handlers.get(topic);
      if (handler === undefined) return TopicValidatorResult.Ignore;
      let verdict: Verdict;
      try {
        verdict = await handler(msg.data, from);
      } catch (e) {
        this.log.error({ peer: from, topic, err: (e as Error).message }, 'gossip handler threw; ignoring the message');
        return TopicValidatorResult.Ignore;
      }
      if (verdict === Verdict.Accept) return TopicValidatorResult.Accept;
      if (verdict === Verdict.Reject) {
        this.log.warn({ peer: from, topic, size: msg.data.length }, 'rejected gossip message');
        return TopicValidatorResult.Reject;
      }
      return TopicValidatorResult.Ignore;
    });
    gossip.subscribe(name);
  }

  /**
   * Disconnects (and bans for banMs) peers whose gossip score fell below the graylist threshold,
   * and hangs up on peers no longer admitted (a validator that left the set).
   */
  private checkScores(): void {
    if (this.status !== 'running') return;
    const { node, gossip } = this.running();
    for (const p of node.getPeers()) {
      const id = p.toString();
      if (!this.admission.admits(id)) {
        this.log.info({ peer: id }, 'disconnecting peer: no longer admitted (not a validator of the next height, an allowed peer or a bootstrap peer)');
        void this.hangUp(id);
        continue;
      }
      const score = gossip.getScore(id);
      if (score >= this.options.graylistThreshold) continue;
      this.bannedUntil.set(id, Date.now() + this.options.banMs);
      this.log.warn({ peer: id, score, banMs: this.options.banMs }, 'disconnecting peer: gossip score below graylist threshold');
      node.hangUp(p).catch((e: Error) => this.log.debug({ peer: id, err: e.message }, 'hang up failed'));
    }
  }

  private logConnection(c: Connection, msg: string): void {
    this.log.info({ peer: c.remotePeer.toString(), addr: c.remoteAddr.toString(), direction: c.direction }, msg);
  }
}

function parsePeerId(peer: string): PeerId {
  try {
    return peerIdFromString(peer);
  } catch {
    throw new P2PError(P2PErrorCode.BadPeerId, `${peer} is not a peer id`, { peer });
  }
}
