/**
 * The fault suite's shared network: four validator processes from `metanode testnet` homes, each
 * in a network namespace of its own when the machine allows it (root and iproute2, as on CI), on
 * loopback otherwise (then the partition test is skipped, with the reason printed). The faults
 * run one after the other on this one network; each test first waits for all four to be running
 * and committing, and checks afterwards that no node crashed and no two nodes disagree on any
 * block. Each prints its figure (`figure {...}`: one JSON line).
 *
 * Timings are reported, not asserted: a test only bounds a wait generously enough that it can
 * fail on a real hang alone. Set METANODE_E2E_KEEP=1 to keep the homes and logs of a passing run
 * (a failing one keeps them anyway).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseAddress, proposerAt, toHex } from '../../chain/index.js';
import type { GenesisDoc } from '../../genesis/index.js';
import { checkChainConsistency } from '../e2e/invariants.js';
import { TransferLoad } from '../e2e/load.js';
import { sleep, waitFor, type ReceiptJson } from '../e2e/harness.js';
import { prng, type Testnet, type ValidatorNode } from '../e2e/testnet-harness.js';
import { HostileClients, createFaultNet, figure, medianInterval, skewedClockUnavailable, withSkewedClock, worstGap, type FaultNet } from './harness.js';

const FLOOD = fileURLToPath(new URL('../../bench/flood.js', import.meta.url));

const CONSENSUS = { emptyBlockIntervalMs: 300, roundTimeoutMs: 500, maxRoundTimeoutMs: 4_000 };
/** A wait that only a hang outlasts. */
const HANG = 120_000;

