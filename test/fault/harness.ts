/**
 * The fault suite's harness, on top of the e2e one (test/e2e/testnet-harness.ts): a testnet in
 * network namespaces when the machine allows it (root, iproute2) and on loopback otherwise, a
 * skewed clock through libfaketime, hostile TCP clients of a p2p port, and the one-line figures
 * each fault test prints.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { BlockJson } from '../e2e/harness.js';
import { Testnet, type Launch, type TestnetOptions, type ValidatorNode } from '../e2e/testnet-harness.js';
import { NetnsLab, netnsUnavailable } from './netns.js';

export { NetnsLab, netnsUnavailable, sweepLeftovers } from './netns.js';
export { SmallDisk, smallDiskUnavailable, sweepSmallDisks } from '../small-disk.js';

/** Prints a test's figure: one line, `figure {"test": …, …}`, easy to grep out of a CI log. */
export function figure(test: string, data: Record<string, unknown>): void {
  console.log(`      figure ${JSON.stringify({ test, ...data })}`);
}

/** The longest interval between consecutive blocks (header timestamps: the proposers' clocks). */
export function worstGap(blocks: readonly BlockJson<unknown>[]): { ms: number; height: number } {
  let worst = { ms: 0, height: 0 };
  for (let i = 1; i < blocks.length; i++) {
    const ms = blocks[i]!.timestamp - blocks[i - 1]!.timestamp;
    if (ms > worst.ms) worst = { ms, height: blocks[i]!.height };
  }
  return worst;
}

/** The median interval between consecutive blocks (ms): a network's pace, e.g. idle vs. under a flood. */
export function medianInterval(blocks: readonly BlockJson<unknown>[]): number {
  const gaps = blocks.slice(1).map((b, i) => b.timestamp - blocks[i]!.timestamp).sort((x, y) => x - y);
  if (gaps.length === 0) throw new Error('an interval needs two blocks or more');
  const mid = gaps.length >> 1;
  return gaps.length % 2 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
}

export interface FaultNet {
  net: Testnet;
  /** The namespaces the nodes run in; undefined when on loopback. */
  lab: NetnsLab | undefined;
  /** Why the network is on loopback (namespaces unavailable), if it is. */
  loopbackReason: string | undefined;
  /** Kills the nodes, removes the namespaces, and the homes unless `keep`. */
  remove(keep?: boolean): Promise<void>;
  /** `n` source addresses for clients of the nodes (each a client of its own to a node's rate limits). */
  clientAddresses(n: number): string[];
}

/**
 * A testnet of `metanode testnet` homes, each node in a namespace of its own (10.77.k.i) when
 * namespaces are available, else on 127.0.0.1; the reason for loopback is printed.
 */
export async function createFaultNet(o: TestnetOptions & { netns: boolean }): Promise<FaultNet> {
  const loopbackReason = o.netns ? netnsUnavailable() : 'not asked for';
  const lab = loopbackReason === undefined ? NetnsLab.create(o.validators) : undefined;
  if (o.netns && lab === undefined) console.log(`      network namespaces unavailable (${loopbackReason}): nodes on loopback`);
  try {
    const net = await Testnet.create({ ...o, hosts: lab?.hosts });
    if (lab) net.nodes.forEach((n, i) => (n.launch = { prefix: lab.exec(i) }));
    return {
      net,
      lab,
      loopbackReason,
      async remove(keep = false) {
        await net.remove(keep);
        lab?.remove();
      },
      // Linux routes all of 127/8 to lo: on loopback every 127.0.0.x is this machine.
      clientAddresses: (n) => lab?.clientAddresses(n) ?? Array.from({ length: n }, (_, i) => `127.0.0.${2 + i}`),
    };
  } catch (e) {
    lab?.remove();
    throw e;
  }
}

const FAKETIME_LIBS = ['x86_64-linux-gnu', 'aarch64-linux-gnu'].map((t) => `/usr/lib/${t}/faketime/libfaketimeMT.so.1`).concat('/usr/local/lib/faketime/libfaketimeMT.so.1');

/**
 * The environment that runs a process with its wall clock `offsetSeconds` off (libfaketime,
 * LD_PRELOAD'ed; the multi-threaded build, as Node runs threads). Monotonic clocks (timers) are
 * left alone, as with a real wall clock set wrong. Throws when libfaketime is not installed.
 */
