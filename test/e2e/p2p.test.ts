import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { peerKeyFromEd25519Seed, peerMultiaddr } from '../../p2p/index.js';

const P2P_URL = new URL('../../p2p/index.js', import.meta.url).href;
const PINO_URL = import.meta.resolve('pino');

/** One validator's network in its own process: subscribes to consensus, reports what it gets, publishes `<peerId>:<run>` once all peers are subscribed. */
const CHILD = `
import { P2PNetwork, Topic, Verdict, peerKeyFromEd25519Seed } from ${JSON.stringify(P2P_URL)};
import { pino } from ${JSON.stringify(PINO_URL)};
const e = process.env;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const key = await peerKeyFromEd25519Seed(Buffer.from(e.SEED, 'hex'));
const net = new P2PNetwork(
  { chainId: 'e2e', listen: ['/ip4/127.0.0.1/tcp/' + e.PORT], bootstrap: JSON.parse(e.BOOT), redialMinMs: 100, redialMaxMs: 1000, heartbeatIntervalMs: 200 },
  { logger: pino({ level: 'silent' }), privateKey: key.privateKey },
);
net.subscribe(Topic.Consensus, (d, from) => (out({ got: Buffer.from(d).toString(), from }), Verdict.Accept));
await net.start();
out({ ready: net.peerId });
while (net.topicPeers(Topic.Consensus).length < Number(e.PEERS)) await new Promise((r) => setTimeout(r, 50));
await net.publish(Topic.Consensus, Buffer.from(net.peerId + ':' + e.RUN));
process.on('SIGTERM', async () => { await net.stop(); process.exit(0); });
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Child {
  proc: ChildProcess;
  ready?: string;
  got: string[];
}

describe('e2e: p2p across four processes', function () {
  this.timeout(60_000);
  const children: Child[] = [];

  after(() => {
    for (const c of children) c.proc.kill('SIGKILL');
  });

  function launch(env: Record<string, string>): Child {
    const proc = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const child: Child = { proc, got: [] };
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { ready?: string; got?: string };
      if (m.ready !== undefined) child.ready = m.ready;
      if (m.got !== undefined) child.got.push(m.got);
    });
    return child;
  }

  async function until(cond: () => boolean, what: string): Promise<void> {
    for (const deadline = Date.now() + 20_000; !cond(); await sleep(50)) if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }

  it('forms a permissioned network from validator keys and mutual bootstrap lists, floods messages, and survives a killed validator', async () => {
    const n = 4;
    const seeds = Array.from({ length: n }, () => randomBytes(32).toString('hex'));
    const ids = await Promise.all(seeds.map(async (s) => (await peerKeyFromEd25519Seed(Buffer.from(s, 'hex'))).peerId));
    const ports = await Promise.all(seeds.map(() => freePort()));
    const boot = ids.map((id, i) => peerMultiaddr('127.0.0.1', ports[i]!, id));
    const env = (i: number, run: number) => ({ SEED: seeds[i]!, PORT: String(ports[i]), BOOT: JSON.stringify(boot), PEERS: String(n - 1), RUN: String(run) });
    for (let i = n - 1; i >= 0; i--) children[i] = launch(env(i, 0));

    const others = (i: number, run: number) => ids.filter((_, j) => j !== i).map((id) => `${id}:${run}`).sort();
    await until(() => children.every((c, i) => others(i, 0).every((m) => c.got.includes(m))), 'every process to receive the three others');
    expect(children.map((c) => c.ready)).to.deep.equal(ids);
    children.forEach((c, i) => expect(c.got.filter((m) => m.endsWith(':0')).sort()).to.deep.equal(others(i, 0)));

    // Kill one validator without a goodbye, start it again: the others redial it and it rejoins.
    children[1]!.proc.kill('SIGKILL');
    children[1] = launch(env(1, 1));
    await until(() => [0, 2, 3].every((i) => children[i]!.got.includes(`${ids[1]}:1`)), 'the restarted process to reach the others');

    const exits = children.map((c) => new Promise<number | null>((r) => c.proc.once('exit', r)));
    for (const c of children) c.proc.kill('SIGTERM');
    expect(await Promise.all(exits)).to.deep.equal([0, 0, 0, 0]);
  });
});
