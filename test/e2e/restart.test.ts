import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { formatAddress } from '../../chain/index.js';
import { cp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GenesisDoc } from '../../genesis/index.js';
import { checkChainConsistency } from './invariants.js';
import {
  TestNode,
  devAddress,
  errorLines,
  freePort,
  runMetanode,
  sendTransfer,
  waitForHeight,
  waitForReceipt,
  type AccountJson,
  type BlockJson,
  type HeadJson,
  type RunResult,
  type TxJson,
} from './harness.js';

/** Exit status 1 and exactly one line on stderr: `error: …` matching every pattern. */
function expectOneLineError(r: RunResult, ...patterns: RegExp[]): void {
  expect(r.code, `stderr: ${r.stderr}\nstdout: ${r.stdout}`).to.equal(1);
  const lines = errorLines(r);
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^error: /);
  for (const p of patterns) expect(lines[0]).to.match(p);
  expect(r.stdout, 'nothing started').to.not.match(/node started/);
}

/** Overwrites a file with random bytes of the same length. */
async function garble(path: string): Promise<void> {
  await writeFile(path, randomBytes(Math.max(1, (await stat(path)).size)));
}

async function startOnce(node: TestNode): Promise<RunResult> {
  return runMetanode(['start', '--home', node.home, '--rpc-port', String(await freePort()), '--log-level', 'warn'], 20_000);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('e2e: a genesis whose bank section names a bulk file', function () {
  this.timeout(60_000);
  let node: TestNode;
  after(async () => {
    await node?.remove();
  });

  it('a bad line stops the first start with one error line naming it; with the file fixed, the next start writes genesis anew over what it left, with the file\'s balances', async () => {
    node = await TestNode.init({ emptyBlockIntervalMs: 3_600_000 });
    const addrs = Array.from({ length: 2_500 }, (_, i) => createHash('sha256').update(`e2e bulk ${i}`).digest().subarray(0, 20)).sort(Buffer.compare);
    const lines = addrs.map((a, i) => JSON.stringify({ address: formatAddress(a), amounts: { NEX: String(i + 1) } }));
    const write = async (text: string): Promise<void> => {
      await writeFile(join(node.home, 'balances.jsonl'), text);
      const g = await node.readJson<GenesisDoc>('genesis');
      (g.modules.bank as { bulkFile?: unknown }).bulkFile = { path: 'balances.jsonl', sha256: `0x${createHash('sha256').update(text).digest('hex')}` };
      await writeFile(node.paths.genesis, JSON.stringify(g, null, 2));
    };
    const bad = [...lines];
    bad[1_234] = '{"address": "mn1notanaddress", "amounts": {}}';
    await write(bad.join('\n') + '\n');
    expectOneLineError(await startOnce(node), /genesis is invalid: modules\.bank\.bulkFile, line 1235: address: must be a valid mn1/);
    await write(lines.join('\n') + '\n');
    await node.start();
    for (const i of [0, 1_234, 2_499]) {
      const account = await node.rpc.call<AccountJson>('state_getAccount', [formatAddress(addrs[i]!)]);
      expect(account.balances.NEX, `line ${i + 1}`).to.equal(String(i + 1));
    }
    expect(await node.stop()).to.equal(0);
  });
});

describe('e2e: stop and start again', function () {
  this.timeout(60_000);

  describe('after SIGTERM', () => {
    let node: TestNode;
    // No empty blocks: the head only moves when a transaction arrives, so it can be compared exactly.
    before(async () => {
      node = await TestNode.init({ emptyBlockIntervalMs: 3_600_000 });
      await node.start();
    });
    after(async () => {
      await node?.remove();
    });

    const everyone = async () => {
      const validator = (await node.rpc.call<{ validator: string }>('node_status')).validator;
      return [...Array.from({ length: 10 }, (_, i) => devAddress(i)), validator];
    };
    const snapshot = async () => {
      const head = await node.rpc.call<HeadJson>('chain_getHead');
      const block = await node.rpc.call<BlockJson<TxJson>>('chain_getBlockByHeight', [head.height, true]);
      const accounts = await node.rpc.batchResults<AccountJson>((await everyone()).map((a) => ({ method: 'state_getAccount', params: [a] })));
      return { head, block, accounts };
    };

    it('exits 0 and comes back with the same head hash, state root, blocks, receipts and balances', async () => {
      const chainId = node.chainId;
      const ok = await sendTransfer(node.rpc, { chainId, from: 1, to: 2, asset: 'FLX', amount: 5_000n });
      const failed = await sendTransfer(node.rpc, { chainId, from: 3, to: 2, asset: 'AUR', amount: 10n ** 12n });
      const receipts = [await waitForReceipt(node.rpc, ok.hash), await waitForReceipt(node.rpc, failed.hash)];
      expect(receipts.map((r) => r.status)).to.deep.equal(['success', 'failed']);
      const before = await snapshot();
      expect(before.head.height).to.be.at.least(1);

      expect(await node.stop(), node.stderr).to.equal(0);
      expect(node.stderr).to.equal('');
      await node.start();

      const after = await snapshot();
      expect(after.head).to.deep.equal(before.head);
      expect(after.block).to.deep.equal(before.block);
      expect(after.accounts).to.deep.equal(before.accounts);
      expect(await node.rpc.call('chain_getReceipt', [ok.hash])).to.deep.equal(receipts[0]);
      expect(await node.rpc.call('chain_getReceipt', [failed.hash])).to.deep.equal(receipts[1]);
    });

    it('resumes producing: a new transfer extends the old head', async () => {
      const head = await node.rpc.call<HeadJson>('chain_getHead');
      const { hash } = await sendTransfer(node.rpc, { chainId: node.chainId, from: 2, to: 1, amount: 77n });
      const r = await waitForReceipt(node.rpc, hash);
      expect(r.blockHeight).to.equal(head.height + 1);
      const block = await node.rpc.call<BlockJson>('chain_getBlockByHeight', [r.blockHeight]);
      expect(block.parentHash).to.equal(head.hash);
      expect(block.certificate).to.not.equal(null);
    });

    it('resumes empty-block production with the configured interval', async () => {
      const head = (await snapshot()).head;
      expect(await node.stop()).to.equal(0);
      await node.setEmptyBlockInterval(100);
      await node.start();
      await waitForHeight(node.rpc, head.height + 3);
      const next = await node.rpc.call<BlockJson>('chain_getBlockByHeight', [head.height + 1]);
      expect(next.parentHash).to.equal(head.hash);
      // The block after the last transfer's shares its fee (staking's rewards); empty blocks after that change nothing.
      const [a, b] = await node.rpc.batchResults<BlockJson>([2, 3].map((d) => ({ method: 'chain_getBlockByHeight', params: [head.height + d] })));
      expect(a!.transactionCount + b!.transactionCount).to.equal(0);
      expect(b!.stateRoot, 'empty blocks keep the state root').to.equal(a!.stateRoot);
      await checkChainConsistency(node.rpc, await node.readJson<GenesisDoc>('genesis'));
    }).timeout(30_000);

    it('a second process on the same home refuses to start while the first runs', async () => {
      expect(node.running, 'the first node runs').to.equal(true);
      expectOneLineError(await startOnce(node), /in use by another process/, /another metanode running with this home/);
      expect(await node.rpc.call('node_health')).to.deep.equal({ ok: true });
    });

    it("a snapshot of the stopped home's state verifies against the head's state root; a wrong root, a cut file and a running home are refused", async () => {
      const out = join(node.home, 'state.snap');
      expectOneLineError(await runMetanode(['snapshot', 'export', '--home', node.home, '--out', out]), /is in use \(stop its node first/);
      const before = await node.rpc.call<HeadJson>('chain_getHead');
      expect(await node.stop()).to.equal(0);

      const exported = await runMetanode(['snapshot', 'export', '--home', node.home, '--out', out]);
      expect(exported.code, exported.stderr).to.equal(0);
      const info = JSON.parse(exported.stdout) as { chainId: string; height: number; stateRoot: string; blockHash: string; bytes: number };
      expect((await stat(out)).size).to.equal(info.bytes);
      await node.start();
      // The head at the stop (empty blocks may have followed the read above), as the restarted node serves it.
      expect(info.height).to.be.at.least(before.height);
      const head = await node.rpc.call<BlockJson>('chain_getBlockByHeight', [info.height]);
      expect(info).to.include({ chainId: node.chainId, stateRoot: head.stateRoot, blockHash: head.hash });

      const verified = await runMetanode(['snapshot', 'verify', '--in', out, '--root', head.stateRoot, '--chain-id', node.chainId]);
      expect(verified.code, verified.stderr).to.equal(0);
      const v = JSON.parse(verified.stdout) as { verified: boolean; height: number; stateRoot: string; keys: number; rootChecked: boolean };
      expect(v).to.include({ verified: true, height: info.height, stateRoot: head.stateRoot, rootChecked: true });
      expect(v.keys).to.be.greaterThan(10);

      const wrongRoot = `0x${'11'.repeat(32)}`;
      expectOneLineError(await runMetanode(['snapshot', 'verify', '--in', out, '--root', wrongRoot]), /not the expected 0x1111/);
      expectOneLineError(await runMetanode(['snapshot', 'verify', '--in', out, '--chain-id', 'another-chain']), /another-chain/);
      await truncate(out, info.bytes - 40);
      expectOneLineError(await runMetanode(['snapshot', 'verify', '--in', out]), /cut short|damaged/);
      expect(await node.stop()).to.equal(0);
      expectOneLineError(await runMetanode(['snapshot', 'export', '--home', node.home, '--out', out]), /exists|EEXIST/);
      await node.start();
    });
  });

  describe('refuses to start, with one clear line saying what to do', () => {
    /** A home that has run twice (so LevelDB has table files and a write-ahead log) and stopped. */
    let used: TestNode;
    /** A home that has run once (everything still in LevelDB's write-ahead log). */
    let once: TestNode;
    const homes: TestNode[] = [];
    const copyOf = async (n: TestNode) => {
      const c = await n.copy();
      homes.push(c);
      return c;
    };

    before(async () => {
      [used, once] = await Promise.all([TestNode.init({ emptyBlockIntervalMs: 50 }), TestNode.init({ emptyBlockIntervalMs: 50 })]);
      homes.push(used, once);
      for (const n of [used, used, once]) {
        await n.start();
        await sendTransfer(n.rpc, { chainId: n.chainId, from: 1, to: 2, amount: 1n }).then(({ hash }) => waitForReceipt(n.rpc, hash));
        await waitForHeight(n.rpc, (await n.rpc.call<HeadJson>('chain_getHead')).height + 3);
        expect(await n.stop()).to.equal(0);
      }
    });
    after(async () => {
      await Promise.all(homes.map((h) => h.remove()));
    });

    it('a missing home: says to run metanode init', async () => {
      const missing = join(used.dir, 'no-such-home');
      const r = await runMetanode(['start', '--home', missing, '--log-level', 'warn']);
      expectOneLineError(r, new RegExp(`no node home at ${esc(missing)}`), new RegExp(`create one with: metanode init --home ${esc(missing)}$`));
    });

    it('a genesis.json that is not JSON', async () => {
      const n = await copyOf(once);
      await writeFile(n.paths.genesis, (await readFile(n.paths.genesis, 'utf8')).slice(0, 120));
      expectOneLineError(await startOnce(n), new RegExp(`genesis file ${esc(n.paths.genesis)} is not valid JSON`), /restore the chain's genesis file/);
    });

    it('a genesis.json that breaks the schema: every problem on the one line', async () => {
      const n = await copyOf(once);
      const g = await n.readJson<GenesisDoc>('genesis');
      g.chainId = 'Not A Chain Id';
      g.validators[0]!.power = '-1';
      await writeFile(n.paths.genesis, JSON.stringify(g));
      expectOneLineError(await startOnce(n), new RegExp(`genesis file ${esc(n.paths.genesis)} is invalid`), /restore the chain's genesis file/, /chainId: /, /validators\.0\.power: /);
    });

    it('a missing genesis.json', async () => {
      const n = await copyOf(once);
      await rm(n.paths.genesis);
      expectOneLineError(await startOnce(n), new RegExp(`cannot read genesis file ${esc(n.paths.genesis)} \\(ENOENT\\)`), /restore the chain's genesis file/);
    });

    it('a data folder whose LevelDB files are all garbage', async () => {
      const n = await copyOf(used);
      for (const f of await readdir(n.paths.data)) if (f !== 'LOCK' && f !== 'values') await garble(join(n.paths.data, f));
      expectOneLineError(await startOnce(n), new RegExp(`cannot open database ${esc(n.paths.data)}`), /restore it from a backup/);
    });

    it('a data folder whose value log (blocks and receipts) lost synced data', async () => {
      const n = await copyOf(used);
      const file = join(n.paths.data, 'values', '000000000000.rec');
      const { size } = await stat(file);
      expect(size, 'blocks were appended to the value log').to.be.greaterThan(0);
      await truncate(file, Math.floor(size / 2));
      expectOneLineError(await startOnce(n), new RegExp(`${esc(file)} is ${Math.floor(size / 2)} bytes, but ${size} were written to it and synced`), /restore the data folder from a backup/);
    });

    it('a data folder whose table files are garbage', async () => {
      const n = await copyOf(used);
      const tables = (await readdir(n.paths.data)).filter((f) => f.endsWith('.ldb'));
      expect(tables, 'LevelDB wrote table files').to.have.length.greaterThan(0);
      for (const f of tables) await garble(join(n.paths.data, f));
      expectOneLineError(await startOnce(n), new RegExp(`database ${esc(n.paths.data)} is corrupt`), /restore it from a backup/);
    });

    it('a data folder whose write-ahead log is garbage: no new chain from genesis over it', async () => {
      const n = await copyOf(once);
      const logs = (await readdir(n.paths.data)).filter((f) => f.endsWith('.log'));
      expect(logs, 'LevelDB wrote a log').to.have.length.greaterThan(0);
      for (const f of logs) await garble(join(n.paths.data, f));
      expectOneLineError(await startOnce(n), new RegExp(`data folder ${esc(n.paths.data)} holds a database but no chain`), /restore it from a backup, or remove it/);
    });

    it('a data folder that belongs to another chain', async () => {
      const n = await copyOf(once);
      const other = await copyOf(used);
      await rm(n.paths.data, { recursive: true });
      await cp(other.paths.data, n.paths.data, { recursive: true });
      expectOneLineError(await startOnce(n), /the data folder holds chain "metanode-e2e" \(genesis 0x[0-9a-f]{64}\), not the one in the genesis file/, /use a fresh home for this genesis/);
    });

    it('the originals still start after all that', async () => {
      await used.start();
      expect((await used.rpc.call<HeadJson>('chain_getHead')).height).to.be.greaterThan(3);
      expect(await used.stop()).to.equal(0);
    });
  });
});
