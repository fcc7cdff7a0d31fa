import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { fromHex } from '../chain/index.js';
import { ValidatorKey, defaultVerifierPoolOptions } from '../consensus/index.js';
import { buildGenesis, type GenesisDoc } from '../genesis/index.js';
import { peerIdFromEd25519PublicKey, peerMultiaddr } from '../p2p/index.js';
import { defaultConfig } from './config.js';
import { homePaths, initHome } from './home.js';
import { inspectValidatorKey, writeFileAtomic } from './keyfile.js';
import { createModules, defaultGenesisSections } from '../vm/modules/index.js';

export interface TestnetOptions {
  validators: number;
  out: string;
  chainId: string;
  /** Address the nodes listen on and reach each other at. */
  host: string;
  baseRpcPort: number;
  baseP2pPort: number;
  /** Port of node0's metrics listener (node i uses base + i); unset: no metrics listener. */
  baseMetricsPort?: number;
  devAccounts: number;
  /**
   * Signature-verification threads per node. Unset: the verifier's default (each node on
   * its own machine). Nodes that share one machine should share its cores: see sharedHostWorkers.
   */
  verifierWorkers?: number;
}

/**
 * Verifier threads per node when `nodes` nodes share this machine's cores: what one node would
 * have to itself (the cores but the main thread's) shared out, at least one each.
 */
export function sharedHostWorkers(nodes: number): number {
  return Math.max(1, Math.floor(defaultVerifierPoolOptions().workers / nodes));
}

export interface TestnetNode {
  index: number;
  home: string;
  rpcUrl: string;
  p2pAddress: string;
}

/**
 * Writes one home per validator (as `cometbft testnet` does): each with its Ed25519 and BLS
 * keys, its listen address, and every other node as a bootstrap peer (its peer id is derived
 * from its validator key); all share one genesis.
 */
export async function writeTestnet(o: TestnetOptions): Promise<{ genesis: GenesisDoc; nodes: TestnetNode[] }> {
  const keys = Array.from({ length: o.validators }, () => ValidatorKey.generate());
  const nodes: TestnetNode[] = [];
  for (let i = 0; i < o.validators; i++) {
    const home = join(o.out, `node${i}`);
    const peerId = peerIdFromEd25519PublicKey(keys[i]!.ed25519.publicKey);
    nodes.push({ index: i, home, rpcUrl: `http://${o.host}:${o.baseRpcPort + i}`, p2pAddress: peerMultiaddr(o.host, o.baseP2pPort + i, peerId) });
  }
  const genesis = buildGenesis({
    chainId: o.chainId,
    validators: keys.map((k, i) => ({ name: `node${i}`, publicKey: k.ed25519.publicKey, blsPublicKey: k.bls.publicKey, blsProofOfPossession: k.bls.proofOfPossession() })),
    devAccounts: o.devAccounts,
    moduleSections: defaultGenesisSections(createModules().registry),
  });
  for (const n of nodes) {
    const config = defaultConfig(`node${n.index}`);
    config.rpc = { ...config.rpc, host: o.host, port: o.baseRpcPort + n.index };
    config.p2p = {
      ...config.p2p,
      listen: [listenAddress(o.host, o.baseP2pPort + n.index)],
      bootstrap: nodes.filter((m) => m !== n).map((m) => m.p2pAddress),
    };
    if (o.baseMetricsPort !== undefined) config.metrics = { host: o.host, port: o.baseMetricsPort + n.index };
    if (o.verifierWorkers !== undefined) config.verifier = { workers: o.verifierWorkers };
    await initHome(n.home, { moniker: `node${n.index}`, key: keys[n.index]!, genesis, config });
  }
  return { genesis, nodes };
}

/** Listen on the host's address when it is an IP; on every interface when it is a name. */
function listenAddress(host: string, port: number): string {
  const v = isIP(host);
  return v === 4 ? `/ip4/${host}/tcp/${port}` : v === 6 ? `/ip6/${host}/tcp/${port}` : `/ip4/0.0.0.0/tcp/${port}`;
}

/**
 * Points each home's bootstrap entries for the other homes at those homes' current peer ids (the
 * ones derived from their validator keys): an entry whose TCP port is another home's listen port
 * gets that home's peer id. Homes written by older versions list the peer ids of their former
 * keys/p2p.key files, which no node uses any more. Other entries are left as they are; a config
 * is rewritten (atomically) only if it changes. Returns the homes whose config changed.
 */
export async function refreshTestnetBootstrap(homes: readonly string[]): Promise<string[]> {
  const peers = await Promise.all(
    homes.map(async (home) => {
      const raw = JSON.parse(await readFile(homePaths(home).config, 'utf8')) as { p2p?: { listen?: string[]; bootstrap?: string[] } };
      // Public keys only: an encrypted key file needs no password for this.
      const key = await inspectValidatorKey(homePaths(home).validatorKey);
      const ports = (raw.p2p?.listen ?? []).map(tcpPort).filter((p): p is string => p !== undefined);
      return { home, raw, ports, peerId: peerIdFromEd25519PublicKey(fromHex(key.ed25519PublicKey, 32, 'ed25519PublicKey')) };
    }),
  );
  const changed: string[] = [];
  for (const me of peers) {
    const bootstrap = me.raw.p2p?.bootstrap;
    if (!bootstrap) continue;
    const next = bootstrap.map((addr) => {
      const at = addr.lastIndexOf('/p2p/');
      const port = tcpPort(addr);
      const owner = port === undefined || at < 0 ? undefined : peers.find((o) => o !== me && o.ports.includes(port));
      return owner ? `${addr.slice(0, at)}/p2p/${owner.peerId}` : addr;
    });
    if (next.every((a, i) => a === bootstrap[i])) continue;
    me.raw.p2p!.bootstrap = next;
    const path = homePaths(me.home).config;
    await writeFileAtomic(path, JSON.stringify(me.raw, null, 2) + '\n', 0o644);
    changed.push(me.home);
  }
  return changed;
}

function tcpPort(addr: string): string | undefined {
  return /\/tcp\/(\d+)/.exec(addr)?.[1];
}
