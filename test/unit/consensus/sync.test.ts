/**
 * Block sync against scripted peers (a fake Network): it asks every peer, syncs from the honest
 * one, bans a peer that serves blocks whose certificates fail or nothing for a range it claimed,
 * lets a peer whose requests fail rest instead of banning it, and never counts a claimed height
 * that no verified block backs (a peer claiming 10^9 makes no one report syncing, nor spin).
 */
import { expect } from 'chai';
import { Block, CommitCertificate, commitVoteMessage } from '../../../chain/index.js';
import type { Blockchain } from '../../../consensus/blockchain.js';
import { BlockSync, type SyncOptions } from '../../../consensus/sync.js';
import { testGenesis, validatorKey } from '../fixtures.js';
import { BlockMaker, FakeNetwork, ManualTimer, openChain, silent, type FakePeer } from './fakes.js';

const KEYS = [0, 1, 2, 3].map(validatorKey);
const GENESIS = testGenesis({ validators: KEYS });
const CHAIN_ID = GENESIS.chainId;
const HEAD = 20;
const LIE = 1_000_000_000;

/** A block as an honest node commits it, but with a certificate whose aggregate is over another round. */
function withForgedCertificate(b: Block): Block {
  const votes = KEYS.map((k, i) => ({ index: i, signature: k.bls.sign(commitVoteMessage(CHAIN_ID, b.height, 9, b.hash())) }));
  return b.withCertificate(CommitCertificate.aggregate(b.height, 0, b.hash(), KEYS.length, votes));
}

