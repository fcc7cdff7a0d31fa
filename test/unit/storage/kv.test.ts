import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LevelKV, MemoryKV, StorageError, StorageErrorCode, type BatchOp, type KVController } from '../../../storage/index.js';
import { SmallDisk, smallDiskUnavailable } from '../../small-disk.js';
import { expectRejectsCode, removeDir, tempDir } from '../fixtures.js';

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

async function collect(kv: KVController, gte: Uint8Array, lt: Uint8Array): Promise<number[][]> {
  const out: number[][] = [];
  for await (const [k] of kv.entries({ gte, lt })) out.push([...k]);
  return out;
}

describe('storage/kv', () => {
  let dir: string;
  const open: KVController[] = [];
  beforeEach(async () => {
    dir = await tempDir('metanode-kv-');
  });
  afterEach(async () => {
    for (const kv of open.splice(0)) await kv.close().catch(() => {});
    await removeDir(dir);
  });

  const backends: [string, () => Promise<KVController>][] = [
    ['MemoryKV', async () => new MemoryKV()],
    [
      'LevelKV',
      async () => {
        const kv = await LevelKV.open(join(dir, 'db'));
        open.push(kv);
        return kv;
      },
    ],
  ];

  for (const [name, make] of backends) {
    describe(name, () => {
      it('gets what a batch put, and nothing after a delete', async () => {
        const kv = await make();
        expect(await kv.get(b(1))).to.equal(undefined);
        await kv.batch([
          { type: 'put', key: b(1), value: b(10) },
          { type: 'put', key: b(2), value: b() },
          { type: 'put', key: b(3), value: b(30) },
        ]);
        await kv.batch([{ type: 'del', key: b(3) }, { type: 'put', key: b(1), value: b(11) }], { sync: true });
        expect(await kv.get(b(1))).to.deep.equal(b(11));
        expect(await kv.get(b(2)), 'an empty value is not absence').to.deep.equal(b());
        expect(await kv.get(b(3))).to.equal(undefined);
      });

      it('a batch applies its operations in order, small and large values alike, and leaves the caller\'s arrays as they were', async () => {
        const kv = await make();
        const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff);
        const view = new Uint8Array(big.buffer, 1_000, 5_000); // a view into a larger buffer
        const ops = [
          { type: 'put' as const, key: b(5), value: b(1) },
          { type: 'put' as const, key: b(6), value: big },
          { type: 'put' as const, key: b(7), value: view },
          { type: 'del' as const, key: b(5) },
          { type: 'put' as const, key: b(5), value: b(2, 3) },
          { type: 'put' as const, key: b(8), value: b(4) },
          { type: 'del' as const, key: b(8) },
        ];
        const before = ops.map((op) => [...op.key, ...(op.type === 'put' ? op.value.subarray(0, 16) : [])]);
        await kv.batch(ops, { sync: true });
        expect(await kv.get(b(5)), 'put after delete wins').to.deep.equal(b(2, 3));
        expect(await kv.get(b(6))).to.deep.equal(big);
        expect(await kv.get(b(7))).to.deep.equal(big.slice(1_000, 6_000));
        expect(await kv.get(b(8)), 'delete after put wins').to.equal(undefined);
        expect(ops.map((op) => [...op.key, ...(op.type === 'put' ? op.value.subarray(0, 16) : [])])).to.deep.equal(before);
      });

      it('lists [gte, lt) in byte order', async () => {
        const kv = await make();
        const keys = [b(1), b(1, 0), b(1, 0xff), b(2), b(0xff), b(0, 9), b(1, 0xff, 0xff)];
        await kv.batch(keys.map((key) => ({ type: 'put' as const, key, value: b(7) })));
        expect(await collect(kv, b(1), b(2))).to.deep.equal([[1], [1, 0], [1, 0xff], [1, 0xff, 0xff]]);
        expect(await collect(kv, b(1, 0xff), b(2))).to.deep.equal([[1, 0xff], [1, 0xff, 0xff]]);
        expect(await collect(kv, b(2), b(0xff, 0))).to.deep.equal([[2], [0xff]]);
        expect(await collect(kv, b(3), b(4))).to.deep.equal([]);
      });
    });
  }

  describe('LevelKV.open', () => {
    it('keeps data across close and reopen', async () => {
      const kv = await LevelKV.open(join(dir, 'db'));
      await kv.batch([{ type: 'put', key: b(5), value: b(50) }], { sync: true });
      await kv.close();
      const again = await LevelKV.open(join(dir, 'db'));
      open.push(again);
      expect(await again.get(b(5))).to.deep.equal(b(50));
    });

    it('refuses a folder another LevelKV holds open with STORAGE_LOCKED, and opens it once that one closes', async () => {
      const first = await LevelKV.open(join(dir, 'db'));
      const err = await expectRejectsCode(() => LevelKV.open(join(dir, 'db')), StorageError, StorageErrorCode.Locked);
      expect(err.message).to.contain(join(dir, 'db'));
      expect(err.message).to.match(/in use by another process/);
      expect(err.context).to.deep.equal({ location: join(dir, 'db') });
      await first.close();
      open.push(await LevelKV.open(join(dir, 'db')));
    });

    it('maps at most openFiles − 10 table files, however many the database holds (LevelDB reads tables through mmap)', async function () {
      if (process.platform !== 'linux') this.skip();
      this.timeout(120_000);
      const db = join(dir, 'db');
      // ~320 MB that does not compress: more than 64 table files (LevelDB writes them of 2–4 MB).
      const write = async (kv: LevelKV): Promise<void> => {
        for (let batch = 0; batch < 320; batch++) {
          const ops: BatchOp[] = [];
          for (let i = 0; i < 1000; i++) ops.push({ type: 'put', key: b(batch >> 8, batch & 255, i >> 8, i & 255), value: randomBytes(1024) });
          await kv.batch(ops);
        }
      };
      const readAll = async (kv: LevelKV): Promise<void> => {
        for (let batch = 0; batch < 320; batch++) for (let i = 0; i < 1000; i += 97) expect(await kv.get(b(batch >> 8, batch & 255, i >> 8, i & 255))).to.have.length(1024);
      };
      const mappedTables = async (): Promise<number> => new Set((await readFile('/proc/self/maps', 'utf8')).split('\n').filter((l) => l.includes(db) && l.endsWith('.ldb')).map((l) => l.slice(l.lastIndexOf(' ') + 1))).size;
      let kv = await LevelKV.open(db, { openFiles: 1000 });
      await write(kv);
      await kv.close(); // a reopen writes the memtable out as a table
      kv = await LevelKV.open(db, { openFiles: 1000 });
      await readAll(kv);
      const tables = (await readdir(db)).filter((f) => f.endsWith('.ldb')).length;
      expect(tables).to.be.greaterThan(64);
      expect(await mappedTables()).to.equal(tables); // all of them, resident as they are read
      await kv.close();
      expect(await mappedTables()).to.equal(0);
      // 74 is the least LevelDB takes: 64 tables open, 10 files for its own use.
      kv = await LevelKV.open(db, { openFiles: 74 });
      open.push(kv);
      await readAll(kv);
      await readAll(kv);
      expect(await mappedTables()).to.be.at.most(64).and.at.least(1);
    });

    for (const [what, files] of [
      ['a CURRENT file naming a missing manifest', { CURRENT: 'garbage\n' }],
      ['a garbage manifest', { CURRENT: 'MANIFEST-000001\n', 'MANIFEST-000001': 'this is not a LevelDB manifest' }],
    ] as const) {
      it(`a folder with ${what} is STORAGE_OPEN with an actionable message`, async () => {
        const db = join(dir, 'db');
        await mkdir(db);
        for (const [f, text] of Object.entries(files)) await writeFile(join(db, f), text);
        const err = await expectRejectsCode(() => LevelKV.open(db), StorageError, StorageErrorCode.Open);
        expect(err.message).to.contain(`cannot open database ${db}`);
        expect(err.message).to.match(/restore it from a backup or re-sync into an empty home/);
      });
    }

    describe('the value log', () => {
      const values = () => join(dir, 'db', 'values');
      const segment = (n: number) => join(values(), `${String(n).padStart(12, '0')}.rec`);
      const big = (n: number, fill: number) => new Uint8Array(n).fill(fill);

      it('keeps appended values out of LevelDB, with only their place in it, and reads them back after reopening', async () => {
        const kv = await LevelKV.open(join(dir, 'db'));
        await kv.batch([
          { type: 'append', key: b(4, 1), value: big(5_000, 1) },
          { type: 'put', key: b(2), value: b(9) },
          { type: 'append', key: b(4, 2), value: b() },
        ], { sync: true });
        expect(await kv.getAppended(b(4, 1))).to.deep.equal(big(5_000, 1));
        expect(await kv.getAppended(b(4, 2)), 'an empty value is not absence').to.deep.equal(b());
        expect(await kv.get(b(4, 1)), 'not under its own key in LevelDB').to.equal(undefined);
        expect(await kv.get(b(2))).to.deep.equal(b(9));
        expect((await stat(segment(0))).size).to.equal(8 + 5_000 + 8);
        await kv.close();
        const again = await LevelKV.open(join(dir, 'db'));
        open.push(again);
        expect(await again.getAppended(b(4, 1))).to.deep.equal(big(5_000, 1));
        expect(await again.getAppended(b(4, 3))).to.equal(undefined);
      });

      it('reads a value put under the key by a version without the value log', async () => {
        const kv = await LevelKV.open(join(dir, 'db'));
        open.push(kv);
        await kv.batch([{ type: 'put', key: b(4, 1), value: b(1, 2, 3) }]);
        expect(await kv.getAppended(b(4, 1))).to.deep.equal(b(1, 2, 3));
      });

      it('cuts off appends whose batch never landed (a crash between the two writes)', async () => {
        const kv = await LevelKV.open(join(dir, 'db'));
        await kv.batch([{ type: 'append', key: b(4, 1), value: big(100, 1) }], { sync: true });
        await kv.close();
        const recorded = (await stat(segment(0))).size;
        await appendFile(segment(0), big(300, 0xee)); // written and synced, then the process died
        await writeFile(segment(1), big(50, 0xee)); // a file started for the next append
        const again = await LevelKV.open(join(dir, 'db'));
        open.push(again);
        expect((await stat(segment(0))).size).to.equal(recorded);
        expect(await readdir(values())).to.deep.equal(['000000000000.rec']);
        await again.batch([{ type: 'append', key: b(4, 2), value: big(10, 2) }], { sync: true });
        expect(await again.getAppended(b(4, 1))).to.deep.equal(big(100, 1));
        expect(await again.getAppended(b(4, 2))).to.deep.equal(big(10, 2));
      });

      it('a value log shorter than LevelDB says is STORAGE_CORRUPT at open', async () => {
        const kv = await LevelKV.open(join(dir, 'db'));
        await kv.batch([{ type: 'append', key: b(4, 1), value: big(100, 1) }], { sync: true });
        await kv.close();
        await truncate(segment(0), 50);
        const err = await expectRejectsCode(() => LevelKV.open(join(dir, 'db')), StorageError, StorageErrorCode.Corrupt);
        expect(err.message).to.match(/is 50 bytes, but 108 were written to it and synced/);
        // The failed open closed LevelDB: opening again finds the same damage, not a lock.
        await expectRejectsCode(() => LevelKV.open(join(dir, 'db')), StorageError, StorageErrorCode.Corrupt);
      });

      it('starts a new file past the segment size, and concurrent batches all land', async () => {
        const kv = await LevelKV.open(join(dir, 'db'), { valueSegmentBytes: 1_000 });
        await Promise.all(Array.from({ length: 6 }, (_, i) => kv.batch([{ type: 'append', key: b(4, i), value: big(600, i) }], { sync: true })));
        expect(await readdir(values())).to.have.length(6);
        await kv.close();
        const again = await LevelKV.open(join(dir, 'db'), { valueSegmentBytes: 1_000 });
        open.push(again);
        for (let i = 0; i < 6; i++) expect(await again.getAppended(b(4, i))).to.deep.equal(big(600, i));
      });
    });

    describe('on a disk that fills up (a tmpfs: root only)', () => {
      const value = (i: number) => new Uint8Array(3000).fill(i);
      for (const appends of [false, true]) {
        it(`a failed ${appends ? 'value-log append' : 'LevelDB write'} loses nothing acknowledged: the next batch reopens, and works once space is freed`, async function () {
          const why = smallDiskUnavailable();
          if (why) {
            console.log(`      skipped: ${why}`);
            return this.skip();
          }
          const disk = SmallDisk.mount(join(dir, 'mnt'), 2);
          const ops = (i: number): BatchOp[] => [{ type: 'put', key: b(1, i), value: value(i) }, ...(appends ? [{ type: 'append' as const, key: b(2, i), value: value(i) }] : [])];
          const check = async (kv: LevelKV, n: number) => {
            for (let i = 0; i < n; i++) {
              expect(await kv.get(b(1, i)), `put ${i}`).to.deep.equal(value(i));
              if (appends) expect(await kv.getAppended(b(2, i)), `append ${i}`).to.deep.equal(value(i));
            }
          };
          try {
            const kv = await LevelKV.open(join(disk.dir, 'db'));
            open.push(kv);
            for (let i = 0; i < 5; i++) await kv.batch(ops(i), { sync: true });
            disk.fill();
            const failure = await kv.batch(ops(5), { sync: true }).then(() => undefined, (e: unknown) => e as Error);
            expect(failure, 'a write on a full disk fails').to.be.instanceOf(Error);
            // Each path for real: the value log is written first when a batch has appends, else LevelDB's log.
            expect(failure!.message).to.match(appends ? /values\/\d+\.rec failed: (wrote \d+ of \d+ bytes|ENOSPC)/ : /\d+\.log: No space left on device/);
            // Still full: the reopen (or the write after it) fails too.
            await kv.batch(ops(5), { sync: true }).then(() => expect.fail('wrote on a full disk'), () => undefined);
            disk.free();
            for (let i = 5; i < 8; i++) await kv.batch(ops(i), { sync: true });
            await check(kv, 8);
            await kv.close();
            const again = await LevelKV.open(join(disk.dir, 'db'));
            open.push(again);
            await check(again, 8);
            await again.close();
          } finally {
            disk.unmount();
          }
        });
      }
    });

    it('a path that is a file is STORAGE_OPEN', async () => {
      const file = join(dir, 'not-a-folder');
      await writeFile(file, 'x');
      const err = await expectRejectsCode(() => LevelKV.open(file), StorageError, StorageErrorCode.Open);
      expect(err.message).to.contain(file);
    });
  });
});
