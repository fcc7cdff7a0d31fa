/**
 * Peer admission against a real validator process: in permissioned mode (the default) a stranger
 * libp2p node is refused during the handshake (no connection, none of the validator's gossip),
 * while an allowlisted observer is admitted and follows the block announcements; restarted in
 * open mode, the validator admits the stranger too.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { expect } from 'chai';
import { pino } from 'pino';
import { P2PNetwork, Topic, Verdict } from '../../p2p/index.js';
import { sleep, waitFor } from './harness.js';
import { scrape } from './prom.js';
import { Testnet, observerOptions } from './testnet-harness.js';

describe('e2e: p2p admission', function () {
  this.timeout(120_000);
  let net: Testnet;
  const networks: P2PNetwork[] = [];
  let failed = false;

  /** A libp2p node dialling the validator, counting the block announcements it is delivered. */
  async function follower(privateKey: PrivateKey) {
    const network = new P2PNetwork(observerOptions(net.chainId, net.multiaddrs), { logger: pino({ level: 'silent' }), privateKey });
    networks.push(network);
    const seen = { announcements: 0 };
    network.subscribe(Topic.Blocks, () => {
      seen.announcements++;
      return Verdict.Ignore;
    });
    await network.start();
    return { network, seen };
  }

  before(async () => {
    net = await Testnet.create({ validators: 1, devAccounts: 1, consensus: { emptyBlockIntervalMs: 200 }, observers: 1 });
    await net.nodes[0]!.start();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    await Promise.all(networks.map((n) => n.stop()));
    if (failed && net) console.log(`      kept the testnet and its logs in ${net.dir}`);
    await net?.remove(failed);
  });

  it('refuses a stranger during the handshake, admits an allowlisted observer, and admits anyone in open mode', async () => {
    const validator = net.nodes[0]!;
    const validatorId = validator.multiaddr.slice(validator.multiaddr.lastIndexOf('/p2p/') + 5);
    const url = `http://127.0.0.1:${validator.rpcPort}`;

    const stranger = await follower(await generateKeyPair('Ed25519'));
    const observer = await follower(net.observerKeys[0]!);
    // While the observer follows several blocks, watch whether the validator ever speaks a
    // protocol to the stranger (its subscriptions would reach it first). The stranger, as the Noise
    // initiator, completes its half of the handshake before the validator checks it, so it may
    // hold a connection for the moment the refusal takes to close it.
    let strangerAdmitted = false;
    const sampling = (async () => {
      while (observer.seen.announcements < 5) {
        if (stranger.network.topicPeers(Topic.Blocks).length > 0) strangerAdmitted = true;
        await sleep(10);
      }
    })();
    await waitFor('the allowlisted observer to be delivered 5 block announcements', async () => observer.seen.announcements >= 5, 30_000);
    await sampling;
    expect(observer.network.peers().map((p) => p.id)).to.deep.equal([validatorId]);

    expect(strangerAdmitted, 'the validator told the stranger its subscriptions').to.equal(false);
    expect(stranger.seen.announcements, 'announcements delivered to the stranger').to.equal(0);
    const m = await scrape(url);
    expect(m.types.get('metanode_p2p_connections_refused_total')).to.equal('counter');
    expect(m.value('metanode_p2p_connections_refused_total', { direction: 'inbound' }), 'inbound handshakes refused').to.be.at.least(1);
    expect(m.value('metanode_p2p_peers'), 'peers of the validator').to.equal(1);

    // The same validator in open mode: the stranger, still redialling, gets in and follows the chain.
    await validator.stop();
    const configPath = join(validator.home, 'config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as { p2p: Record<string, unknown> };
    config.p2p.admission = 'open';
    await writeFile(configPath, JSON.stringify(config, null, 2) + '\n');
    await validator.start();
    const before = stranger.seen.announcements;
    await waitFor('the stranger to be delivered block announcements in open mode', async () => stranger.seen.announcements >= before + 3, 30_000);
    expect(stranger.network.peers().map((p) => p.id)).to.deep.equal([validatorId]);
    await waitFor('the validator to count both peers', async () => (await scrape(url)).value('metanode_p2p_peers') === 2, 10_000);
    expect(await net.errorLogLines(), 'error-level log lines').to.deep.equal([]);
  });
});