describe('BlockSync', () => {
  let maker: BlockMaker;
  before(async () => {
    maker = await BlockMaker.create(GENESIS, KEYS);
    await maker.makeUntil(HEAD);
  });

  const started: BlockSync[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  const honest = (height = HEAD): FakePeer => ({ status: () => ({ height, chainId: CHAIN_ID }), blocks: (from, to) => maker.serve(from, Math.min(to, height)) });

  interface Node {
    chain: Blockchain;
    sync: BlockSync;
    network: FakeNetwork;
    timer: ManualTimer;
    /** `sync.syncing` as seen at each import. */
    syncingAtImport: boolean[];
  }

  async function node(peers: Record<string, FakePeer>, opts: Partial<SyncOptions> = {}, importError?: () => Error | undefined): Promise<Node> {
    const { chain } = await openChain(GENESIS);
    const network = new FakeNetwork(new Map(Object.entries(peers)));
    const timer = new ManualTimer();
    const syncingAtImport: boolean[] = [];
    // As a node that is not a validator imports (node.ts): re-executed and committed with its certificate, which commit verifies.
    const importBlock = async (b: Block) => {
      syncingAtImport.push(sync.syncing);
      const err = importError?.();
      if (err) throw err;
      if (b.height !== chain.height + 1 || !b.certificate) return;
      await chain.commit(chain.validate(b), b.certificate);
    };
    // Rounds are run by the test (poll), not by the timer.
    const sync: BlockSync = new BlockSync({ batchSize: 8, pollIntervalMs: 3_600_000, ...opts }, { chain, network, importBlock, timer, logger: silent });
    sync.start();
    started.push(sync);
    return { chain, sync, network, timer, syncingAtImport };
  }

  it('asks every peer, syncs from the honest one, and bans the liar and the empty peer', async () => {
    const n = await node({
      liar: { status: () => ({ height: LIE, chainId: CHAIN_ID }), blocks: (from, to) => maker.blocks.slice(from - 1, to).map((b) => withForgedCertificate(b).serialize()) },
      empty: { status: () => ({ height: LIE - 1, chainId: CHAIN_ID }), blocks: () => [] },
      honest: honest(),
      otherChain: { status: () => ({ height: LIE, chainId: 'another-chain' }), blocks: () => [] },
    });
    await n.sync.poll();
    expect(n.chain.height).to.equal(HEAD);
    expect(n.network.requests.filter((r) => r.kind === 'status').map((r) => r.peer).sort()).to.deep.equal(['empty', 'honest', 'liar', 'otherChain']);
    expect(n.network.bans.map((b) => b.peer)).to.deep.equal(['liar', 'empty']);
    expect(n.network.bans[0]!.reason).to.match(/block 1, which does not verify: .*aggregate signature does not verify/);
    expect(n.network.bans[1]!.reason).to.match(/served no block of \[1, 8\] although it claimed height 999999999/);
    expect(n.network.bans.every((b) => b.ms === 300_000)).to.equal(true);
    expect(n.network.requests.some((r) => r.kind === 'blocks' && r.peer === 'otherChain'), 'asked a peer of another chain for blocks').to.equal(false);
    expect(n.sync.syncing).to.equal(false);
    expect(n.sync.bestKnownHeight, 'best known height').to.equal(HEAD);
    // While the honest peer's blocks verified, the node reported syncing.
    expect(n.syncingAtImport.slice(-5)).to.include(true);
    // Next round: the banned peers are gone from the peer list, nothing left to fetch.
    const before = n.network.requests.length;
    await n.sync.poll();
    expect(n.network.requests.slice(before).map((r) => `${r.kind}:${r.peer}`).sort()).to.deep.equal(['status:honest', 'status:otherChain']);
  });

  it('a peer claiming 10^9 that serves nothing makes no one report syncing, and the round ends', async () => {
    const n = await node({ liar: { status: () => ({ height: LIE, chainId: CHAIN_ID }), blocks: () => [] } });
    await n.sync.poll();
    expect(n.chain.height).to.equal(0);
    expect(n.sync.syncing).to.equal(false);
    expect(n.sync.bestKnownHeight).to.equal(0);
    expect(n.network.bans.map((b) => b.peer)).to.deep.equal(['liar']);
    expect(n.network.requests.filter((r) => r.kind === 'blocks')).to.have.length(1);
  });

  it('a peer that serves the real chain but claims 10^9 is followed to the real head, then banned; its claim does not stay', async () => {
    const n = await node({ liar: { status: () => ({ height: LIE, chainId: CHAIN_ID }), blocks: (from, to) => maker.serve(from, to) } });
    await n.sync.poll();
    expect(n.chain.height).to.equal(HEAD);
    expect(n.network.bans.map((b) => b.reason)).to.deep.equal([`block sync: served no block of [21, 28] although it claimed height ${LIE}`]);
    expect(n.sync.syncing).to.equal(false);
    expect(n.sync.bestKnownHeight).to.equal(HEAD);
  });

  it('bans a peer that serves blocks out of order or without a certificate', async () => {
    const shifted = await node({ a: { status: () => ({ height: HEAD, chainId: CHAIN_ID }), blocks: (from, to) => maker.serve(from + 1, to + 1) }, b: honest(5) });
    await shifted.sync.poll();
    expect(shifted.network.bans.map((x) => [x.peer, x.reason])).to.deep.equal([['a', 'block sync: served block 2 where block 1 was asked for']]);
    expect(shifted.chain.height).to.equal(5);
    const bare = await node({ a: { status: () => ({ height: HEAD, chainId: CHAIN_ID }), blocks: (from, to) => maker.blocks.slice(from - 1, to).map((b) => new Block(b.header, b.transactions).serialize()) } });
    await bare.sync.poll();
    expect(bare.network.bans.map((x) => x.reason)).to.deep.equal(['block sync: served block 1 without its commit certificate']);
    expect(bare.chain.height).to.equal(0);
  });

  it('lets a peer whose requests fail rest (asking the others first) instead of banning it', async () => {
    let down = true;
    const n = await node(
      {
        slow: {
          status: () => ({ height: HEAD, chainId: CHAIN_ID }),
          blocks: (from, to) => {
            if (down) throw new Error('request timed out');
            return maker.serve(from, to);
          },
        },
        behind: honest(12),
      },
      { retryMs: 5_000 },
    );
    await n.sync.poll();
    expect(n.chain.height, 'synced from the other peer').to.equal(12);
    expect(n.network.bans).to.deep.equal([]);
    const asked = () => n.network.requests.filter((r) => r.kind === 'blocks' && r.peer === 'slow').length;
    expect(asked()).to.equal(1);
    down = false;
    n.timer.advance(1_000);
    await n.sync.poll();
    expect(asked(), 'asked again while resting').to.equal(1);
    expect(n.chain.height).to.equal(12);
    n.timer.advance(5_000);
    await n.sync.poll();
    expect(n.chain.height).to.equal(HEAD);
    expect(n.network.bans).to.deep.equal([]);
  });

  it('does not ban a peer when the import fails on this node\'s side, and stops the round', async () => {
    const n = await node({ a: honest() }, {}, () => new Error('consensus is stopped: block 1 was not imported'));
    await n.sync.poll();
    expect(n.network.bans).to.deep.equal([]);
    expect(n.chain.height).to.equal(0);
    expect(n.network.requests.filter((r) => r.kind === 'blocks')).to.have.length(1);
    expect(n.sync.syncing).to.equal(false);
  });
});
