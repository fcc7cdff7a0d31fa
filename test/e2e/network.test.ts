/**
 * Four validator processes on loopback, written by `metanode testnet` and started from their
 * homes: agreement, crash and restart of one validator, a halt without a fork when two are down,
 * no double signing across kill -9 restarts, and forged consensus gossip.
 *
 * "Random" moments come from a seeded PRNG; the seed is printed, and METANODE_E2E_SEED=<seed>
 * replays a run. A failing run keeps the homes and logs (so does METANODE_E2E_KEEP=1).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { pino } from 'pino';
import { Ed25519Key, Transaction, addressFromPublicKey, formatAddress, parseAddress, rlpEncode, toHex } from '../../chain/index.js';
import { programId } from '../../docklock/index.js';
import { encodeDeploy, encodeRun } from '../../vm/modules/docklock/index.js';
import { devAccountKey } from '../../genesis/index.js';
import { MSG_NAMES, MsgType, SignedMessage, decodeEnvelope, encodeEnvelope } from '../../consensus/index.js';
import { P2PNetwork, Topic, Verdict } from '../../p2p/index.js';
import { checkChainConsistency } from './invariants.js';
import { devAddress, sendTransfer, sleep, waitFor, waitForReceipt, type BlockJson, type ReceiptJson } from './harness.js';
import { ConsensusObserver, Testnet, TxPump, observerOptions, prng, sha256, type LogLine, type SignLogRecord, type ValidatorNode } from './testnet-harness.js';

const CONSENSUS = { emptyBlockIntervalMs: 300, roundTimeoutMs: 500, maxRoundTimeoutMs: 4_000 };
const QUORUM = 3;

const peerIdOf = (multiaddr: string) => multiaddr.slice(multiaddr.lastIndexOf('/p2p/') + 5);
const withoutCertificate = (b: BlockJson<string>) => ({ ...b, certificate: undefined });

describe('e2e: a network of four validator processes', function () {
  this.timeout(180_000);
  const seed = Number(process.env.METANODE_E2E_SEED ?? Date.now() % 2 ** 31);
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const shuffled = <T>(xs: readonly T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  let net: Testnet;
  let observer: ConsensusObserver;
  /** A test failed, or a hook did not finish: keep the homes and logs. */
  let failed = false;
  let settled = true;

  before(async () => {
    settled = false;
    console.log(`      seed ${seed} (replay with METANODE_E2E_SEED=${seed})`);
    // Keys for the observer and the three attackers of the gossip test, which the validators admit.
    net = await Testnet.create({ validators: 4, devAccounts: 4, consensus: CONSENSUS, observers: 4 });
    await net.startAll();
    observer = await ConsensusObserver.start({ chainId: net.chainId, valset: net.valset, bootstrap: net.multiaddrs, privateKey: net.observerKeys[0]! });
    const ids = net.multiaddrs.map(peerIdOf);
    await waitFor('the observer to have a gossip stream to every validator', async () => ids.every((id) => observer.network.publishPeers(Topic.Consensus).includes(id)));
    await net.waitForHeight(2);
    settled = true;
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    await observer?.stop();
    const keep = failed || !settled || process.env.METANODE_E2E_KEEP === '1';
    if (keep && net) console.log(`      kept the testnet and its logs (node*/node.log) in ${net.dir}`);
    await net?.remove(keep);
  });

  /** Every validator running and the network committing, whatever an earlier test left behind. */
  beforeEach(async () => {
    settled = false;
    await net.startAll();
    const h = Math.max(...(await net.heads()).map((x) => x.height));
    await net.waitForHeight(h + 1);
    settled = true;
  });

  function expectNoCrashes(): void {
    expect(net.crashes, 'node processes that exited on their own').to.deep.equal([]);
  }

  /** Blocks with height > `after` served by `node`, as they are committed, until `found` returns true. */
  async function watchBlocks(node: ValidatorNode, after: number, what: string, found: (b: BlockJson<string>) => boolean, timeoutMs = 20_000): Promise<BlockJson<string>> {
    let next = after + 1;
    return waitFor(what, async () => {
      for (const head = await node.height(); next <= head; next++) {
        const b = (await node.block(next))!;
        if (found(b)) return b;
      }
      return undefined;
    }, timeoutMs, 50);
  }

  function expectCertificates(blocks: readonly BlockJson<string>[], who: string): void {
    for (const b of blocks) {
      const c = b.certificate;
      expect(c, `${who}: block ${b.height} has a certificate`).to.not.equal(null);
      expect({ height: c!.height, blockHash: c!.blockHash }, `${who}: certificate of block ${b.height}`).to.deep.equal({ height: b.height, blockHash: b.hash });
      expect(c!.signers.length, `${who}: signers of block ${b.height} (${c!.signers.join(',')})`).to.be.at.least(QUORUM);
      expect(new Set(c!.signers).size, `${who}: distinct signers of block ${b.height}`).to.equal(c!.signers.length);
      for (const s of c!.signers) expect(s, `${who}: signer index in block ${b.height}`).to.be.within(0, net.nodes.length - 1);
    }
  }

  it('commits blocks; a transfer sent to one node is committed with the same block and receipt on all four; heads, state roots and certificates agree', async () => {
    await net.waitForHeight(12); // three turns of the proposer rotation
    const entry = pick(net.nodes);
    const amount = 123_456n;
    const { hash } = await sendTransfer(entry.rpc, { chainId: net.chainId, from: 0, to: 1, amount });
    const receipt = await waitForReceipt(entry.rpc, hash);
    expect(receipt.status, `receipt from ${entry.name}`).to.equal('success');

    const receipts = await Promise.all(net.nodes.map((n) => waitForReceipt(n.rpc, hash)));
    for (const [i, r] of receipts.entries()) expect(r, `receipt served by node${i}`).to.deep.equal(receipt);
    const blocks = await Promise.all(net.nodes.map((n) => n.block(receipt.blockHeight)));
    for (const [i, b] of blocks.entries()) {
      expect(b!.hash, `block ${receipt.blockHeight} on node${i}`).to.equal(receipt.blockHash);
      expect(b!.transactions, `transactions of block ${receipt.blockHeight} on node${i}`).to.include(hash);
      expect(withoutCertificate(b!)).to.deep.equal(withoutCertificate(blocks[0]!));
    }
    const tx = await net.nodes[3]!.rpc.call<{ args: Record<string, string> }>('chain_getTransaction', [hash]);
    expect(tx.args).to.deep.include({ to: devAddress(1), amount: amount.toString() });

    // A common height: the same block (so the same state root) on every node, every block certified.
    const common = Math.min(...(await net.heads()).map((h) => h.height));
    const chains = await Promise.all(net.nodes.map((n) => n.blocks(1, common)));
    for (const [i, chain] of chains.entries()) {
      expect(chain[common - 1]!.stateRoot, `state root at ${common} on node${i}`).to.equal(chains[0]![common - 1]!.stateRoot);
      expect(chain.map((b) => b.hash), `block hashes 1..${common} on node${i}`).to.deep.equal(chains[0]!.map((b) => b.hash));
      expectCertificates(chain, `node${i}`);
    }
    const signers = new Set(chains.flatMap((c) => c.flatMap((b) => b.certificate!.signers)));
    expect([...signers].sort(), 'validators that signed some certificate').to.deep.equal([0, 1, 2, 3]);
    const proposers = new Set(chains[0]!.map((b) => b.proposer));
    expect([...proposers].sort(), 'validators that proposed some block').to.deep.equal(net.nodes.map((n) => n.address).sort());

    // And a moment when all four report the very same head.
    const head = await net.waitForSameHead();
    expect(head.height).to.be.at.least(common);
    expectNoCrashes();
  });

  it('runs a DockLock job in consensus: all four validators executed it and hold the same job record (receipt, output)', async () => {
    const code = new Uint8Array(readFileSync(new URL('../../../examples/jobs/sha256.wasm', import.meta.url)));
    const key = devAccountKey(2);
    const from = formatAddress(addressFromPublicKey(key.publicKey));
    const entry = net.nodes[1]!;
    const send = async (kind: string, payload: Uint8Array) => {
      const { nonce } = await entry.rpc.call<{ nonce: number }>('state_getAccount', [from]);
      const tx = Transaction.sign({ chainId: net.chainId, nonce: BigInt(nonce), sender: key.publicKey, fee: 1_000n, kind, payload }, key);
      const { hash } = await entry.rpc.call<{ hash: string }>('tx_send', [toHex(tx.serialize())]);
      const r = await waitForReceipt(entry.rpc, hash);
      expect(r.status, `${kind}: ${JSON.stringify(r)}`).to.equal('success');
      return hash;
    };
    await send('docklock.deploy', encodeDeploy({ code }));
    const job = await send('docklock.run', encodeRun({ program: programId(code), input: new TextEncoder().encode('abc'), fuel: 1_000_000 }));
    const records = await Promise.all(net.nodes.map(async (n) => (await waitForReceipt(n.rpc, job), n.rpc.call<{ output: string; receipt: { bytes: string; status: string } }>('module_query', ['docklock', 'job', { id: job }]))));
    expect(records[0]!.output).to.equal(`0x${sha256(new TextEncoder().encode('abc'))}`);
    expect(records[0]!.receipt.status).to.equal('ok');
    for (const [i, r] of records.entries()) expect(r, `the job as node${i} holds it`).to.deep.equal(records[0]);
    expectNoCrashes();
  });

  it('keeps committing with one validator killed; the validator restarts, catches up by block sync and rejoins consensus', async () => {
    const victim = pick(net.nodes);
    const others = net.nodes.filter((n) => n !== victim);
    await victim.kill();
    const downAt = Math.max(...(await net.heads(others)).map((h) => h.height));
    await net.waitForHeight(downAt + 5, others);
    for (const n of others) expect((await n.blocks(downAt + 1, downAt + 5)).length).to.equal(5);

    const logFrom = await victim.logSize();
    await victim.start();
    const target = Math.max(...(await net.heads(others)).map((h) => h.height));
    await net.waitForHeight(target, [victim]);
    const head = await net.waitForSameHead(net.nodes);
    await waitFor(`${victim.name} to log that block sync caught up`, async () => (await victim.logLines(logFrom)).some((l) => l.msg === 'block sync caught up'));
    await net.assertNoFork(head.height, net.nodes);

    // Rejoined: others' certificates count its COMMIT again, and it proposes again.
    const witness = pick(others);
    const signed = await watchBlocks(witness, head.height, `a certificate on ${witness.name} signed by ${victim.name}`, (b) => b.certificate!.signers.includes(victim.setIndex));
    const proposed = await watchBlocks(witness, head.height, `a block proposed by ${victim.name}`, (b) => b.proposer === victim.address);
    expect(signed.height).to.be.greaterThan(head.height);
    expect(proposed.height).to.be.greaterThan(head.height);
    expectNoCrashes();
  });

  it('halts without forking while two of four are stopped, and resumes when one returns', async () => {
    const [a, b] = shuffled(net.nodes) as [ValidatorNode, ValidatorNode, ...ValidatorNode[]];
    await Promise.all([a.stop(), b.stop()]);
    const alive = net.running;
    expect(alive).to.have.length(2);

    // Let a block already in flight land (and a lagging node sync it), then watch for a while:
    // nothing may move. (Showing that something does not happen takes a window of time.)
    let last = '';
    let since = Date.now();
    const halted = await waitFor('the two running validators to settle on one head', async () => {
      const hs = await net.heads(alive);
      const now = hs.map((h) => h.hash).join();
      if (now !== last) [last, since] = [now, Date.now()];
      return hs.every((h) => h.hash === hs[0]!.hash) && Date.now() - since >= 1_500 ? hs[0] : undefined;
    }, 20_000, 100);
    const watchUntil = Date.now() + 3_000;
    while (Date.now() < watchUntil) {
      for (const h of await net.heads(alive)) expect(h, 'head while two of four are down').to.deep.equal(halted);
      await sleep(100);
    }
    await net.assertNoFork(halted.height, alive);

    await a.start();
    await net.waitForHeight(halted.height + 3, [...alive, a], 30_000);
    await b.start();
    const head = await net.waitForSameHead(net.nodes);
    await net.assertNoFork(head.height, net.nodes);
    expectNoCrashes();
  });

  it('never double-signs when validators are killed (-9) at random moments and restarted while transactions flow', async () => {
    const logFrom = await Promise.all(net.nodes.map((n) => n.logSize()));
    const pump = new TxPump(net, [0, 1, 2, 3], random);
    pump.start();
    try {
      const start = Math.max(...(await net.heads()).map((h) => h.height));
      const hexOf = (n: ValidatorNode) => toHex(parseAddress(n.address));
      /** kill -9, then read what the victim's sign log holds while it is down. */
      const crashes: { node: ValidatorNode; killedAt: number; records: SignLogRecord[] }[] = [];
      const crash = async (victim: ValidatorNode) => {
        await victim.kill();
        crashes.push({ node: victim, killedAt: Date.now(), records: await victim.readSignLog() });
      };

      // All four up, kills at random moments: the other three carry on while one is down.
      for (let i = 0; i < 3; i++) {
        const victim = pick(net.nodes);
        await sleep(random() * 1_000);
        await crash(victim);
        await victim.start();
      }

      // One held down: now every kill stops the chain, and the victim must resume the height and
      // round it was signing in, from its sign log. Some kills land at a random moment, the others
      // the moment the observer sees the victim's PROPOSAL, PREPARE, COMMIT or ROUND-CHANGE.
      const spare = pick(net.nodes);
      await crash(spare);
      const three = net.nodes.filter((n) => n !== spare);
      const bySender = new Map(three.map((n) => [hexOf(n), n]));
      const moments = [MsgType.Proposal, MsgType.Prepare, 'random', MsgType.RoundChange, MsgType.Commit, MsgType.Proposal, 'random'] as const;
      for (const moment of moments) {
        const height = Math.max(...(await net.heads(three)).map((h) => h.height));
        if (moment === MsgType.RoundChange) {
          // Stall the chain with a second validator down, so the others change rounds; kill one the
          // moment its ROUND-CHANGE is seen. Restarted, it must resume that round from its sign log.
          const [holder, victim] = shuffled(three) as [ValidatorNode, ValidatorNode];
          const victimLog = await victim.logSize();
          await crash(holder);
          const rc = await observer.next(`ROUND-CHANGE from ${victim.name}`, (m) => m.type === MsgType.RoundChange && m.body.height > height && toHex(m.sender) === hexOf(victim));
          await crash(victim);
          await Promise.all([holder.start(), victim.start()]);
          const resumed = await waitFor(`${victim.name} to resume height ${rc.body.height} from its sign log`, async () =>
            (await victim.logLines(victimLog)).find((l) => l.msg === 'resuming consensus from the sign log'),
          );
          expect({ height: resumed.height, round: Number(resumed.round) >= rc.body.round }, `${victim.name} resumed`).to.deep.equal({ height: rc.body.height, round: true });
        } else {
          let victim: ValidatorNode;
          if (moment === 'random') {
            victim = pick(three);
            await sleep(random() * 1_000);
          } else if (moment === MsgType.Proposal) {
            const m = await observer.next('a PROPOSAL of a new height', (m) => m.type === moment && m.body.height > height && bySender.has(toHex(m.sender)));
            victim = bySender.get(toHex(m.sender))!;
          } else {
            victim = pick(three);
            await observer.next(`a ${MSG_NAMES[moment]} of a new height from ${victim.name}`, (m) => m.type === moment && m.body.height > height && toHex(m.sender) === hexOf(victim));
          }
          await crash(victim);
          await victim.start();
        }
        await net.waitForHeight(height + 2, three, 30_000);
      }
      await spare.start();
      await pump.stop();

      const head = await net.waitForSameHead(net.nodes, 30_000);
      await net.assertNoFork(head.height, net.nodes);
      expect(head.height, 'blocks committed during the kills').to.be.greaterThan(start + 5);
      expect(pump.committed.size, 'transfers committed during the kills').to.be.at.least(8);
      for (const n of net.nodes) {
        const found = await n.rpc.batchResults<ReceiptJson | null>([...pump.committed.keys()].map((h) => ({ method: 'chain_getReceipt', params: [h] })));
        expect(found.filter((r) => r === null), `receipts missing on ${n.name}`).to.deep.equal([]);
        expect(found.map((r) => r!.blockHeight)).to.deep.equal([...pump.committed.values()]);
      }
      if (pump.errors.length) console.log(`      mempool rejections seen by the pump: ${pump.errors.slice(0, 5).join('; ')}`);

      // What the observer was sent: no validator signed two different messages of one kind at one height and round.
      expect(observer.equivocations(), 'equivocations seen by the observer').to.deep.equal([]);
      // Whatever a killed validator had sent was in its sign log on disk, and it sent nothing else for those rounds.
      let matched = 0;
      for (const c of crashes) {
        const r = observer.compareWithSignLog(hexOf(c.node), c.records, c.killedAt);
        expect(r.problems, `${c.node.name} killed at ${new Date(c.killedAt).toISOString()}: observed messages vs its sign log`).to.deep.equal([]);
        matched += r.matched;
      }
      expect(matched, 'observed messages found in the sign logs of killed validators').to.be.greaterThan(0);
      const counts = observer.countBySender();
      for (const n of net.nodes) expect(counts.get(toHex(parseAddress(n.address))) ?? 0, `messages seen from ${n.name}`).to.be.greaterThan(10);
      // Nor did any validator receive two such messages from one sender.
      let resumed = 0;
      let refused = 0;
      for (const [i, n] of net.nodes.entries()) {
        const lines = await n.logLines(logFrom[i]);
        const equivocating = lines.filter((l) => /equivocat/i.test(String(l.reason ?? '')));
        expect(equivocating.map((l) => l.reason), `equivocation reported by ${n.name}`).to.deep.equal([]);
        resumed += lines.filter((l) => l.msg === 'resuming consensus from the sign log').length;
        refused += lines.filter((l) => /^refusing to sign/.test(l.msg)).length;
      }
      console.log(`      ${observer.votes.size} messages observed, ${matched} checked against sign logs read after ${crashes.length} kills; restarts that resumed a round > 0 from the sign log: ${resumed}; signatures refused by the sign log: ${refused}`);
      expect(crashes.length, 'kills').to.equal(3 + 1 + moments.length + 1);
      await checkChainConsistency(net.nodes[0]!.rpc, net.genesis);
      expectNoCrashes();
    } finally {
      pump.abort(); // a no-op once it has stopped
    }
  });

  it('drops forged, malformed, stale and oversized consensus gossip and keeps committing', async () => {
    const logFrom = await Promise.all(net.nodes.map((n) => n.logSize()));
    const ids = net.multiaddrs.map(peerIdOf);
    const attackers: P2PNetwork[] = [];
    const attacker = async () => {
      const privateKey = net.observerKeys[1 + attackers.length]!;
      const a = new P2PNetwork(observerOptions(net.chainId, net.multiaddrs, { topicMaxBytes: { [Topic.Consensus]: 8 * 1024 * 1024 } }), { logger: pino({ level: 'silent' }), privateKey });
      attackers.push(a);
      // Subscribed (to nothing it keeps): a peer is only published to once the validators know it
      // and this node's gossip stream to each of them is open.
      a.subscribe(Topic.Consensus, () => Verdict.Ignore);
      await a.start();
      await waitFor('an attacker to have a gossip stream to every validator', async () => ids.every((id) => a.publishPeers(Topic.Consensus).includes(id)));
      return a;
    };
    const sent: Uint8Array[] = [];
    const publish = async (a: P2PNetwork, data: Uint8Array) => {
      sent.push(data);
      await a.publish(Topic.Consensus, data);
    };
    /** Waits until every validator logged `msg` at least `count` times since the test began. */
    const everyNodeLogged = (msg: string, count = 1) =>
      waitFor(`every validator to log "${msg}"`, async () => {
        const lines = await Promise.all(net.nodes.map((n, i) => n.logLines(logFrom[i])));
        return lines.every((ls: LogLine[]) => ls.filter((l) => l.msg === msg).length >= count);
      });
    try {
      const height = await net.nodes[0]!.height();
      const outsider = Ed25519Key.generate();
      const prepare = (h: number, key: Ed25519Key, sender: Uint8Array) =>
        encodeEnvelope({ message: SignedMessage.sign(net.chainId, { type: MsgType.Prepare, height: h, round: 0, digest: randomBytes(32) }, sender, key), roundChanges: [], prepares: [] });

      // Stale replays (real messages of past heights, re-wrapped so gossip does not dedupe them)
      // and far-future ones are ignored without penalty: the sender stays connected.
      const quiet = await attacker();
      const old = [...observer.recent.entries()].filter(([h]) => h < height).slice(0, 5);
      expect(old.length, 'recorded envelopes of past heights').to.be.at.least(3);
      for (const [, bytes] of old) {
        const e = decodeEnvelope(bytes);
        await publish(quiet, encodeEnvelope({ ...e, prepares: [...e.prepares, e.message] }));
      }
      for (let i = 0; i < 3; i++) await publish(quiet, prepare(height + 1_000 + i, outsider, addressFromPublicKey(outsider.publicKey)));
      const h1 = await net.nodes[0]!.height();
      await net.waitForHeight(h1 + 4);
      expect(quiet.peers().map((p) => p.id).sort(), 'validators still connected to the sender of stale messages').to.deep.equal([...ids].sort());

      // Claiming a validator's address with another key: rejected. From a key outside the set, for
      // a later height: ignored, not punished (it may be a validator by then), and never relayed.
      const forger = await attacker();
      const now = (await net.nodes[0]!.height()) + 4; // current or buffered for a near future height, never stale
      await publish(forger, prepare(now, outsider, addressFromPublicKey(outsider.publicKey)));
      await publish(forger, prepare(now, outsider, parseAddress(net.nodes[1]!.address)));
      await everyNodeLogged('consensus message with a bad signature or from a non-validator', 1);

      // Oversized for the consensus topic (4 MiB), within what a gossip frame may carry: rejected
      // by size before it is decoded. (Larger frames are cut off by the stream decoder itself.)
      await publish(quiet, randomBytes(4 * 1024 * 1024 + 1024));
      await everyNodeLogged('rejected oversized gossip message');

      // Junk: rejected, and a peer that keeps sending it is disconnected by every validator.
      const junk = await attacker();
      await publish(junk, randomBytes(300));
      await publish(junk, rlpEncode([Uint8Array.of(1), [Uint8Array.of(2)]]));
      await everyNodeLogged('malformed consensus message', 2);
      for (let i = 0; i < 4; i++) await publish(junk, randomBytes(100 + i)).catch(() => undefined);
      await waitFor('every validator to disconnect the junk sender', async () => junk.peers().length === 0, 15_000);

      const resumed = await net.nodes[0]!.height();
      await net.waitForHeight(resumed + 5, net.nodes);
      const head = await net.waitForSameHead(net.nodes);
      await net.assertNoFork(head.height, net.nodes);
      for (const data of sent) expect(observer.payloads.has(sha256(data)), 'a forged message was relayed to the observer').to.equal(false);
      expect(observer.equivocations(), 'equivocations seen by the observer').to.deep.equal([]);
      expectNoCrashes();
      expect(await net.errorLogLines(), 'error-level log lines over the whole run').to.deep.equal([]);
    } finally {
      await Promise.all(attackers.map((a) => a.stop()));
    }
  });
});
