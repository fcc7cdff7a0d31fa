import { expect } from 'chai';
import { Registry } from 'prom-client';
import { CommitCertificate, commitVoteMessage } from '../../../chain/index.js';
import { Blockchain, MemorySignLog, MsgType } from '../../../consensus/index.js';
import { NodeErrorCode, NodeHealth, type NodeError } from '../../../node/index.js';
import { ChainStore, MemoryKV, StorageError, StorageErrorCode, type BatchOp } from '../../../storage/index.js';
import { StateMachine } from '../../../vm/index.js';
import { createModules } from '../../../vm/modules/index.js';
import { silentLogger, testGenesis, validatorKey } from '../fixtures.js';

const VALIDATOR = validatorKey(0);
const GENESIS = testGenesis({ validators: [VALIDATOR] });

/** MemoryKV whose batches fail while `full`. */
class FullDisk extends MemoryKV {
  full = false;
  override async batch(ops: BatchOp[]): Promise<void> {
    if (this.full) throw new Error('ENOSPC: no space left on device, write');
    return super.batch(ops);
  }
}

async function setup(writeRetries: number) {
  const kv = new FullDisk();
  const { registry: modules, bank } = createModules();
  const chain = await Blockchain.open(GENESIS, { store: await ChainStore.open(kv), sm: new StateMachine({ chainId: GENESIS.chainId }, { registry: modules, fees: bank }), logger: silentLogger() }, { writeRetries, writeRetryDelayMs: 5 });
  const registry = new Registry();
  const health = new NodeHealth({ writeRetries }, { chain, logger: silentLogger(), registry });
  const fatal: NodeError[] = [];
  health.on('fatal', (e) => fatal.push(e));
  const next = () => {
    const { executed } = chain.build(VALIDATOR.address, [], Date.parse('2026-06-01T00:00:00Z') + chain.height);
    const hash = executed.block.hash();
    const cert = CommitCertificate.aggregate(executed.block.height, 0, hash, 1, [{ index: 0, signature: VALIDATOR.bls.sign(commitVoteMessage(GENESIS.chainId, executed.block.height, 0, hash)) }]);
    return chain.commit(executed, cert);
  };
  const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
  return { kv, chain, health, fatal, next, metric };
}

describe('node/health', () => {
  it('is healthy, then unhealthy with the reason while a block write is retried, and healthy again once it lands', async () => {
    const t = await setup(3);
    expect(t.health.status()).to.deep.equal({ ok: true });
    expect(await t.metric('metanode_node_healthy')).to.equal(1);
    t.kv.full = true;
    const seen: { ok: boolean; reason?: string }[] = [];
    t.chain.on('writeFailed', () => {
      seen.push(t.health.status());
      if (seen.length === 2) t.kv.full = false;
    });
    await t.next();
    expect(seen).to.have.length(2);
    expect(seen[0]!.ok).to.equal(false);
    expect(seen[0]!.reason).to.match(/^cannot write block 1 to disk \(writing block 1 failed: ENOSPC.*\); not signing; retrying \(attempt 1 of 4 failed\)$/);
    expect(t.health.status()).to.deep.equal({ ok: true });
    expect(await t.metric('metanode_storage_write_failures_total')).to.equal(2);
    expect(t.fatal).to.deep.equal([]);
  });

  it('a block that cannot be written after the retries is fatal, once; the node stays unhealthy', async () => {
    const t = await setup(1);
    t.kv.full = true;
    await t.next().then(() => expect.fail('committed on a full disk'), () => undefined);
    expect(t.fatal.map((e) => e.code)).to.deep.equal([NodeErrorCode.StorageFailed]);
    expect(t.fatal[0]!.message).to.match(/cannot write block 1 to disk after 2 attempts/);
    await t.next().then(() => expect.fail('committed after giving up'), () => undefined);
    expect(t.fatal, 'emitted once').to.have.length(1);
    expect(t.health.status()).to.deep.equal({ ok: false, reason: t.fatal[0]!.message });
    expect(await t.metric('metanode_node_healthy')).to.equal(0);
  });

  it('a sign-log record that cannot be written is fatal at once, and the caller still sees the error', async () => {
    const t = await setup(3);
    const inner = new MemorySignLog();
    let fail = false;
    const failing = Object.assign(Object.create(inner) as MemorySignLog, {
      record: (h: number, r: number, ty: MsgType, e: Uint8Array) => (fail ? Promise.reject(new StorageError(StorageErrorCode.Write, 'writing to signlog failed: ENOSPC')) : inner.record(h, r, ty, e)),
    });
    const log = t.health.guardSignLog(failing);
    await log.record(1, 0, MsgType.Prepare, Uint8Array.of(1));
    expect(await log.get(1, 0, MsgType.Prepare)).to.deep.equal(Uint8Array.of(1));
    fail = true;
    const err = await log.record(1, 0, MsgType.Commit, Uint8Array.of(2)).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(StorageError);
    expect(t.fatal.map((e) => e.message)).to.deep.equal(['cannot write to the sign log (writing to signlog failed: ENOSPC); stopping']);
    expect(t.health.status().ok).to.equal(false);
    expect(await t.metric('metanode_storage_write_failures_total')).to.equal(1);
  });
});
