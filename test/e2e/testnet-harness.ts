/**
 * Multi-validator e2e harness: a network written by `metanode testnet`, one `metanode start`
 * process per home on loopback, and an in-process libp2p observer that records every consensus
 * message it is sent (for equivocation checks) or publishes forged ones.
 *
 *   const net = await Testnet.create({ validators: 4, devAccounts: 4, consensus: { emptyBlockIntervalMs: 300 } });
 *   await net.startAll();
 *   await net.nodes[1]!.kill();              // kill -9
 *   await net.nodes[1]!.start();             // same home, same ports
 *   await net.remove();                      // kills what still runs, deletes the folder
 *
 * Each node appends its log (pino JSON lines) to <home>/node.log across restarts, so tests can
 * look for what a node said, and a failing run leaves the logs behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { pino } from 'pino';
import { formatAddress, parseAddress, toHex, type ValidatorSet } from '../../chain/index.js';
import { FileSignLog, MSG_NAMES, decodeEnvelope, type MsgType, type SignedMessage } from '../../consensus/index.js';
import { genesisValidatorSet, type GenesisDoc } from '../../genesis/index.js';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS, readValidatorKey } from '../../node/index.js';
import { P2PNetwork, Topic, Verdict, peerIdFromEd25519PublicKey, peerMultiaddr, type P2POptionsInput } from '../../p2p/index.js';
import { METANODE, RpcCallError, RpcClient, devAddress, rawHex, runMetanode, signTransfer, sleep, track, waitFor, type BlockJson, type HeadJson, type ReceiptJson } from './harness.js';

/** A small seeded PRNG (mulberry32), so a run's "random" moments can be replayed from its seed. */
export { seededRandom as prng } from './load.js';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free TCP ports on 127.0.0.1, below the kernel's ephemeral range (so the
 * OS does not hand them to an outgoing connection or to another test's freePort()).
 */
