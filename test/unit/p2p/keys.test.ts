import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { loadOrCreatePeerKey, P2PError, P2PErrorCode, P2PNetwork, peerIdFromKeyFile, peerMultiaddr, peerMultiaddrFromKeyFile, readPeerKey } from '../../../p2p/index.js';
import { logger, testOptions } from './helpers.js';

async function code(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e instanceof P2PError ? e.code : `not a P2PError: ${String(e)}`),
  );
}

describe('p2p peer key', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metanode-p2p-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates an Ed25519 key (mode 0600, protobuf) on first use and reads the same one after', async () => {
    const path = join(dir, 'keys', 'p2p.key');
    const first = await loadOrCreatePeerKey(path);
    expect(first.privateKey.type).to.equal('Ed25519');
    expect(first.peerId).to.match(/^12D3KooW/);
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    const bytes = await readFile(path);
    expect(Buffer.from(privateKeyToProtobuf(first.privateKey)).equals(bytes)).to.equal(true);
    const second = await loadOrCreatePeerKey(path);
    expect(second.peerId).to.equal(first.peerId);
    expect(await peerIdFromKeyFile(path)).to.equal(first.peerId);
  });

  it('gives a P2PNetwork the same peer id across re-creation from the same file', async () => {
    const path = join(dir, 'p2p.key');
    const n1 = await P2PNetwork.create(testOptions(), { logger, keyFile: path });
    const n2 = await P2PNetwork.create(testOptions(), { logger, keyFile: path });
    expect(n2.peerId).to.equal(n1.peerId);
    expect(n1.peerId).to.equal(await peerIdFromKeyFile(path));
  });

  it('refuses missing, corrupt and non-Ed25519 key files', async () => {
    expect(await code(readPeerKey(join(dir, 'none')))).to.equal(P2PErrorCode.BadKey);
    const corrupt = join(dir, 'corrupt');
    await writeFile(corrupt, 'not a key');
    expect(await code(loadOrCreatePeerKey(corrupt))).to.equal(P2PErrorCode.BadKey);
    const secp = join(dir, 'secp');
    await writeFile(secp, privateKeyToProtobuf(await generateKeyPair('secp256k1')));
    expect(await code(loadOrCreatePeerKey(secp))).to.equal(P2PErrorCode.BadKey);
  });

  it('builds dialable multiaddrs for IPv4, IPv6 and DNS hosts', async () => {
    const path = join(dir, 'p2p.key');
    const { peerId } = await loadOrCreatePeerKey(path);
    expect(peerMultiaddr('10.0.0.7', 26656, peerId)).to.equal(`/ip4/10.0.0.7/tcp/26656/p2p/${peerId}`);
    expect(peerMultiaddr('::1', 26656, peerId)).to.equal(`/ip6/::1/tcp/26656/p2p/${peerId}`);
    expect(peerMultiaddr('val-1.example.org', 26656, peerId)).to.equal(`/dns/val-1.example.org/tcp/26656/p2p/${peerId}`);
    expect(await peerMultiaddrFromKeyFile(path, '192.168.1.2', 1234)).to.equal(`/ip4/192.168.1.2/tcp/1234/p2p/${peerId}`);
    expect(() => peerMultiaddr('10.0.0.7', 0, peerId)).to.throw(P2PError);
  });
});
