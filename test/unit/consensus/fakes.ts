/**
 * Hand-written fakes of the interfaces consensus talks to (Network, Timer, IbftMetrics), and a
 * chain that makes certified blocks, for engine and block-sync tests that need one node and
 * scripted peers rather than a simulated network.
 */
import { pino } from 'pino';
import { CommitCertificate, commitVoteMessage, type Block } from '../../../chain/index.js';
import { Blockchain } from '../../../consensus/blockchain.js';
import type { ValidatorKey } from '../../../consensus/keys.js';
import type { GossipRejectReason, IbftMetrics } from '../../../consensus/metrics.js';
import { Mempool } from '../../../consensus/mempool/index.js';
import type { Timer } from '../../../consensus/timer.js';
import type { GenesisDoc } from '../../../genesis/index.js';
import { Topic, type BlockRangeProvider, type GossipHandler, type Network, type PeerInfo, type StatusProvider, type Verdict } from '../../../p2p/network.js';
import { ChainStore, MemoryKV } from '../../../storage/index.js';
import { StateMachine } from '../../../vm/index.js';
import { createModules } from '../../../vm/modules/index.js';

export const silent = pino({ level: process.env.TEST_LOG ?? 'silent' });

/** A clock that only moves when told to; timeouts fire when it passes them. */
export class ManualTimer implements Timer {
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;

  constructor(private _now = Date.parse('2026-06-01T00:00:00Z')) {}

  now(): number {
    return this._now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const t = { at: this._now + ms, fn, id: ++this.seq };
    this.pending.push(t);
    return t.id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.id !== handle);
  }

  /** Moves the clock and runs what came due, in order. */
  advance(ms: number): void {
    this._now += ms;
    for (;;) {
      const due = this.pending.filter((t) => t.at <= this._now).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) return;
      this.pending = this.pending.filter((t) => t !== due);
      due.fn();
    }
  }
}

/** What a scripted peer does when asked. Unset: it fails the request (unreachable). */
export interface FakePeer {
  status?: () => Promise<{ height: number; chainId: string }> | { height: number; chainId: string };
  blocks?: (from: number, to: number) => Promise<Uint8Array[]> | Uint8Array[];
}

/**
 * The Network interface with scripted peers: requests go to each peer's functions, gossip is
 * delivered by the test (`gossip`), bans and publications are recorded.
 */
export class FakeNetwork implements Network {
  readonly peerId = 'self';
  readonly handlers = new Map<Topic, GossipHandler>();
  readonly published: { topic: Topic; data: Uint8Array }[] = [];
  readonly bans: { peer: string; ms: number; reason: string }[] = [];
  readonly requests: { peer: string; kind: 'status' | 'blocks'; from?: number; to?: number }[] = [];
  blockProvider?: BlockRangeProvider;
  statusProvider?: StatusProvider;

  constructor(readonly scripted = new Map<string, FakePeer>()) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async publish(topic: Topic, data: Uint8Array): Promise<void> {
    this.published.push({ topic, data });
  }

  subscribe(topic: Topic, handler: GossipHandler): void {
    this.handlers.set(topic, handler);
  }

  serveBlocks(provider: BlockRangeProvider): void {
    this.blockProvider = provider;
  }

  serveStatus(provider: StatusProvider): void {
    this.statusProvider = provider;
  }

  async requestBlocks(peer: string, from: number, to: number): Promise<Uint8Array[]> {
    this.requests.push({ peer, kind: 'blocks', from, to });
    const p = this.scripted.get(peer);
    if (!p?.blocks) throw new Error(`${peer} is unreachable`);
    return p.blocks(from, to);
  }

  async requestStatus(peer: string): Promise<{ height: number; chainId: string }> {
    this.requests.push({ peer, kind: 'status' });
    const p = this.scripted.get(peer);
    if (!p?.status) throw new Error(`${peer} is unreachable`);
    return p.status();
  }

  peers(): PeerInfo[] {
    return [...this.scripted.keys()].filter((id) => !this.banned(id)).map((id) => ({ id }));
  }

  addresses(): string[] {
    return [];
  }

  ban(peer: string, ms: number, reason: string): void {
    this.bans.push({ peer, ms, reason });
  }

  banned(peer: string): boolean {
    return this.bans.some((b) => b.peer === peer);
  }

  /** Delivers a gossiped message to this node's handler, as a peer would; returns the verdict. */
  async gossip(topic: Topic, data: Uint8Array, from: string): Promise<Verdict | undefined> {
    const h = this.handlers.get(topic);
    return h ? h(data, from) : undefined;
  }
}

/** IbftMetrics that remember what they were told. */
export class RecordingIbftMetrics implements IbftMetrics {
  readonly rejected: { topic: string; reason: GossipRejectReason }[] = [];
  roundChange(): void {}
  committedBlock(): void {}
  gossipRejected(topic: 'consensus' | 'blocks', reason: GossipRejectReason): void {
    this.rejected.push({ topic, reason });
  }
}

/** A chain over an in-memory store, with a mempool. */
export async function openChain(genesis: GenesisDoc): Promise<{ chain: Blockchain; mempool: Mempool }> {
  const { registry, bank, consensus } = createModules();
  const sm = new StateMachine({ chainId: genesis.chainId }, { registry, fees: bank });
  const store = await ChainStore.open(new MemoryKV());
  const chain = await Blockchain.open(genesis, { store, sm, logger: silent, blockLimits: (s) => consensus.limits(s) });
  const mempool = new Mempool({}, { chainId: genesis.chainId, registry, fees: bank, state: () => chain.state, logger: silent });
  return { chain, mempool };
}

/** Empty blocks certified by `keys` (every validator of the genesis), committed on a chain of its own. */
export class BlockMaker {
  readonly blocks: Block[] = [];

  private constructor(
    private readonly chain: Blockchain,
    private readonly keys: readonly ValidatorKey[],
    private time: number,
  ) {}

  static async create(genesis: GenesisDoc, keys: readonly ValidatorKey[]): Promise<BlockMaker> {
    const { chain } = await openChain(genesis);
    return new BlockMaker(chain, keys, chain.head.timestamp);
  }

  /** Makes blocks up to `height` (the block at height h is blocks[h - 1]). */
  async makeUntil(height: number): Promise<void> {
    while (this.chain.height < height) {
      const valset = this.chain.validatorSet(this.chain.height + 1);
      const proposer = this.chain.proposer(this.chain.height + 1, 0).address;
      this.time += 1_000;
      const { executed } = this.chain.build(proposer, [], this.time);
      const hash = executed.block.hash();
      const h = executed.block.height;
      const votes = this.keys.map((k) => ({ index: valset.indexOf(k.address), signature: k.bls.sign(commitVoteMessage(this.chain.chainId, h, 0, hash)) }));
      const cert = CommitCertificate.aggregate(h, 0, hash, valset.size, votes);
      await this.chain.commit(executed, cert);
      this.blocks.push(executed.block.withCertificate(cert));
    }
  }

  /** Encoded blocks from..to that exist (what an honest peer serves). */
  serve(from: number, to: number): Uint8Array[] {
    return this.blocks.slice(from - 1, to).map((b) => b.serialize());
  }
}
