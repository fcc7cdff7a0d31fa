/**
 * A validator whose data folder is on a small disk that fills up (a tmpfs; the test needs root
 * and skips, saying so, without it). Its three peers go on; it must stop signing, answer
 * GET /health with 503 and the reason, count the failures in its metrics, recover when space is
 * freed within its retries, exit with code 3 when it is not, and after a restart catch up.
 */
import { expect } from 'chai';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../e2e/harness.js';
import { scrape } from '../e2e/prom.js';
import { Testnet, type ValidatorNode } from '../e2e/testnet-harness.js';
import { SmallDisk, smallDiskUnavailable } from '../small-disk.js';

/** The storage settings of the validator on the small disk: a short retry window. */
const RETRIES = 4;
const RETRY_DELAY_MS = 400; // retries after 0.4, 0.8, 1.6 and 3.2 s: gives up about 6 s after the first failure

interface HealthJson {
  ok: boolean;
  reason?: string;
  height: number;
}

async function health(node: ValidatorNode): Promise<{ status: number; body: HealthJson }> {
  const res = await fetch(`http://127.0.0.1:${node.rpcPort}/health`);
  return { status: res.status, body: (await res.json()) as HealthJson };
}

/** Every sign-log file and its size: what the validator has signed, as far as the disk knows. */
async function signLogSizes(node: ValidatorNode): Promise<Map<string, number>> {
  const dir = join(node.home, 'signlog');
  const out = new Map<string, number>();
  for (const f of await readdir(dir)) out.set(f, (await stat(join(dir, f))).size);
  return out;
}

describe('fault: a validator whose disk fills up', function () {
  this.timeout(240_000);
  let net: Testnet | undefined;
  let disk: SmallDisk | undefined;
  let v: ValidatorNode;
  let others: ValidatorNode[];

  before(async function () {
    net = await Testnet.create({ validators: 4, devAccounts: 0, consensus: { emptyBlockIntervalMs: 300 } });
    v = net.nodes[3]!;
    others = net.nodes.slice(0, 3);
    const why = smallDiskUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      return this.skip();
    }
    disk = SmallDisk.mount(join(v.home, 'data'), 24);
    const configPath = join(v.home, 'config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    await writeFile(configPath, JSON.stringify({ ...config, storage: { writeRetries: RETRIES, writeRetryDelayMs: RETRY_DELAY_MS } }, null, 2));
    await net.startAll();
    await net.waitForHeight(3, net.nodes, 60_000);
  });

  after(async () => {
    await net?.remove(true);
    disk?.unmount();
    await net?.remove();
  });

  it('answers 503 with the reason while it cannot write, and goes on when space is freed within its retries', async () => {
    expect((await health(v)).status).to.equal(200);
    disk!.fill();
    const sick = await waitFor('GET /health → 503', async () => {
      const h = await health(v);
      return h.status === 503 ? h.body : undefined;
    }, 20_000, 20);
    expect(sick.ok).to.equal(false);
    expect(sick.reason).to.match(/cannot write block \d+ to disk/).and.match(/not signing/).and.match(/retrying/);
    const m = await scrape(v.metricsUrl);
    expect(m.value('metanode_node_healthy')).to.equal(0);
    expect(m.value('metanode_storage_write_failures_total')).to.be.at.least(1);
    const rpcHealth = await v.rpc.call<{ ok: boolean; reason: string }>('node_health');
    expect(rpcHealth.ok).to.equal(false);
    expect(rpcHealth.reason).to.match(/cannot write block \d+ to disk/);
    disk!.free();
    await waitFor('GET /health → 200 again', async () => (await health(v)).status === 200, 20_000, 50);
    const { height } = await others[0]!.head();
    await net!.waitForHeight(height + 2, [v], 30_000);
    expect((await scrape(v.metricsUrl)).value('metanode_node_healthy')).to.equal(1);
    expect((await v.logLines()).some((l) => l.msg === 'block written after failed attempts')).to.equal(true);
    expect(net!.crashes).to.deep.equal([]);
  });

  it('when the disk stays full: signs nothing more, stops cleanly and exits with code 3; the others go on', async () => {
    const logFrom = await v.logSize();
    disk!.fill();
    const sick = await waitFor('GET /health → 503', async () => {
      const h = await health(v);
      return h.status === 503 ? h.body : undefined;
    }, 20_000, 20);
    const failedAt = sick.height;
    const signed = await signLogSizes(v);
    await waitFor('the process to exit', async () => !v.running, 60_000, 50);
    expect(net!.crashes.map((c) => [c.node, c.code])).to.deep.equal([[3, 3]]);
    const after = await signLogSizes(v);
    for (const [file, size] of after) expect(size, `signlog/${file} after the failure`).to.equal(signed.get(file) ?? 0);
    const lines = await v.logLines(logFrom);
    const msgs = lines.map((l) => l.msg);
    expect(msgs).to.include('writing a block failed: giving up');
    expect(msgs).to.include('the node cannot go on');
    expect(msgs[msgs.length - 1], 'the last line').to.equal('node stopped');
    expect(msgs.filter((x) => x === 'writing a block failed: retrying')).to.have.length(RETRIES);
    // The others commit without it.
    const { height } = await others[0]!.head();
    expect(height).to.be.greaterThan(failedAt);
    await net!.waitForHeight(height + 3, others, 30_000);
  });

  it('after space is freed, starts on the same data and catches up by block sync', async () => {
    disk!.free();
    await v.start(30_000);
    const target = (await others[0]!.head()).height + 2;
    await net!.waitForHeight(target, net!.nodes, 60_000);
    await net!.assertNoFork(target, net!.nodes);
    expect((await health(v)).status).to.equal(200);
  });
});
