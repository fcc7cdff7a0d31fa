/**
 * A small disk for tests that need one to fill up (Linux, root): a size-limited tmpfs mounted at
 * a folder, e.g. a validator's `data/` before its first start, that a test fills to the last
 * byte and frees. Tests without root skip, printing smallDiskUnavailable()'s reason.
 *
 *   const disk = SmallDisk.mount(join(node.home, 'data'), 64);   // 64 MiB
 *   disk.fill();      // writes a filler file until the kernel says ENOSPC
 *   disk.free();      // removes it
 *   disk.unmount();   // also run at process exit, whatever happened
 *
 * The mount's source is named after the test process (`mnfault-<pid>`), so a sweep unmounts only
 * what processes that no longer run left behind.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE_RE = /^mnfault-(\d+)$/;
const FILLER = '.fault-filler';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** (source, mount point) of every tmpfs mounted by a fault-suite process. */
function faultMounts(): { source: string; target: string }[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'tmpfs' && SOURCE_RE.test(f[0]!))
    // /proc/mounts escapes spaces and the like as octal (\040).
    .map((f) => ({ source: f[0]!, target: f[1]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) }));
}

/** Unmounts small disks left by fault-suite processes that no longer run; returns their mount points. */
export function sweepSmallDisks(): string[] {
  const out: string[] = [];
  for (const m of faultMounts()) {
    if (alive(Number(SOURCE_RE.exec(m.source)![1]))) continue;
    try {
      run('umount', ['-l', m.target]);
      out.push(m.target);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Why a small disk cannot be mounted here, or undefined: Linux, root, and a probe tmpfs mounted and unmounted. */
export function smallDiskUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `a tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (run the fault suite as root, as CI does)';
  const dir = mkdtempSync(join(tmpdir(), 'metanode-fault-disk-probe-'));
  try {
    run('mount', ['-t', 'tmpfs', '-o', 'size=1m', `mnfault-${process.pid}`, dir]);
    run('umount', [dir]);
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    return `mounting a tmpfs failed: ${(err.stderr?.toString() || err.message).trim()}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class SmallDisk {
  private mounted = true;
  private readonly onExit = () => this.unmount();

  private constructor(
    readonly dir: string,
    readonly sizeMiB: number,
  ) {}

  /** Mounts a `sizeMiB` tmpfs at `dir` (created if missing; it must be empty). */
  static mount(dir: string, sizeMiB: number): SmallDisk {
    const swept = sweepSmallDisks();
    if (swept.length) console.log(`      unmounted small disks of earlier fault-suite runs: ${swept.join(', ')}`);
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: mount a small disk there before anything is written`);
    mkdirSync(dir, { recursive: true });
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, `mnfault-${process.pid}`, dir]);
    const disk = new SmallDisk(dir, sizeMiB);
    process.once('exit', disk.onExit);
    return disk;
  }

  /** Bytes a process may still write there. */
  freeBytes(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  /** Writes a filler file until the disk is full (ENOSPC); returns the bytes it took. */
  fill(): number {
    const fd = openSync(join(this.dir, FILLER), 'a');
    let written = 0;
    try {
      for (let chunk = 1 << 20; chunk >= 512; ) {
        try {
          written += writeSync(fd, Buffer.alloc(chunk));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          chunk >>= 1;
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  /** Removes the filler: the space it took is free again. */
  free(): void {
    rmSync(join(this.dir, FILLER), { force: true });
  }

  /** Unmounts (lazily, if something still has files open there). Idempotent; synchronous (runs at exit). */
  unmount(): void {
    if (!this.mounted) return;
    this.mounted = false;
    process.removeListener('exit', this.onExit);
    try {
      run('umount', ['-l', this.dir]);
    } catch {
      // unmounted already
    }
  }
}
