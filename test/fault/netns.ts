/**
 * Network namespaces for the fault suite (Linux, root): one namespace per validator, each with a
 * veth whose other end is a port of a bridge in the root namespace, addresses 10.77.<k>.1…N on
 * one /24 (the root namespace is .254 on it, so the test process reaches every node's JSON-RPC).
 *
 *   const lab = NetnsLab.create(4);          // sweeps what dead runs left, then builds
 *   node.launch = { prefix: lab.exec(i) };   // `ip netns exec <ns>`: the node runs inside
 *   lab.partition([2, 3]);                   // nodes 2 and 3 move to a second bridge
 *   lab.heal();
 *   lab.remove();                            // also run at process exit, whatever happened
 *
 * A partition moves the veths of one side onto a second bridge: the two sides are two switches
 * with no link between them (nothing routes between the bridges; each side's /24 is on-link). The
 * root namespace keeps a host route to each moved node through the second bridge, so the test
 * still reads every node's state while the nodes cannot reach each other.
 *
 * Names carry the test process's pid (`mnfault-<pid>-<i>`, links `mnf<pid>…`), so parallel runs do
 * not collide and a sweep removes only what belongs to processes that no longer exist.
 */
import { execFileSync } from 'node:child_process';

const NS_RE = /^mnfault-(\d+)-\w+$/;
const LINK_RE = /^mnf(\d+)(?:a|b|v\d+)$/;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `ip ARGS`, ignoring failure (cleanup of what may already be gone). */
function ipQuiet(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function namespaces(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n !== '');
}

function links(): string[] {
  return ip('-o', 'link', 'show')
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** SIGKILLs every process in namespace `ns`, then deletes it. */
function deleteNamespace(ns: string): void {
  let pids: string[] = [];
  try {
    pids = ip('netns', 'pids', ns).split('\n').filter((p) => p !== '');
  } catch {
    // gone already
  }
  for (const p of pids) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  ipQuiet('netns', 'del', ns);
}

/**
 * Why namespaces cannot be used here, or undefined when they can: root, `ip` installed, and a
 * probe of what a lab needs (a namespace, a bridge, a veth into the namespace) made and removed.
 */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the fault suite as root, as CI does)';
  const probe = `mnfault-${process.pid}-probe`;
  const bridge = `mnf${process.pid}a`;
  const veth = `mnf${process.pid}v0`;
  try {
    ip('netns', 'add', probe);
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', probe);
    ip('link', 'set', veth, 'master', bridge);
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    return err.code === 'ENOENT' ? '`ip` (iproute2) is not installed' : `${(err.stderr ?? err.message).trim()} (probing namespaces, bridges and veths)`;
  } finally {
    deleteNamespace(probe);
    ipQuiet('link', 'del', veth);
    ipQuiet('link', 'del', bridge);
  }
}

/** Removes namespaces and links left by fault-suite processes that no longer run. */
export function sweepLeftovers(): string[] {
  const removed: string[] = [];
  for (const ns of namespaces()) {
    const m = NS_RE.exec(ns);
    if (m && !alive(Number(m[1]))) {
      deleteNamespace(ns);
      removed.push(ns);
    }
  }
  for (const link of links()) {
    const m = LINK_RE.exec(link);
    if (m && !alive(Number(m[1]))) {
      ipQuiet('link', 'del', link);
      removed.push(link);
    }
  }
  return removed;
}

/** A third octet k such that nothing in the root namespace uses 10.77.k.0/24 yet. */
function freeSubnet(): number {
  const used = ip('-o', '-4', 'addr', 'show') + ip('-4', 'route', 'show');
  for (let k = 0; k < 255; k++) if (!used.includes(`10.77.${k}.`)) return k;
  throw new Error('every 10.77.k.0/24 is in use in the root namespace');
}