describe('fault: one network of four validators through a sequence of faults', function () {
  this.timeout(240_000);
  const seed = Number(process.env.METANODE_E2E_SEED ?? Date.now() % 2 ** 31);
  const random = prng(seed);
  let fault: FaultNet;
  let net: Testnet;
  let genesis: GenesisDoc;
  let failed = false;
  let settled = true;

  before(async function () {
    this.timeout(HANG);
    settled = false;
    console.log(`      seed ${seed} (replay with METANODE_E2E_SEED=${seed})`);
    fault = await createFaultNet({ validators: 4, devAccounts: 8, consensus: CONSENSUS, netns: true });
    net = fault.net;
    genesis = net.genesis;
    console.log(`      nodes at ${net.nodes.map((n) => n.host).join(', ')}${fault.lab ? ' (one network namespace each)' : ''}`);
    await net.startAll();
    await net.waitForHeight(2, net.nodes, HANG);
    settled = true;
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    for (const n of net?.nodes ?? []) n.resume();
    const keep = failed || !settled || process.env.METANODE_E2E_KEEP === '1';
    if (keep && net) console.log(`      kept the testnet and its logs (node*/node.log) in ${net.dir}`);
    await fault?.remove(keep);
  });

  /** Every validator running, none paused, the network committing, whatever an earlier test left. */
  beforeEach(async () => {
    settled = false;
    fault.lab?.heal();
    for (const n of net.nodes) n.resume();
    await net.startAll();
    const h = Math.max(...(await net.heads()).map((x) => x.height));
    await net.waitForHeight(h + 1, net.nodes, HANG);
    settled = true;
  });

  /** No node exited on its own, and all four hold the same blocks up to the lowest head. */
  async function expectHealthyAndAgreeing(): Promise<number> {
    expect(net.crashes, 'node processes that exited on their own').to.deep.equal([]);
    const head = await net.waitForSameHead(net.nodes, HANG);
    await net.assertNoFork(head.height, net.nodes);
    return head.height;
  }

  const others = (n: ValidatorNode) => net.nodes.filter((m) => m !== n);
  const maxHead = async (nodes = net.nodes) => Math.max(...(await net.heads(nodes)).map((h) => h.height));

  it('garbage and half-open connections to a validator\'s p2p port: it keeps committing, stays healthy, memory bounded', async () => {
    const victim = net.nodes[1]!;
    const before = victim.memory();
    const from = await victim.height();
    const blocks = 16;
    const attack = new HostileClients(victim.host, victim.p2pPort, 40);
    let peakRss = before.rssMiB;
    let unhealthy = 0;
    let health = 0;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, victim.memory().rssMiB);
      } catch {
        // exited: the crash check below says so
      }
    }, 200);
    const t0 = Date.now();
    attack.start();
    try {
      await waitFor(`${victim.name} to commit ${blocks} blocks under attack`, async () => {
        const res = await fetch(`http://${victim.host}:${victim.rpcPort}/health`);
        await res.text();
        health++;
        if (res.status !== 200) unhealthy++;
        return (await victim.height()) >= from + blocks;
      }, HANG, 100);
    } finally {
      attack.stop();
      clearInterval(sampler);
    }
    const seconds = (Date.now() - t0) / 1000;
    const after = victim.memory();
    peakRss = Math.max(peakRss, after.rssMiB);
    const window = await victim.blocks(from + 1, from + blocks);
    const proposed = window.filter((b) => b.proposer === victim.address).length;
    const signed = window.filter((b) => b.certificate!.signers.includes(victim.setIndex)).length;
    figure('p2p garbage and half-open connections', {
      blocks, seconds, worstGapMs: worstGap(window).ms, proposedByVictim: proposed, signedByVictim: signed, opened: attack.opened, closedByNode: attack.closedByNode, refused: attack.refused,
      healthChecks: health, unhealthy, rssBeforeMiB: before.rssMiB, rssPeakMiB: peakRss, rssAfterMiB: after.rssMiB, vmHwmMiB: after.peakRssMiB,
    });
    // Whether its own proposals and votes still make it in time depends on how busy the machine is
    // (the figure says); that it commits, answers and holds its memory does not.
    expect(unhealthy, 'GET /health answers other than 200 during the attack').to.equal(0);
    expect(peakRss - before.rssMiB, 'RSS growth during the attack (MiB)').to.be.below(256);
    await expectHealthyAndAgreeing();
  });

  it('a paused validator (SIGSTOP): the other three go on; after SIGCONT it catches up', async () => {
    const victim = net.nodes[2]!;
    const rest = others(victim);
    const from = await maxHead(rest);
    const blocks = 12; // three turns of the proposer rotation: the paused one's turns time out
    victim.pause();
    const t0 = Date.now();
    await net.waitForHeight(from + blocks, rest, HANG);
    const pausedSeconds = (Date.now() - t0) / 1000;
    const window = await rest[0]!.blocks(from + 1, from + blocks);
    const target = await maxHead(rest);
    victim.resume();
    const t1 = Date.now();
    await net.waitForHeight(target, [victim], HANG);
    const catchUpSeconds = (Date.now() - t1) / 1000;
    const gap = worstGap(window);
    figure('paused validator', { blocks, pausedSeconds, worstGapMs: gap.ms, worstGapAt: gap.height, roundChanges: window.filter((b) => b.certificate!.round > 0).length, catchUpSeconds });
    // Its votes for the block in progress as it stopped may be in the next two; none after.
    const frozen = window.slice(2);
    expect(frozen.filter((b) => b.proposer === victim.address).map((b) => b.height), 'blocks proposed by the paused validator').to.deep.equal([]);
    for (const b of frozen) expect(b.certificate!.signers, `signers of block ${b.height}`).to.not.include(victim.setIndex);
    await expectHealthyAndAgreeing();
  });

  it('a paused proposer (SIGSTOP as its turn comes): a round change, another proposes; after SIGCONT it catches up', async () => {
    const victim = net.nodes[3]!;
    const rest = others(victim);
    const me = toHex(parseAddress(victim.address));
    const isNext = (h: number) => toHex(proposerAt(() => net.valset, h + 1, 0).address) === me;
    // The moment its turn comes: the head is the block before the one it is to propose.
    const at = await waitFor(`the turn of ${victim.name} to propose`, async () => {
      const h = await victim.height();
      return isNext(h) ? h : undefined;
    }, HANG, 5);
    victim.pause();
    const t0 = Date.now();
    await net.waitForHeight(at + 2, rest, HANG);
    const [block] = await rest[0]!.blocks(at + 1, at + 1);
    const seconds = (Date.now() - t0) / 1000;
    const target = await maxHead(rest);
    victim.resume();
    const t1 = Date.now();
    await net.waitForHeight(target, [victim], HANG);
    const catchUpSeconds = (Date.now() - t1) / 1000;
    const parent = (await rest[0]!.block(at))!;
    figure('paused proposer', { height: at + 1, proposedBy: net.nodes.find((n) => n.address === block!.proposer)!.name, round: block!.certificate!.round, gapMs: block!.timestamp - parent.timestamp, pastItSeconds: seconds, catchUpSeconds });
    // It may have proposed in the few ms between its turn coming and the SIGSTOP: then its block can still win.
    if (block!.proposer !== victim.address) expect(block!.certificate!.round, `round of block ${at + 1}, proposed by another`).to.be.greaterThan(0);
    await expectHealthyAndAgreeing();
  });

  for (const offset of [-30, 30]) {
    it(`a validator whose clock is ${Math.abs(offset)} s ${offset < 0 ? 'behind' : 'ahead'} (libfaketime): the network keeps committing, no fork`, async function () {
      const why = skewedClockUnavailable(offset);
      if (why) {
        console.log(`      skipped: ${why}`);
        this.skip();
      }
      const victim = net.nodes[0]!;
      const rest = others(victim);
      const launch = victim.launch;
      await victim.kill();
      victim.launch = withSkewedClock(victim, offset);
      const logFrom = await victim.logSize();
      try {
        await victim.start(HANG);
        // The skew took: the node's own log lines are stamped with its clock.
        const stamps = (await victim.logLines(logFrom)).map((l) => Date.parse(String(l.time))).filter((t) => !Number.isNaN(t));
        expect(stamps.length, `${victim.name}'s log lines since its restart`).to.be.greaterThan(0);
        expect((stamps.at(-1)! - Date.now()) / 1000, `${victim.name}'s clock offset (s), from its last log line`).to.be.closeTo(offset, 10);
        const from = await maxHead(rest);
        const blocks = 12;
        const t0 = Date.now();
        await net.waitForHeight(from + blocks, rest, HANG);
        const seconds = (Date.now() - t0) / 1000;
        const window = await rest[0]!.blocks(from + 1, from + blocks);
        const victimLag = (await maxHead(rest)) - (await victim.height());
        // The skewed node says so: its peers' proposals are ~offset off its clock (ahead of it when
        // it is behind, refused; behind it when it is ahead, whose own proposals the others refuse).
        const warnings = (await victim.logLines(logFrom)).filter((l) => /clock is probably (behind|ahead)/.test(l.msg));
        expect(warnings.length, `${victim.name}'s clock-drift warnings`).to.be.greaterThan(0);
        expect(warnings[0]!.msg, 'which clock the warning blames').to.match(offset < 0 ? /probably behind/ : /probably ahead/);
        expect(Number(warnings[0]!.offsetMs) / 1000, 'the offset it measured (s): peers\' timestamps minus its clock').to.be.closeTo(-offset, 10);
        figure(`clock ${offset > 0 ? '+' : ''}${offset} s`, {
          blocks, seconds, worstGapMs: worstGap(window).ms, roundChanges: window.filter((b) => b.certificate!.round > 0).length,
          proposedBySkewed: window.filter((b) => b.proposer === victim.address).length, signedBySkewed: window.filter((b) => b.certificate!.signers.includes(victim.setIndex)).length, skewedLagBlocks: victimLag,
        });
        const common = Math.min(...(await net.heads()).map((h) => h.height));
        await net.assertNoFork(common, net.nodes);
        expect(net.crashes, 'node processes that exited on their own').to.deep.equal([]);
      } finally {
        await victim.kill();
        victim.launch = launch;
      }
      await victim.start(HANG);
      await expectHealthyAndAgreeing();
    });
  }

  it('a 2|2 partition (network namespaces): nothing is committed while it lasts, no fork, the chain recovers after healing', async function () {
    const lab = fault.lab;
    if (!lab) {
      console.log(`      skipped: ${fault.loopbackReason}`);
      this.skip();
    }
    const sideB = [2, 3];
    await net.waitForSameHead(net.nodes, HANG);
    const before = await maxHead();
    const logFrom = await Promise.all(net.nodes.map((n) => n.logSize()));
    lab.partition(sideB);
    // Long enough for the nodes to notice: their links across time out and they redial (~10 s).
    const holdMs = 20_000;
    const t0 = Date.now();
    let during = before;
    while (Date.now() - t0 < holdMs) {
      during = Math.max(during, await maxHead());
      await sleep(100);
    }
    const dropped = async () => {
      let count = 0;
      for (const [i, n] of net.nodes.entries()) count += (await n.logLines(logFrom[i])).filter((l) => /peer disconnected/.test(l.msg)).length;
      return count;
    };
    const linksDropped = await dropped();
    lab.heal();
    const tHeal = Date.now();
    // Recovered: every node has committed a block above anything committed before the healing.
    await waitFor('every node to commit a block after the healing', async () => (await net.heads()).every((h) => h.height > during), HANG, 50);
    const recoverySeconds = (Date.now() - tHeal) / 1000;
    const top = await expectHealthyAndAgreeing();
    const after = await net.nodes[0]!.blocks(during + 1, Math.min(top, during + 1));
    figure('2|2 partition', { partitionSeconds: holdMs / 1000, headBefore: before, committedDuring: during - before, linksDropped, recoverySeconds, firstBlockAfterRound: after[0]?.certificate?.round });
    // A block whose last votes were on the wire as the links moved may still land: at most that one.
    expect(during - before, 'blocks committed while partitioned').to.be.at.most(1);
  });

  it('kill -9 of all four validators at once under load: the chain resumes with one state on all, and every acknowledged transaction is committed', async () => {
    const loads = [
      new TransferLoad(net.nodes[0]!.rpc, { chainId: net.chainId, accounts: [0, 1, 2, 3], random, intervalMs: 10 }),
      new TransferLoad(net.nodes[1]!.rpc, { chainId: net.chainId, accounts: [4, 5, 6, 7], random, intervalMs: 10 }),
    ];
    const from = await maxHead();
    for (const l of loads) l.start();
    const accepted = () => loads.reduce((s, l) => s + l.accepted.size, 0);
    await waitFor('the load to get 200 transactions in', async () => accepted() >= 200, HANG, 20);
    await net.waitForHeight(from + 3, net.nodes, HANG);
    await sleep(Math.floor(random() * 300));
    const seen = await net.nodes[2]!.head();
    await Promise.all(net.nodes.map((n) => n.kill()));
    for (const l of loads) await l.stop();
    const ack = new Map(loads.flatMap((l) => [...l.accepted]));
    const inDoubt = new Map(loads.flatMap((l) => [...l.inDoubt]));

    const t0 = Date.now();
    await net.startAll();
    await net.waitForHeight(seen.height + 2, net.nodes, HANG);
    const resumeSeconds = (Date.now() - t0) / 1000;
    // Each node admits again what it acknowledged (its transaction journal): all of it gets in.
    const acked = [...ack.keys()];
    await waitFor('every acknowledged transaction to be committed', async () => {
      const r = await net.nodes[3]!.rpc.batchResults<ReceiptJson | null>(acked.map((h) => ({ method: 'chain_getReceipt', params: [h] })));
      return r.every((x) => x !== null) ? true : undefined;
    }, HANG, 200);
    const allCommittedSeconds = (Date.now() - t0) / 1000;
    const top = await expectHealthyAndAgreeing();
    const [b] = await net.nodes[0]!.blocks(seen.height, seen.height);
    expect([b!.hash, b!.stateRoot], `block ${seen.height} after the restart vs before the kill`).to.deep.equal([seen.hash, seen.stateRoot]);
    const roots = await Promise.all(net.nodes.map(async (n) => (await n.blocks(top, top))[0]!.stateRoot));
    expect(new Set(roots).size, `state roots at ${top} on the four nodes`).to.equal(1);

    const c = await checkChainConsistency(net.nodes[3]!.rpc, genesis);
    const unknown = [...c.committed].filter((h) => !ack.has(h) && !inDoubt.has(h));
    expect(unknown, 'committed transactions nobody sent').to.deep.equal([]);
    const lost = [...ack.keys()].filter((h) => !c.committed.has(h));
    // Each acknowledged transaction not in a block must be wholly gone, not half there.
    const found = await net.nodes[3]!.rpc.batchResults<unknown>(lost.flatMap((h) => [
      { method: 'chain_getTransaction', params: [h] },
      { method: 'chain_getReceipt', params: [h] },
    ]));
    expect(found.filter((x) => x !== null), 'uncommitted transactions found by hash or with a receipt').to.deep.equal([]);
    const receipts = await net.nodes[0]!.rpc.batchResults<ReceiptJson | null>([...ack.keys()].filter((h) => c.committed.has(h)).map((h) => ({ method: 'chain_getReceipt', params: [h] })));
    expect(receipts.filter((r) => r === null).length, 'committed transactions without a receipt on node0').to.equal(0);
    figure('kill -9 of all validators under load', {
      acknowledged: ack.size, inDoubt: inDoubt.size, committed: c.committed.size, acknowledgedNotCommitted: lost.length, headAtKill: seen.height, resumeSeconds, allCommittedSeconds,
    });
    expect(lost, 'acknowledged transactions not committed').to.deep.equal([]);
  });

  it('an RPC flood at the read rate limit from 10 clients and a connection flood on one validator: blocks keep coming, its memory stays bounded', async () => {
    const victim = net.nodes[0]!;
    const load = new TransferLoad(net.nodes[1]!.rpc, { chainId: net.chainId, accounts: [0, 1], random, intervalMs: 20 });
    load.start();
    try {
      // Idle: the interval with the light load alone.
      const idleFrom = await victim.height();
      await net.waitForHeight(idleFrom + 12, net.nodes, HANG);
      const idleTo = await victim.height();
      const idleBlocks = await victim.blocks(idleFrom, idleTo);
      const idleRss = victim.memory().rssMiB;
      // Flood: 10 clients, each from its own address, at 1.2x node 0's read limit (bench/flood.ts),
      // and 400 connections that send nothing (the headers timeout closes them; they come back).
      const seconds = 12;
      const flood = spawn(process.execPath, [FLOOD, '--rpc', `http://${victim.host}:${victim.rpcPort}`, '--clients', '10', '--from', fault.clientAddresses(10).join(','), '--seconds', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      flood.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const silent: Socket[] = [];
      const conns = setInterval(() => {
        for (let i = silent.filter((s) => !s.destroyed).length; i < 400; i++) {
          const s = connect(victim.rpcPort, victim.host);
          s.on('error', () => undefined);
          s.on('close', () => s.destroy());
          s.resume();
          silent.push(s);
        }
      }, 500);
      let peakRss = idleRss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, victim.memory().rssMiB)), 200);
      const floodFrom = await victim.height();
      await new Promise((r) => flood.once('exit', r));
      clearInterval(conns);
      clearInterval(sampler);
      for (const s of silent) s.destroy();
      const floodTo = await victim.height();
      const floodBlocks = await victim.blocks(floodFrom, floodTo);
      const f = JSON.parse(out.trim().split('\n').pop()!) as { answered: number; limited: number; errors: number; failedRequests: number; skippedTicks: number; unitsPerSecondPerClient: number; bytes: number };
      const idleMs = medianInterval(idleBlocks);
      const floodMs = floodBlocks.length > 1 ? medianInterval(floodBlocks) : Infinity;
      figure('RPC and connection flood', {
        idleMedianMs: idleMs, floodMedianMs: floodMs, ratio: +(floodMs / idleMs).toFixed(2), floodWorstGapMs: worstGap(floodBlocks).ms, blocksDuringFlood: floodTo - floodFrom,
        idleRssMiB: idleRss, floodPeakRssMiB: peakRss, offeredUnitsPerSecond: 10 * f.unitsPerSecondPerClient, answered: f.answered, rateLimited: f.limited,
        ticksSkippedWithEightInFlight: f.skippedTicks, otherErrors: f.errors, failedRequests: f.failedRequests, receivedMiB: Math.round(f.bytes / 2 ** 20),
      });
      // The clients offer 1.2x their limit each; on a machine whose cores the four validators share,
      // the node may serve less than that (then none is refused by the limit, and the clients wait).
      expect(f.answered, 'calls answered').to.be.greaterThan(0);
      expect(f.errors + f.failedRequests, 'calls that failed otherwise').to.equal(0);
      expect(floodTo - floodFrom, 'blocks committed during the flood').to.be.at.least(3);
      expect(peakRss - idleRss, 'memory growth under the flood, MiB (a generous bound; the target is in the bench)').to.be.below(300);
      const res = await fetch(`http://${victim.host}:${victim.rpcPort}/health`);
      expect(res.status).to.equal(200);
    } finally {
      await load.stop();
    }
    await expectHealthyAndAgreeing();
  });

});
