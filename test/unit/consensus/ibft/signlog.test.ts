import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import { FileSignLog, KVSignLog, MsgType } from '../../../../consensus/ibft/index.js';
import { Bucket, MemoryKV, bucketRange } from '../../../../storage/index.js';
import { removeDir, tempDir } from '../../fixtures.js';

const envelope = (n: number, size = 64): Uint8Array => new Uint8Array(size).fill(n);

describe('consensus/ibft/signlog FileSignLog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('metanode-signlog-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('gives back what was recorded, before and after reopening', async () => {
    const log = await FileSignLog.open(dir);
    await log.record(5, 0, MsgType.Proposal, envelope(1, 200_000));
    await log.record(5, 0, MsgType.Prepare, envelope(2));
    await log.record(5, 1, MsgType.RoundChange, envelope(3));
    await log.record(6, 0, MsgType.Prepare, envelope(4));
    expect(await log.get(5, 0, MsgType.Proposal)).to.deep.equal(envelope(1, 200_000));
    expect(await log.get(5, 0, MsgType.Commit)).to.equal(undefined);
    await log.close();

    const again = await FileSignLog.open(dir);
    expect((await again.atHeight(5)).map((r) => [r.round, r.type, r.envelope[0]])).to.deep.equal([
      [0, MsgType.Proposal, 1],
      [0, MsgType.Prepare, 2],
      [1, MsgType.RoundChange, 3],
    ]);
    expect(await again.get(6, 0, MsgType.Prepare)).to.deep.equal(envelope(4));
    expect(await again.atHeight(7)).to.deep.equal([]);
    await again.close();
  });

  it('prunes heights below one, deleting the files that held only them', async () => {
    const log = await FileSignLog.open(dir);
    for (const h of [3, 15, 16, 31, 32, 40]) await log.record(h, 0, MsgType.Prepare, envelope(h));
    expect(await readdir(dir)).to.have.length(3); // heights 0–15, 16–31, 32–47
    await log.prune(32);
    expect(await readdir(dir)).to.deep.equal(['000000000002.rec']);
    expect(await log.get(31, 0, MsgType.Prepare)).to.equal(undefined);
    expect(await log.get(32, 0, MsgType.Prepare)).to.deep.equal(envelope(32));
    await log.prune(40); // within a file: forgotten, the file stays until all its heights are below
    expect(await log.get(32, 0, MsgType.Prepare)).to.equal(undefined);
    expect(await log.get(40, 0, MsgType.Prepare)).to.deep.equal(envelope(40));
    await log.close();
  });

  it('moves the records an older version kept in the database into its files', async () => {
    const kv = new MemoryKV();
    const old = new KVSignLog(kv);
    await old.record(9, 2, MsgType.Commit, envelope(7, 1000));
    await old.record(9, 2, MsgType.Prepare, envelope(8));
    const log = await FileSignLog.open(dir, { importFrom: kv });
    expect((await log.atHeight(9)).map((r) => [r.round, r.type, r.envelope])).to.deep.equal([
      [2, MsgType.Prepare, envelope(8)],
      [2, MsgType.Commit, envelope(7, 1000)],
    ]);
    const left = [];
    for await (const e of kv.entries(bucketRange(Bucket.SignLog))) left.push(e);
    expect(left).to.deep.equal([]);
    await log.close();
    const again = await FileSignLog.open(dir, { importFrom: kv });
    expect(await again.get(9, 2, MsgType.Commit)).to.deep.equal(envelope(7, 1000));
    await again.close();
  });
});