export async function freePortRange(count: number, lo = 20_000, hi = 32_000): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = lo + Math.floor(Math.random() * (hi - lo - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports between ${lo} and ${hi}`);
}

/** One record of a validator's sign log: what it signed at (height, round, type); body as hex. */
export interface SignLogRecord {
  height: number;
  round: number;
  type: number;
  body: string;
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}


/** Why a node process ended when nobody asked it to. */
export interface Crash {
  node: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/**
 * How a node's process is launched: a command it runs under (e.g. `ip netns exec <ns>`, which
 * execs the node in its place, so the pid stays the node's) and extra environment (e.g. an
 * LD_PRELOAD'ed libfaketime). Takes effect at the next start().
 */
export interface Launch {
  prefix?: string[];
  env?: Record<string, string>;
}

/** Resident memory of a process, from /proc/<pid>/status (kB → MiB). */
export interface ProcMemory {
  /** VmRSS: resident now. */
  rssMiB: number;
  /** VmHWM: the peak resident size since the process started. */
  peakRssMiB: number;
}

/** One validator home of the testnet and the process running it (at most one at a time). */
export class ValidatorNode {
  readonly rpc: RpcClient;
  launch: Launch = {};
  private proc: ChildProcess | undefined;
  /** Stopped with SIGSTOP and not yet continued. */
  private stopped = false;
  private exited: Promise<void> | undefined;
  /** Set while the test itself ends the process (kill/stop), so the exit is not a crash. */
  private ending = false;
  /** How many times the process was started. */
  starts = 0;
  /** The exit code of the last process that exited (null: killed by a signal). */
  private exitCode: number | null | undefined;

  /**
   * The running process will exit by itself (a node halting for a software upgrade): its exit
   * is not recorded as a crash. Resolves with its exit code once it has exited.
   */
  async expectExit(): Promise<number | null> {
    if (!this.proc) throw new Error(`${this.name} is not running`);
    this.ending = true;
    await this.exited;
    return this.exitCode ?? null;
  }
  /** Port of its metrics listener (from its config.json; 0 when it has none). */
  metricsPort = 0;

  constructor(
    readonly index: number,
    readonly home: string,
    readonly rpcPort: number,
    readonly p2pPort: number,
    /** mn1… address of the validator key. */
    readonly address: string,
    /** Its index in the (address-ordered) validator set: what certificates list as signers. */
    readonly setIndex: number,
    /** Its multiaddr with /p2p/<peerId>. */
    readonly multiaddr: string,
    private readonly crashes: Crash[],
    /** The address its JSON-RPC and p2p listen on. */
    readonly host = '127.0.0.1',
  ) {
    this.rpc = new RpcClient(`http://${host}:${rpcPort}`);
  }

  /** Where its GET /metrics is served. */
  get metricsUrl(): string {
    return `http://${this.host}:${this.metricsPort}`;
  }

  get name(): string {
    return `node${this.index}`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Pid of the running process (throws when it is not running). */
  get pid(): number {
    if (!this.proc?.pid) throw new Error(`${this.name} is not running`);
    return this.proc.pid;
  }

  get paused(): boolean {
    return this.stopped;
  }

  get logFile(): string {
    return join(this.home, 'node.log');
  }

  /** Spawns `metanode start --home` and waits until it serves JSON-RPC as this validator. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.proc) throw new Error(`${this.name} is already running`);
    const log = openSync(this.logFile, 'a');
    // As `npm start` runs a node (bin/devnet.ts): the same Node.js flags and environment, so memory figures are the devnet's.
    const [cmd, ...args] = [...(this.launch.prefix ?? []), process.execPath, ...NODE_RUNTIME_FLAGS, METANODE, 'start', '--home', this.home, '--log-level', 'info'];
    const child = spawn(cmd!, args, { stdio: ['ignore', log, log], env: { ...process.env, ...NODE_RUNTIME_ENV, ...this.launch.env } });
    closeSync(log);
    track(child);
    this.proc = child;
    this.ending = false;
    this.stopped = false;
    this.starts++;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.proc === child) this.proc = undefined;
        this.exitCode = code;
        if (!this.ending) this.crashes.push({ node: this.index, code, signal, at: Date.now() });
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.proc) throw new Error(`${this.name} exited before it was ready; see ${this.logFile}:\n${await this.logTail()}`);
      try {
        const status = await this.rpc.call<{ validator: string | null }>('node_status');
        // A node outside the set (TestnetOptions.genesisValidators) reports no validator address.
        if (status.validator !== this.address && !(this.setIndex < 0 && status.validator === null)) throw new Error(`port ${this.rpcPort} is served by another node (${status.validator})`);
        return;
      } catch (e) {
        if (e instanceof RpcCallError || /another node/.test((e as Error).message)) throw e;
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready within ${timeoutMs} ms; see ${this.logFile}`);
      await sleep(25);
    }
  }

  /** kill -9: no chance to clean up, as in a crash or power cut. */
  async kill(): Promise<void> {
    if (!this.proc) return;
    this.ending = true;
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the process is frozen (no timer, no socket read) until resume(). */
  pause(): void {
    if (!this.proc) throw new Error(`${this.name} is not running`);
    this.proc.kill('SIGSTOP');
    this.stopped = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (!this.proc || !this.stopped) return;
    this.proc.kill('SIGCONT');
    this.stopped = false;
  }

  /** Its resident memory now and at its peak (Linux /proc). */
  memory(): ProcMemory {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      if (!m) throw new Error(`/proc/${this.pid}/status has no ${field}`);
      return Number(m[1]);
    };
    return { rssMiB: Math.round(kb('VmRSS') / 1024), peakRssMiB: Math.round(kb('VmHWM') / 1024) };
  }

  /** SIGTERM and wait for a clean exit (SIGKILL and an error after timeoutMs). */
  async stop(timeoutMs = 15_000): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.ending = true;
    proc.kill('SIGTERM');
    this.resume();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${this.name} did not stop within ${timeoutMs} ms of SIGTERM`));
      }, timeoutMs);
    });
    try {
      await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (proc.exitCode !== 0) throw new Error(`${this.name} exited with ${proc.exitCode ?? proc.signalCode} after SIGTERM:\n${await this.logTail()}`);
  }

  async head(): Promise<HeadJson> {
    return this.rpc.call<HeadJson>('chain_getHead');
  }

  async height(): Promise<number> {
    return (await this.head()).height;
  }

  async block(height: number): Promise<BlockJson<string> | null> {
    return this.rpc.call<BlockJson<string> | null>('chain_getBlockByHeight', [height, false]);
  }

  /** Blocks from..to inclusive (each must exist), in batches. */
  async blocks(from: number, to: number): Promise<BlockJson<string>[]> {
    const calls = [];
    for (let h = from; h <= to; h++) calls.push({ method: 'chain_getBlockByHeight', params: [h, false] });
    const out = await this.rpc.batchResults<BlockJson<string> | null>(calls, 200);
    out.forEach((b, i) => {
      if (!b) throw new Error(`${this.name} does not serve block ${from + i}`);
    });
    return out as BlockJson<string>[];
  }

  /**
   * Every record in the node's sign log (its `signlog/` files, read while the process is down):
   * what it signed at the heights it had not finished.
   */
  async readSignLog(): Promise<SignLogRecord[]> {
    if (this.proc) throw new Error(`${this.name} is running: its sign log is in use`);
    const log = await FileSignLog.open(join(this.home, 'signlog'));
    try {
      const out: SignLogRecord[] = [];
      for (const { height, round, type, envelope } of await log.all()) {
        const m = decodeEnvelope(envelope).message;
        if (height !== m.body.height || round !== m.body.round || type !== m.body.type) throw new Error(`${this.name}: sign log record ${height}/${round}/${type} holds ${m.describe()}`);
        out.push({ height, round, type, body: toHex(m.raw()[1] as Uint8Array) });
      }
      return out;
    } finally {
      await log.close();
    }
  }

  /** The node's log lines from byte `offset` on (pino JSON; other lines are skipped). */
  async logLines(offset = 0): Promise<LogLine[]> {
    const text = (await readFile(this.logFile)).subarray(offset).toString('utf8');
    const out: LogLine[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        // a line cut short by kill -9
      }
    }
    return out;
  }

  /** Current size of the log: pass it to logLines to read only what comes after. */
  async logSize(): Promise<number> {
    try {
      return (await stat(this.logFile)).size;
    } catch {
      return 0;
    }
  }

  async logTail(lines = 30): Promise<string> {
    try {
      return (await readFile(this.logFile, 'utf8')).split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export interface TestnetOptions {
  validators: number;
  devAccounts: number;
  chainId?: string;
  /** Merged into each home's config.json `consensus` section. */
  consensus?: Record<string, number>;
  /**
   * The IPv4 address of each node (default: all 127.0.0.1), e.g. one per network namespace:
   * `metanode testnet --host` writes the homes for the first, then each home's RPC and p2p
   * addresses, and every bootstrap entry naming it, are moved to its own.
   */
  hosts?: string[];
  /**
   * libp2p keys to make for in-process observers and attackers (Testnet.observerKeys): the
   * validators are permissioned, so these peer ids are put in every home's p2p.allowPeers.
   */
  observers?: number;
  /** Merged into each home's config.json `p2p` section (after allowPeers is set). */
  p2p?: Record<string, unknown>;
  /**
   * How many of the nodes the genesis makes validators (default: all): the others start as
   * followers (each home lists every node as a bootstrap peer, so the validators admit them).
   */
  genesisValidators?: number;
  /** Merged into the genesis' staking parameters (e.g. a short downtime window). */
  stakingParams?: Record<string, string>;
  /** Governance parameters over the defaults (e.g. short deposit and voting periods). */
  courtParams?: Record<string, string>;
  /** A permissioned chain (genesis modules.staking.permissioned): only validators on the roster may bond. */
  permissioned?: boolean;
  /** Other modules' genesis parameters over the defaults, by module (e.g. { enc: { leaseBlocks: '8' } }). */
  moduleParams?: Record<string, Record<string, string>>;
}

interface HomeConfig {
  rpc: { host: string; port: number };
  metrics?: { host: string; port: number };
  p2p: { listen: string[]; bootstrap: string[]; allowPeers?: string[] };
  consensus?: Record<string, number>;
}

/** A network written by `metanode testnet` into a temporary folder. */
export class Testnet {
  /** Unexpected process exits, in order. */
  readonly crashes: Crash[] = [];
  readonly nodes: ValidatorNode[] = [];
  /** Keys of in-process observers and attackers, admitted by every validator (TestnetOptions.observers). */
  observerKeys: PrivateKey[] = [];

  private constructor(
    readonly dir: string,
    readonly chainId: string,
    readonly genesis: GenesisDoc,
    readonly valset: ValidatorSet,
  ) {}

  static async create(o: TestnetOptions): Promise<Testnet> {
    const dir = await mkdtemp(join(tmpdir(), 'metanode-e2e-net-'));
    const chainId = o.chainId ?? 'metanode-e2e-net';
    const n = o.validators;
    const base = await freePortRange(3 * n);
    const hosts = o.hosts ?? Array.from({ length: n }, () => '127.0.0.1');
    if (hosts.length !== n) throw new Error(`${hosts.length} hosts for ${n} validators`);
    const r = await runMetanode([
      'testnet', '--validators', String(n), '--out', dir, '--chain-id', chainId, '--host', hosts[0]!,
      '--base-rpc-port', String(base), '--base-p2p-port', String(base + n), '--base-metrics-port', String(base + 2 * n), '--dev-accounts', String(o.devAccounts),
    ]);
    if (r.code !== 0) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`metanode testnet failed (${r.code}): ${r.stderr}`);
    }
    const genesis = JSON.parse(await readFile(join(dir, 'node0', 'genesis.json'), 'utf8')) as GenesisDoc;
    if (o.genesisValidators !== undefined || o.stakingParams || o.courtParams || o.permissioned || o.moduleParams) {
      genesis.validators = genesis.validators.slice(0, o.genesisValidators ?? n);
      const staking = genesis.modules.staking as { params: Record<string, string>; permissioned?: boolean };
      staking.params = { ...staking.params, ...o.stakingParams };
      if (o.permissioned) staking.permissioned = true;
      const court = genesis.modules.court as { params: Record<string, string> };
      court.params = { ...court.params, ...o.courtParams };
      for (const [m, params] of Object.entries(o.moduleParams ?? {})) {
        const section = (genesis.modules[m] ??= { params: {} }) as { params: Record<string, string> };
        section.params = { ...section.params, ...params };
      }
      for (let i = 0; i < n; i++) await writeFile(join(dir, `node${i}`, 'genesis.json'), JSON.stringify(genesis, null, 2) + '\n');
    }
    const net = new Testnet(dir, chainId, genesis, genesisValidatorSet(genesis));
    // Each home lists every other node as a bootstrap peer: together they name every node.
    const configs = await Promise.all(Array.from({ length: n }, async (_, i) => JSON.parse(await readFile(join(dir, `node${i}`, 'config.json'), 'utf8')) as HomeConfig));
    // Node i's p2p port is base + n + i: that says whose address each multiaddr is.
    const rehost = (a: string) => a.replace(/^\/ip4\/[^/]+\/tcp\/(\d+)/, (_, port: string) => `/ip4/${hosts[Number(port) - base - n]}/tcp/${port}`);
    const multiaddrs = [...new Set(configs.flatMap((c) => c.p2p.bootstrap))].map(rehost);
    net.observerKeys = await Promise.all(Array.from({ length: o.observers ?? 0 }, () => generateKeyPair('Ed25519')));
    const allowPeers = net.observerKeys.map((k) => peerIdFromPrivateKey(k).toString());
    for (let i = 0; i < n; i++) {
      const home = join(dir, `node${i}`);
      const configPath = join(home, 'config.json');
      const config = configs[i]!;
      config.rpc.host = hosts[i]!;
      if (config.metrics) config.metrics.host = hosts[i]!;
      config.p2p.listen = config.p2p.listen.map(rehost);
      config.p2p.bootstrap = config.p2p.bootstrap.map(rehost);
      config.consensus = { ...config.consensus, ...o.consensus };
      config.p2p = { ...config.p2p, allowPeers: [...(config.p2p.allowPeers ?? []), ...allowPeers], ...o.p2p };
      await writeFile(configPath, JSON.stringify(config, null, 2) + '\n');
      const key = await readValidatorKey(join(home, 'keys', 'validator.json'));
      const address = formatAddress(key.address);
      const p2pPort = Number(/\/tcp\/(\d+)/.exec(config.p2p.listen[0]!)![1]);
      // A node's peer id is its validator key's; the other homes list it by that id.
      const multiaddr = peerMultiaddr(hosts[i]!, p2pPort, peerIdFromEd25519PublicKey(key.ed25519.publicKey));
      if (n > 1 && !multiaddrs.includes(multiaddr)) throw new Error(`node${i}'s address ${multiaddr} is not in the others' bootstrap lists (${multiaddrs.join(', ')})`);
      const node = new ValidatorNode(i, home, config.rpc.port, p2pPort, address, net.valset.indexOf(parseAddress(address)), multiaddr, net.crashes, hosts[i]);
      node.metricsPort = config.metrics?.port ?? 0;
      net.nodes.push(node);
    }
    return net;
  }

  get running(): ValidatorNode[] {
    return this.nodes.filter((n) => n.running);
  }

  get multiaddrs(): string[] {
    return this.nodes.map((n) => n.multiaddr);
  }

  async startAll(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => !n.running).map((n) => n.start()));
  }

  /** Kills every process still running and deletes the folder (unless `keep`). */
  async remove(keep = false): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    if (!keep) await rm(this.dir, { recursive: true, force: true });
  }

  /** Heads of `nodes` (default: the running ones), read in parallel. */
  async heads(nodes = this.running): Promise<HeadJson[]> {
    return Promise.all(nodes.map((n) => n.head()));
  }

  /** Waits until every node in `nodes` has a head at least `height`; returns the lowest head. */
  async waitForHeight(height: number, nodes = this.running, timeoutMs = 20_000): Promise<number> {
    return waitFor(
      `${nodes.map((n) => n.name).join(', ')} to reach height ${height}`,
      async () => {
        const hs = (await this.heads(nodes)).map((h) => h.height);
        return Math.min(...hs) >= height ? Math.min(...hs) : undefined;
      },
      timeoutMs,
      50,
    );
  }

  /** Waits for a moment when every node in `nodes` reports the same head; returns it. */
  async waitForSameHead(nodes = this.running, timeoutMs = 20_000): Promise<HeadJson> {
    return waitFor(
      `${nodes.map((n) => n.name).join(', ')} to report the same head`,
      async () => {
        const hs = await this.heads(nodes);
        return hs.every((h) => h.hash === hs[0]!.hash) ? hs[0] : undefined;
      },
      timeoutMs,
      20,
    );
  }

  /**
   * Compares blocks 1..`to` across `nodes`: the same hash at every height (no fork). Returns the
   * blocks of the first node.
   */
  async assertNoFork(to: number, nodes = this.running): Promise<BlockJson<string>[]> {
    const all = await Promise.all(nodes.map((n) => n.blocks(1, to)));
    for (let h = 1; h <= to; h++) {
      const hashes = new Set(all.map((bs) => bs[h - 1]!.hash));
      if (hashes.size !== 1) {
        throw new Error(`fork at height ${h}: ${nodes.map((n, i) => `${n.name}=${all[i]![h - 1]!.hash}`).join(', ')}`);
      }
    }
    return all[0]!;
  }

  /** Lines at level ≥ error (50) in every node's log. */
  async errorLogLines(): Promise<{ node: string; line: LogLine }[]> {
    const out: { node: string; line: LogLine }[] = [];
    for (const n of this.nodes) for (const line of await n.logLines()) if (line.level >= 50) out.push({ node: n.name, line });
    return out;
  }
}

/** One consensus message the observer saw, by signer, height, round and type. */
export interface SeenVote {
  sender: string;
  height: number;
  round: number;
  type: MsgType;
  /** PROPOSAL, PREPARE, COMMIT or ROUND-CHANGE. */
  name: string;
  /** Distinct signed bodies (hex) for this (sender, height, round, type), each with when it was first seen (ms). */
  bodies: Map<string, number>;
}

/**
 * A 5th libp2p node on the validators' chain: dials them (they are its bootstrap list), subscribes
 * to the consensus topic and records every message it is delivered, including the PREPAREs and
 * ROUND-CHANGEs carried inside envelopes as justification. Returns Ignore, so it relays nothing.
 * Only messages whose signature verifies against the validator set are recorded as votes.
 */
export class ConsensusObserver {
  readonly votes = new Map<string, SeenVote>();
  /** sha256 (hex) of every payload delivered, decodable or not. */
  readonly payloads = new Set<string>();
  /** Envelopes delivered, whose outer message verified. */
  envelopes = 0;
  /** Payloads that did not decode or whose signature did not verify. */
  invalid = 0;
  /** The last few verified envelopes' encodings, by height (for replays). */
  readonly recent = new Map<number, Uint8Array>();
  private waiters: { match: (m: SignedMessage) => boolean; resolve: (m: SignedMessage) => void }[] = [];

  private constructor(
    readonly network: P2PNetwork,
    private readonly chainId: string,
    private readonly valset: ValidatorSet,
  ) {}

  /** `privateKey`: one of Testnet.observerKeys, so that the (permissioned) validators admit it. */
  static async start(o: { chainId: string; valset: ValidatorSet; bootstrap: string[]; privateKey: PrivateKey }): Promise<ConsensusObserver> {
    const network = new P2PNetwork(observerOptions(o.chainId, o.bootstrap), { logger: pino({ level: 'silent' }), privateKey: o.privateKey });
    const obs = new ConsensusObserver(network, o.chainId, o.valset);
    network.subscribe(Topic.Consensus, (data) => {
      obs.record(data);
      return Verdict.Ignore;
    });
    await network.start();
    return obs;
  }

  async stop(): Promise<void> {
    await this.network.stop();
  }

  private record(data: Uint8Array): void {
    this.payloads.add(sha256(data));
    let env;
    try {
      env = decodeEnvelope(data);
    } catch {
      this.invalid++;
      return;
    }
    if (!this.add(env.message)) {
      this.invalid++;
      return;
    }
    this.envelopes++;
    const ready = this.waiters.filter((w) => w.match(env.message));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(env.message);
    const h = env.message.body.height;
    if (!this.recent.has(h)) this.recent.set(h, data);
    if (this.recent.size > 64) this.recent.delete(this.recent.keys().next().value!);
    for (const m of [...env.roundChanges, ...env.prepares]) this.add(m);
  }

  private add(m: SignedMessage): boolean {
    if (!m.verify(this.chainId, this.valset)) return false;
    const { height, round, type } = m.body;
    const sender = toHex(m.sender);
    const key = `${sender}/${height}/${round}/${type}`;
    let v = this.votes.get(key);
    if (!v) this.votes.set(key, (v = { sender, height, round, type, name: MSG_NAMES[type], bodies: new Map() }));
    const body = toHex(m.raw()[1] as Uint8Array);
    if (!v.bodies.has(body)) v.bodies.set(body, Date.now());
    return true;
  }

  /** The next verified message (outside a justification) that `match` accepts; rejects after timeoutMs. */
  next(what: string, match: (m: SignedMessage) => boolean, timeoutMs = 15_000): Promise<SignedMessage> {
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (m: SignedMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`the observer saw no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Every (sender, height, round, type) seen with two or more different signed bodies. */
  equivocations(): { sender: string; height: number; round: number; type: string; bodies: string[] }[] {
    return [...this.votes.values()].filter((v) => v.bodies.size > 1).map((v) => ({ sender: v.sender, height: v.height, round: v.round, type: v.name, bodies: [...v.bodies.keys()] }));
  }

  /**
   * Checks what `sender` was seen signing against its sign log as read from disk after a kill -9
   * at `killedAt`: at every height the log holds, each message seen before the kill must be in
   * the log (written before it was sent), and every message seen at all (before or after the
   * restart) must be the one in the log for its round and type. Returns how many messages
   * matched and what did not.
   */
  compareWithSignLog(sender: string, records: readonly SignLogRecord[], killedAt: number): { matched: number; problems: string[] } {
    const logged = new Map(records.map((r) => [`${r.height}/${r.round}/${r.type}`, r.body]));
    const heights = new Set(records.map((r) => r.height));
    let matched = 0;
    const problems: string[] = [];
    for (const v of this.votes.values()) {
      if (v.sender !== sender || !heights.has(v.height)) continue;
      const want = logged.get(`${v.height}/${v.round}/${v.type}`);
      for (const [body, seenAt] of v.bodies) {
        if (want === body) matched++;
        else if (want !== undefined) problems.push(`${v.name} h=${v.height} r=${v.round}: seen ${body.slice(0, 18)}…, sign log has ${want.slice(0, 18)}…`);
        else if (seenAt < killedAt) problems.push(`${v.name} h=${v.height} r=${v.round} was sent before the kill but is not in the sign log`);
      }
    }
    return { matched, problems };
  }

  /** Distinct (height, round, type) messages seen per sender (hex address). */
  countBySender(): Map<string, number> {
    const out = new Map<string, number>();
    for (const v of this.votes.values()) out.set(v.sender, (out.get(v.sender) ?? 0) + 1);
    return out;
  }
}

/** p2p options of an in-process observer or attacker: loopback, quick redials. */
export function observerOptions(chainId: string, bootstrap: string[], extra: Partial<P2POptionsInput> = {}): P2POptionsInput {
  return { chainId, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, redialMinMs: 100, redialMaxMs: 1_000, heartbeatIntervalMs: 200, ...extra };
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Sends bank transfers from dev accounts while nodes come and go: one transaction in flight per
 * account, sent to a random running node and re-sent (the same bytes) to another one until a
 * receipt shows up, so a node killed before it relayed a transaction loses nothing.
 */
export class TxPump {
  /** Hashes of committed transactions, with the height they landed at. */
  readonly committed = new Map<string, number>();
  /** Hash of each account's transaction in flight, if any. */
  readonly inFlight = new Map<number, string>();
  private stopping = false;
  /** Set when stop() gives up: workers drop what they were doing. */
  private halted = false;
  private workers: Promise<void>[] = [];
  readonly errors: string[] = [];

  constructor(
    private readonly net: Testnet,
    private readonly accounts: number[],
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.workers = this.accounts.map((a) => this.run(a));
  }

  /** Lets each account's transaction in flight land, then stops; throws if one does not within timeoutMs. */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.stopping = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`transactions still in flight after ${timeoutMs} ms: ${[...this.inFlight.values()].join(', ')}`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(this.workers), timeout]);
    } catch (e) {
      this.halted = true;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops at once, dropping transactions in flight (for a test that failed half way). */
  abort(): void {
    this.stopping = true;
    this.halted = true;
  }

  private pick(): ValidatorNode | undefined {
    const r = this.net.running;
    return r.length ? r[Math.floor(this.random() * r.length)] : undefined;
  }

  private async run(account: number): Promise<void> {
    let nonce: number | undefined;
    while (!this.stopping) {
      const node = this.pick();
      if (!node) {
        await sleep(50);
        continue;
      }
      try {
        nonce ??= (await node.rpc.call<{ nonce: number }>('state_getAccount', [devAddress(account)])).nonce;
      } catch {
        await sleep(50);
        continue;
      }
      const to = this.accounts[(this.accounts.indexOf(account) + 1) % this.accounts.length]!;
      const tx = signTransfer({ chainId: this.net.chainId, from: account, to, amount: BigInt(nonce + 1), nonce });
      const hash = toHex(tx.hash());
      this.inFlight.set(account, hash);
      const height = await this.land(rawHex(tx), hash);
      this.inFlight.delete(account);
      if (height === undefined) {
        nonce = undefined; // the node we read the nonce from was behind: read it again
        continue;
      }
      this.committed.set(hash, height);
      nonce++;
    }
  }

  /**
   * Sends `raw` until some node has its receipt; returns the block height, or undefined when a
   * node says the nonce is used and has no receipt for it (the nonce was read from a lagging node).
   */
  private async land(raw: string, hash: string): Promise<number | undefined> {
    while (!this.halted) {
      const node = this.pick();
      if (!node) {
        await sleep(50);
        continue;
      }
      let used = false;
      try {
        await node.rpc.call('tx_send', [raw]);
      } catch (e) {
        const reason = e instanceof RpcCallError ? e.error.data?.reason : undefined;
        used = reason === 'TX_NONCE_TOO_LOW';
        // Already in that mempool, or already committed: look for the receipt.
        if (e instanceof RpcCallError && reason !== 'TX_DUPLICATE' && !used) this.errors.push(e.message);
      }
      const deadline = Date.now() + (used ? 0 : 3_000);
      do {
        try {
          const r = await node.rpc.call<ReceiptJson | null>('chain_getReceipt', [hash]);
          if (r) return r.blockHeight;
          if (used) return undefined;
        } catch {
          break; // node went away: try another
        }
        await sleep(50);
      } while (Date.now() < deadline && node.running);
    }
    return undefined;
  }
}
