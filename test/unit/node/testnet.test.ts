/**
 * `metanode testnet` homes: peer ids derived from the validator keys (no keys/p2p.key), and the
 * bootstrap refresh that lets a devnet written by an older version (old p2p.key peer ids in its
 * bootstrap lists) resume.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { homePaths, readValidatorKey, refreshTestnetBootstrap, writeTestnet } from '../../../node/index.js';
import { peerIdFromEd25519PublicKey } from '../../../p2p/index.js';

interface Config {
  p2p: { listen: string[]; bootstrap: string[]; admission?: string };
  [k: string]: unknown;
}

const readConfigJson = async (home: string) => JSON.parse(await readFile(homePaths(home).config, 'utf8')) as Config;

describe('node testnet homes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metanode-testnet-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every other node by the peer id of its validator key, and writes no p2p key', async () => {
    const { nodes } = await writeTestnet({ validators: 3, out: dir, chainId: 'tn', host: '127.0.0.1', baseRpcPort: 18545, baseP2pPort: 26000, devAccounts: 0 });
    const ids = await Promise.all(nodes.map(async (n) => peerIdFromEd25519PublicKey((await readValidatorKey(homePaths(n.home).validatorKey)).ed25519.publicKey)));
    for (const [i, n] of nodes.entries()) {
      expect(n.p2pAddress).to.equal(`/ip4/127.0.0.1/tcp/${26000 + i}/p2p/${ids[i]}`);
      const c = await readConfigJson(n.home);
      expect(c.p2p.bootstrap).to.deep.equal(nodes.filter((m) => m !== n).map((m) => m.p2pAddress));
      expect(c.p2p.admission).to.equal('permissioned');
      expect(await stat(homePaths(n.home).p2pKey).then(() => true, () => false), 'keys/p2p.key written').to.equal(false);
    }
    expect(await refreshTestnetBootstrap(nodes.map((n) => n.home)), 'homes changed by a refresh of current homes').to.deep.equal([]);
  });

  it('rewrites the bootstrap peer ids of homes written by an older version, and leaves other entries alone', async () => {
    const { nodes } = await writeTestnet({ validators: 3, out: dir, chainId: 'tn', host: '127.0.0.1', baseRpcPort: 18545, baseP2pPort: 26000, devAccounts: 0 });
    const homes = nodes.map((n) => n.home);
    const current = await Promise.all(homes.map(readConfigJson));
    // As an older version wrote them: each node known by the peer id of a keys/p2p.key of its own.
    const oldIds = await Promise.all(homes.map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()));
    const foreign = `/dns/observer.example.org/tcp/26656/p2p/${oldIds[0]}`;
    for (const [i, home] of homes.entries()) {
      const c = current[i]!;
      const old = { ...c, p2p: { ...c.p2p, bootstrap: [...homes.flatMap((_, j) => (j === i ? [] : [`/ip4/127.0.0.1/tcp/${26000 + j}/p2p/${oldIds[j]}`])), foreign] } };
      await writeFile(homePaths(home).config, JSON.stringify(old, null, 2));
    }
    expect(await refreshTestnetBootstrap(homes)).to.deep.equal(homes);
    for (const [i, home] of homes.entries()) {
      const c = await readConfigJson(home);
      expect(c.p2p.bootstrap).to.deep.equal([...current[i]!.p2p.bootstrap, foreign]);
      expect({ ...c, p2p: undefined }, 'the rest of the config').to.deep.equal({ ...current[i]!, p2p: undefined });
    }
    expect(await refreshTestnetBootstrap(homes)).to.deep.equal([]);
  });
});
