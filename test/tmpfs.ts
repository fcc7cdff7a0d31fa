/**
 * A small disk for tests that need one to fill up: a tmpfs of a few MiB mounted on a folder.
 * Mounting needs root (or CAP_SYS_ADMIN): `SmallDisk.mount` returns the reason it cannot, and
 * the test skips with that reason printed.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class SmallDisk {
  private constructor(readonly dir: string) {}

  /** Mounts a tmpfs of `mib` MiB on `dir` (created); a string says why it could not. */
  static async mount(dir: string, mib: number): Promise<SmallDisk | string> {
    if (process.platform !== 'linux') return `tmpfs needs Linux (this is ${process.platform})`;
    if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (run the test as root to include it)';
    await mkdir(dir, { recursive: true });
    try {
      await run('mount', ['-t', 'tmpfs', '-o', `size=${mib}M`, 'tmpfs', dir]);
    } catch (e) {
      return `mount -t tmpfs failed: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`;
    }
    return new SmallDisk(dir);
  }

  private get filler(): string {
    return join(this.dir, 'filler');
  }

  /** Bytes still free. */
  async free(): Promise<number> {
    const s = await statfs(this.dir);
    return s.bavail * s.bsize;
  }

  /** Writes a filler file until the disk is full (ENOSPC), down to its last byte. */
  fill(): void {
    const fd = openSync(this.filler, 'a');
    try {
      for (const size of [1 << 20, 1 << 12, 1]) {
        const chunk = Buffer.alloc(size, 0x5a);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes the filler: the space is free again. */
  async release(): Promise<void> {
    await rm(this.filler, { force: true });
  }

  async unmount(): Promise<void> {
    await run('umount', ['-l', this.dir]).catch(() => undefined);
  }
}