export class NetnsLab {
  /** Node i's address, 10.77.<k>.<i+1>. */
  readonly hosts: string[];
  private readonly tag = `mnf${process.pid}`;
  private readonly subnet: number;
  private readonly moved = new Set<number>();
  private removed = false;
  private readonly onExit = () => this.remove();

  private constructor(readonly size: number) {
    this.subnet = freeSubnet();
    this.hosts = Array.from({ length: size }, (_, i) => `10.77.${this.subnet}.${i + 1}`);
  }

  /** Sweeps leftovers of dead runs, then builds `size` namespaces on one bridge. */
  static create(size: number): NetnsLab {
    if (size < 1 || size > 250) throw new Error(`a lab of ${size} namespaces`);
    const swept = sweepLeftovers();
    if (swept.length) console.log(`      removed leftovers of earlier fault-suite runs: ${swept.join(', ')}`);
    const lab = new NetnsLab(size);
    process.once('exit', lab.onExit);
    try {
      lab.build();
    } catch (e) {
      lab.remove();
      throw e;
    }
    return lab;
  }

  get gateway(): string {
    return `10.77.${this.subnet}.254`;
  }

  ns(i: number): string {
    return `mnfault-${process.pid}-${i}`;
  }

  /** The command prefix that runs a program inside node i's namespace. */
  exec(i: number): string[] {
    return ['ip', 'netns', 'exec', this.ns(i)];
  }

  private get bridgeA(): string {
    return `${this.tag}a`;
  }

  private get bridgeB(): string {
    return `${this.tag}b`;
  }

  private veth(i: number): string {
    return `${this.tag}v${i}`;
  }

  private build(): void {
    for (const br of [this.bridgeA, this.bridgeB]) {
      ip('link', 'add', br, 'type', 'bridge');
      ip('link', 'set', br, 'up');
    }
    ip('addr', 'add', `${this.gateway}/24`, 'dev', this.bridgeA);
    for (let i = 0; i < this.size; i++) {
      const ns = this.ns(i);
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('link', 'add', this.veth(i), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', this.veth(i), 'master', this.bridgeA, 'up');
      ip('-n', ns, 'addr', 'add', `${this.hosts[i]}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
    }
  }

  /** Cuts `side` off from the other nodes: their veths move to the second bridge. */
  partition(side: number[]): void {
    if (this.moved.size) throw new Error('already partitioned: heal() first');
    for (const i of side) {
      if (!(i >= 0 && i < this.size)) throw new Error(`no node ${i} in the lab`);
      ip('link', 'set', this.veth(i), 'master', this.bridgeB);
      ip('route', 'add', `${this.hosts[i]}/32`, 'dev', this.bridgeB, 'src', this.gateway);
      this.moved.add(i);
    }
    this.forgetNeighbours();
  }

  /** Puts every moved veth back on the first bridge. */
  heal(): void {
    for (const i of this.moved) {
      ipQuiet('route', 'del', `${this.hosts[i]}/32`);
      ip('link', 'set', this.veth(i), 'master', this.bridgeA);
    }
    this.moved.clear();
    this.forgetNeighbours();
  }

  get partitioned(): boolean {
    return this.moved.size > 0;
  }

  /** ARP caches hold the other switch's ports: drop them, so each side learns its switch anew. */
  private forgetNeighbours(): void {
    for (let i = 0; i < this.size; i++) ipQuiet('-n', this.ns(i), 'neigh', 'flush', 'dev', 'eth0');
    ipQuiet('neigh', 'flush', 'dev', this.bridgeA);
    ipQuiet('neigh', 'flush', 'dev', this.bridgeB);
  }

  /** Kills what runs inside, deletes the namespaces and links. Idempotent; synchronous (runs at exit). */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    process.removeListener('exit', this.onExit);
    for (let i = 0; i < this.size; i++) deleteNamespace(this.ns(i));
    for (let i = 0; i < this.size; i++) ipQuiet('link', 'del', this.veth(i));
    ipQuiet('link', 'del', this.bridgeA);
    ipQuiet('link', 'del', this.bridgeB);
  }
}