export function skewedClockEnv(offsetSeconds: number): Record<string, string> {
  const lib = FAKETIME_LIBS.find((p) => existsSync(p));
  if (!lib) throw new Error(`libfaketime is not installed (apt-get install faketime): none of ${FAKETIME_LIBS.join(', ')}`);
  return { LD_PRELOAD: lib, FAKETIME: `${offsetSeconds >= 0 ? '+' : ''}${offsetSeconds}s`, DONT_FAKE_MONOTONIC: '1' };
}

/**
 * Why a skewed clock cannot be given to a node here, or undefined: libfaketime missing, or a Node
 * process started with it does not see its Date.now() moved by the offset.
 */
export function skewedClockUnavailable(offsetSeconds = 60): string | undefined {
  let env: Record<string, string>;
  try {
    env = skewedClockEnv(offsetSeconds);
  } catch (e) {
    return (e as Error).message;
  }
  const before = Date.now();
  const r = spawnSync(process.execPath, ['-e', 'console.log(Date.now())'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const seen = Number(r.stdout.trim());
  const off = (seen - before) / 1000;
  if (!(Math.abs(off - offsetSeconds) < 5)) return `libfaketime does not move Node's clock (asked ${offsetSeconds} s, saw ${off.toFixed(1)} s; ${r.stderr.trim()})`;
  return undefined;
}

/** Launch settings of `node` with its wall clock `offsetSeconds` off (its other settings kept). */
export function withSkewedClock(node: ValidatorNode, offsetSeconds: number): Launch {
  return { ...node.launch, env: { ...node.launch.env, ...skewedClockEnv(offsetSeconds) } };
}

/** Kinds of hostile client of a p2p port. */
export type HostileKind =
  /** Connects and never sends a byte. */
  | 'silent'
  /** Sends random bytes. */
  | 'garbage'
  /** Speaks multistream-select far enough to ask for Noise, then sends random bytes as its handshake. */
  | 'fake-noise';

function varintPrefixed(s: string): Buffer {
  const body = Buffer.from(s + '\n');
  if (body.length >= 128) throw new Error('protocol line too long for a one-byte length');
  return Buffer.concat([Buffer.from([body.length]), body]);
}

/**
 * Keeps `perKind` connections of each kind open to host:port for as long as it runs, opening a
 * new one whenever the node closes one: counts what it opened and what the node closed.
 */
export class HostileClients {
  opened = 0;
  /** Connections the node ended (closed or reset), by kind. */
  readonly closedByNode: Record<HostileKind, number> = { silent: 0, garbage: 0, 'fake-noise': 0 };
  /** Connections refused at connect. */
  refused = 0;
  private readonly open = new Set<Socket>();
  private running = false;
  private timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly perKind: number,
    private readonly kinds: readonly HostileKind[] = ['silent', 'garbage', 'fake-noise'],
  ) {}

  start(): void {
    this.running = true;
    for (const kind of this.kinds) for (let i = 0; i < this.perKind; i++) this.spawn(kind);
  }

  get connected(): number {
    return this.open.size;
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    this.timers.add(t);
  }

  private spawn(kind: HostileKind): void {
    if (!this.running) return;
    this.opened++;
    const s = connect(this.port, this.host);
    let connected = false;
    this.open.add(s);
    s.on('error', () => {});
    s.on('connect', () => {
      connected = true;
      if (kind === 'garbage') this.dribble(s, 0);
      if (kind === 'fake-noise') {
        s.write(Buffer.concat([varintPrefixed('/multistream/1.0.0'), varintPrefixed('/noise')]));
        this.dribble(s, 0);
      }
    });
    s.on('close', () => {
      this.open.delete(s);
      if (!this.running) return;
      if (connected) this.closedByNode[kind]++;
      else this.refused++;
      // Replace it, a little later (no busy loop against a refusing port).
      this.later(20, () => this.spawn(kind));
    });
  }

  /** A few random bytes every 50 ms, up to 64 KiB in all. */
  private dribble(s: Socket, sent: number): void {
    if (!this.running || s.destroyed || sent >= 64 * 1024) return;
    const chunk = randomBytes(512 + Math.floor(Math.random() * 1536));
    s.write(chunk);
    this.later(50, () => this.dribble(s, sent + chunk.length));
  }

  /** Closes every connection it holds. */
  stop(): void {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.open) s.destroy();
    this.open.clear();
  }
}
