/**
 * The small disk that the disk-full tests (test/fault/disk-full.test.ts, storage/kv) put data on:
 * it fills to ENOSPC, frees, and goes away.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmallDisk, smallDiskUnavailable } from '../small-disk.js';

describe('test harness: a small disk (tmpfs) that fills up and frees', function () {
  let dir: string;
  let disk: SmallDisk | undefined;

  before(function () {
    const why = smallDiskUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metanode-fault-disk-'));
  });

  afterEach(async () => {
    disk?.unmount();
    await rm(dir, { recursive: true, force: true });
  });

  it('is full after fill(): a write fails with ENOSPC; after free() it succeeds; unmount() removes it', async () => {
    disk = SmallDisk.mount(join(dir, 'data'), 4);
    expect(disk.freeBytes()).to.be.within(3.5 * 2 ** 20, 4 * 2 ** 20);
    const took = disk.fill();
    expect(took, 'bytes the filler took').to.be.within(3.5 * 2 ** 20, 4 * 2 ** 20);
    expect(disk.freeBytes()).to.be.below(4096);
    let err: NodeJS.ErrnoException | undefined;
    await writeFile(join(disk.dir, 'block'), Buffer.alloc(64 * 1024)).catch((e: NodeJS.ErrnoException) => (err = e));
    expect(err?.code, 'a 64 KiB write on the full disk').to.equal('ENOSPC');
    disk.free();
    await writeFile(join(disk.dir, 'block'), Buffer.alloc(64 * 1024, 7));
    expect((await readFile(join(disk.dir, 'block'))).length).to.equal(64 * 1024);
    disk.unmount();
    expect(await readFile('/proc/mounts', 'utf8')).to.not.include(disk.dir);
  });

  it('refuses a folder that already holds files (they would be hidden under the mount)', async () => {
    await writeFile(join(dir, 'x'), 'x');
    expect(() => (disk = SmallDisk.mount(dir, 4))).to.throw(/not empty/);
  });
});
