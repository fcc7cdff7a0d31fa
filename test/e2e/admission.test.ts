/**
 * Peer admission against a real validator process: in permissioned mode (the default) a stranger
 * libp2p node is refused during the handshake (no connection, none of the validator's gossip),
 * while an allowlisted observer is admitted and follows the block announcements; the admin
 * methods admit the stranger at runtime and take it back; restarted in open mode, the validator
 * admits the stranger by itself.
 */
import { resultSchemas } from '../../client/schemas.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { expect } from 'chai';
import { pino } from 'pino';
import { P2PNetwork, Topic, Verdict } from '../../p2p/index.js';
import { sleep, waitFor } from './harness.js';
import { scrape } from './prom.js';
import { Testnet, observerOptions, type ValidatorNode } from './testnet-harness.js';

/** A libp2p node dialling the validators, counting the block announcements it is delivered. */
interface Follower {
  network: P2PNetwork;
  announcements: number;
}

describe('e2e: p2p admission', function () {
  this.timeout(120_000);
  let net: Testnet;
  let validator: ValidatorNode;
  let validatorId: string;
  let metricsUrl: string;
  let stranger: Follower;
  let observer: Follower;
  const networks: P2PNetwork[] = [];
  let failed = false;

  async function follower(privateKey: PrivateKey): Promise<Follower> {
    const network = new P2PNetwork(observerOptions(net.chainId, net.multiaddrs), { logger: pino({ level: 'silent' }), privateKey });
    networks.push(network);
    const f: Follower = { network, announcements: 0 };
    network.subscribe(Topic.Blocks, () => {
      f.announcements++;
      return Verdict.Ignore;
    });
    await network.start();
    return f;
  }

  /**
   * Watches, until `until` resolves, whether the validator ever speaks a protocol to the stranger
   * (its subscriptions would reach it first). The stranger, as the Noise initiator, completes its
   * half of the handshake before the validator checks it, so it may hold a connection for the
   * moment the refusal takes to close it: its peer list is no evidence either way.
   */
  async function strangerAdmittedDuring(until: Promise<unknown>): Promise<boolean> {
    let admitted = false;
    let done = false;
    void until.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      if (stranger.network.topicPeers(Topic.Blocks).length > 0) admitted = true;
      await sleep(10);
    }
    await until;
    return admitted;
  }

  before(async () => {
    net = await Testnet.create({ validators: 1, devAccounts: 1, consensus: { emptyBlockIntervalMs: 200 }, observers: 1 });
    validator = net.nodes[0]!;
    validatorId = validator.multiaddr.slice(validator.multiaddr.lastIndexOf('/p2p/') + 5);
    const config = JSON.parse(await readFile(join(validator.home, 'config.json'), 'utf8')) as { metrics: { host: string; port: number } };
    metricsUrl = `http://${config.metrics.host}:${config.metrics.port}`;
    await validator.start();
    stranger = await follower(await generateKeyPair('Ed25519'));
    observer = await follower(net.observerKeys[0]!);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    await Promise.all(networks.map((n) => n.stop()));
    if (failed && net) console.log(`      kept the testnet and its logs in ${net.dir}`);
    await net?.remove(failed);
  });

  it('refuses a stranger during the handshake and admits an allowlisted observer', async () => {
    const admitted = await strangerAdmittedDuring(waitFor('the allowlisted observer to be delivered 5 block announcements', async () => observer.announcements >= 5, 30_000));
    expect(observer.network.peers().map((p) => p.id)).to.deep.equal([validatorId]);
    expect(admitted, 'the validator told the stranger its subscriptions').to.equal(false);
    expect(stranger.announcements, 'announcements delivered to the stranger').to.equal(0);
    const m = await scrape(metricsUrl);
    expect(m.types.get('metanode_p2p_connections_refused_total')).to.equal('counter');
    expect(m.value('metanode_p2p_connections_refused_total', { direction: 'inbound' }), 'inbound handshakes refused').to.be.at.least(1);
    expect(m.value('metanode_p2p_peers'), 'peers of the validator').to.equal(1);
  });

  it('admin_peers says why each peer is admitted; admin_addPeer admits a stranger at runtime, admin_removePeer takes it back', async () => {
    const peers = await validator.rpc.call<{ id: string; allowlisted: boolean; validator: boolean; direction: string; addresses: string[] }[]>('admin_peers');
    expect(peers.map((p) => ({ id: p.id, allowlisted: p.allowlisted, validator: p.validator, direction: p.direction }))).to.deep.equal([
      { id: observer.network.peerId, allowlisted: true, validator: false, direction: 'inbound' },
    ]);

    resultSchemas.admin_peers!.parse(peers); // the shape rpc.discover publishes (client/schemas.ts)
    const added = await validator.rpc.call<{ peerId: string; connected: boolean }>('admin_addPeer', [stranger.network.addresses()[0]]);
    expect(added).to.deep.equal({ peerId: stranger.network.peerId, connected: true });
    resultSchemas.admin_addPeer!.parse(added);
    const before = stranger.announcements;
    await waitFor('the added stranger to be delivered block announcements', async () => stranger.announcements >= before + 3, 30_000);
    const roles = (await validator.rpc.call<{ id: string; added: boolean }[]>('admin_peers')).find((p) => p.id === stranger.network.peerId);
    expect(roles?.added).to.equal(true);

    const removed = await validator.rpc.call<boolean>('admin_removePeer', [stranger.network.peerId]);
    expect(resultSchemas.admin_removePeer!.parse(removed)).to.equal(true);
    await waitFor('the validator to drop the stranger', async () => (await scrape(metricsUrl)).value('metanode_p2p_peers') === 1, 10_000);
    // The stranger keeps redialling (the validator is its bootstrap peer): refused again.
    const refused = (await scrape(metricsUrl)).value('metanode_p2p_connections_refused_total', { direction: 'inbound' })!;
    const seen = stranger.announcements;
    await waitFor('the stranger refused again', async () => (await scrape(metricsUrl)).value('metanode_p2p_connections_refused_total', { direction: 'inbound' })! > refused, 15_000);
    const at = await validator.height();
    const admitted = await strangerAdmittedDuring(net.waitForHeight(at + 3));
    expect(admitted, 'the validator spoke to the removed stranger').to.equal(false);
    expect(stranger.announcements - seen, 'announcements delivered after the removal').to.be.at.most(1);
    const err = await validator.rpc.call('admin_addPeer', ['/nonsense/p2p/12D3KooWDy6b1CoAKPJdkyktEDdFEEUqo86cURgLc8U7775rSGjS']).catch((e: Error) => e);
    expect(String(err)).to.match(/invalid params/);
  });

  it('admits the stranger by itself once restarted in open mode', async () => {
    await validator.stop();
    const configPath = join(validator.home, 'config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as { p2p: Record<string, unknown> };
    config.p2p.admission = 'open';
    await writeFile(configPath, JSON.stringify(config, null, 2) + '\n');
    await validator.start();
    const before = stranger.announcements;
    await waitFor('the stranger to be delivered block announcements in open mode', async () => stranger.announcements >= before + 3, 30_000);
    expect(stranger.network.peers().map((p) => p.id)).to.deep.equal([validatorId]);
    await waitFor('the validator to count both peers', async () => (await scrape(metricsUrl)).value('metanode_p2p_peers') === 2, 10_000);
    expect(await net.errorLogLines(), 'error-level log lines').to.deep.equal([]);
  });
});
