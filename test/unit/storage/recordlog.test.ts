import { expect } from 'chai';
import { readdir, stat, truncate, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordLog, StorageError, StorageErrorCode } from '../../../storage/index.js';
import { expectRejectsCode, removeDir, tempDir } from '../fixtures.js';

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const segmentFile = (dir: string, s: number): string => join(dir, `${String(s).padStart(12, '0')}.rec`);

describe('storage/recordlog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('metanode-recordlog-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('reads back what was appended, from its reference and after reopening, in order', async () => {
    const { log, records } = await RecordLog.open(dir);
    expect(records).to.deep.equal([]);
    const a = await log.append(0, [bytes(3, 1), bytes(2, 2)]);
    const b = await log.append(0, [bytes(10, 3)]);
    const c = await log.append(1, [bytes(1, 4)]);
    expect(await log.read(a)).to.deep.equal(Uint8Array.of(1, 1, 1, 2, 2));
    expect(await log.read(b)).to.deep.equal(bytes(10, 3));
    expect(await log.read(c)).to.deep.equal(bytes(1, 4));
    await log.close();

    const again = await RecordLog.open(dir);
    expect(again.records.map((r) => [r.segment, [...r.payload]])).to.deep.equal([
      [0, [1, 1, 1, 2, 2]],
      [0, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3]],
      [1, [4]],
    ]);
    expect(again.records.map(({ segment, offset, length }) => ({ segment, offset, length }))).to.deep.equal([a, b, c]);
    await again.log.close();
  });

  it('keeps concurrent appends whole and in the order they were made', async () => {
    const { log } = await RecordLog.open(dir);
    const refs = await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(0, [bytes(100 + i, i)])));
    for (let i = 0; i < refs.length; i++) expect(await log.read(refs[i]!)).to.deep.equal(bytes(100 + i, i));
    await log.close();
    const again = await RecordLog.open(dir);
    expect(again.records.map((r) => r.payload[0])).to.deep.equal(Array.from({ length: 40 }, (_, i) => i));
    await again.log.close();
  });

  it('cuts off a record torn by a crash (short, or damaged at the end of the file) and appends after it', async () => {
    const { log } = await RecordLog.open(dir);
    await log.append(0, [bytes(50, 7)]);
    await log.append(0, [bytes(50, 8)]);
    await log.close();
    const file = segmentFile(dir, 0);
    const whole = (await stat(file)).size;
    const first = whole / 2;

    await truncate(file, whole - 10); // the last record is short
    let r = await RecordLog.open(dir);
    expect(r.records.map((x) => x.payload[0])).to.deep.equal([7]);
    expect((await stat(file)).size).to.equal(first);
    await r.log.append(0, [bytes(50, 9)]);
    await r.log.close();

    const damaged = new Uint8Array(await readFile(file));
    damaged[damaged.length - 1]! ^= 0xff; // the last record, full length but not what was written
    await writeFile(file, damaged);
    r = await RecordLog.open(dir);
    expect(r.records.map((x) => x.payload[0])).to.deep.equal([7]);
    expect((await stat(file)).size).to.equal(first);
    await r.log.close();

    await writeFile(file, Uint8Array.of(...(await readFile(file)), 0, 0, 0)); // a header cut short
    r = await RecordLog.open(dir);
    expect(r.records).to.have.length(1);
    expect((await stat(file)).size).to.equal(first);
    await r.log.close();
  });

  it('refuses a segment damaged before its last record', async () => {
    const { log } = await RecordLog.open(dir);
    await log.append(0, [bytes(50, 7)]);
    await log.append(0, [bytes(50, 8)]);
    await log.close();
    const file = segmentFile(dir, 0);
    const damaged = new Uint8Array(await readFile(file));
    damaged[20]! ^= 0xff; // inside the first record's payload
    await writeFile(file, damaged);
    const e = await expectRejectsCode(() => RecordLog.open(dir), StorageError, StorageErrorCode.Corrupt);
    expect(e.message).to.match(/corrupt at offset 0/);
  });

  it('drops whole segments below a number', async () => {
    const { log } = await RecordLog.open(dir);
    for (const s of [3, 4, 5, 7]) await log.append(s, [bytes(4, s)]);
    await log.dropBelow(5);
    expect((await readdir(dir)).sort()).to.deep.equal(['000000000005.rec', '000000000007.rec']);
    expect(await log.listSegments()).to.deep.equal([5, 7]);
    const again = await log.append(3, [bytes(2, 1)]); // a dropped segment can be written afresh
    expect(await log.read(again)).to.deep.equal(bytes(2, 1));
    await log.close();
  });

  it('a read of a record damaged since it was written is STORAGE_CORRUPT', async () => {
    const { log } = await RecordLog.open(dir, { scan: false });
    await log.append(0, [bytes(50, 7)]);
    const ref = await log.append(0, [bytes(50, 8)]);
    await log.append(0, [bytes(50, 9)]);
    const file = segmentFile(dir, 0);
    const damaged = new Uint8Array(await readFile(file));
    damaged[ref.offset + 3]! ^= 0x01;
    await writeFile(file, damaged);
    const e = await expectRejectsCode(() => log.read(ref), StorageError, StorageErrorCode.Corrupt);
    expect(e.message).to.match(/is corrupt at offset 58/);
    expect(await log.read({ ...ref, offset: ref.offset + 58 })).to.deep.equal(bytes(50, 9));
    await log.close();
  });

  it('a read from a file that is gone is STORAGE_CORRUPT, and makes no file', async () => {
    const { log } = await RecordLog.open(dir);
    const e = await expectRejectsCode(() => log.read({ segment: 4, offset: 8, length: 10 }), StorageError, StorageErrorCode.Corrupt);
    expect(e.message).to.match(/000000000004\.rec is missing/);
    expect(await readdir(dir)).to.deep.equal([]);
    await log.close();
  });

  it('fails appends and reads once closed', async () => {
    const { log } = await RecordLog.open(dir);
    const ref = await log.append(0, [bytes(1, 1)]);
    await log.close();
    await expectRejectsCode(() => log.append(0, [bytes(1, 1)]), StorageError, StorageErrorCode.Closed);
    await expectRejectsCode(() => log.read(ref), StorageError, StorageErrorCode.Closed);
  });
});
