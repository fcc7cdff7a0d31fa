#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=16 --heap-growing-percent=30
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { formatAddress } from '../chain/index.js';
import { ValidatorKey } from '../consensus/index.js';
import { buildGenesis } from '../genesis/index.js';
import { KEY_PASSWORD_ENV, MetanodeNode, VERSION, homePaths, initHome, inspectValidatorKey, readKeyPassword, upgradeNeeded, writeTestnet, writeUpgradeInfo, type KeyPassword, type NodeOverrides } from '../node/index.js';
import { UPGRADES } from '../vm/upgrades/index.js';
import { registerDocklockCommands } from './commands/docklock.js';
import { registerExecutorCommand } from './commands/executor.js';
import { registerOperatorCommands } from './commands/operator.js';
import { registerSnapshotCommands } from './commands/snapshot.js';
import { runDevnet } from './devnet.js';
import { addKeyCommands, newKeyPassword } from './keys.js';
import { createModules, defaultGenesisSections } from '../vm/modules/index.js';

const MIN_NODE_MAJOR = 22;
if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
  console.error(`error: metanode needs Node.js ${MIN_NODE_MAJOR} or newer (this is ${process.version}); run it through npm (npm start), which uses the project's Node.js`);
  process.exit(1);
}

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

function logger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

async function init(home: string, o: { chainId: string; moniker: string; devAccounts: number; password?: string }): Promise<ValidatorKey> {
  const key = ValidatorKey.generate();
  const genesis = buildGenesis({
    chainId: o.chainId,
    validators: [{ name: o.moniker, publicKey: key.ed25519.publicKey, blsPublicKey: key.bls.publicKey, blsProofOfPossession: key.bls.proofOfPossession() }],
    devAccounts: o.devAccounts,
    moduleSections: defaultGenesisSections(createModules().registry),
  });
  await initHome(home, { moniker: o.moniker, key, genesis, password: o.password });
  return key;
}

/**
 * Exit codes of `metanode start` (docs/operations.md#exit-codes-of-metanode-start): 0 after a
 * clean stop, 1 when it cannot start (bad home, config, key…), 3 when it stopped because it could
 * not write to disk, 4 after an internal error (an uncaught exception or unhandled rejection: a bug),
 * 5 when it halted for a software upgrade this binary does not know (node/upgrade.ts).
 */
const ExitCode = { Ok: 0, Error: 1, Storage: 3, Internal: 4, Upgrade: 5, Interrupted: 130 } as const;

/** How long a stop may take before the process exits anyway. */
const STOP_LIMIT_MS = 10_000;

/**
 * Runs a node until SIGINT/SIGTERM (a second signal forces exit), until its supervisor goes away
 * (a parent that gave it an IPC channel, as `metanode devnet` does), until it cannot go on (its
 * health's 'fatal': a disk that takes no more blocks), or until an uncaught exception or unhandled
 * rejection (a bug: logged as fatal with the error); then stops it cleanly, within STOP_LIMIT_MS.
 * Returns the exit code.
 */
async function run(home: string, log: Logger, overrides: NodeOverrides, keyPassword: KeyPassword | undefined): Promise<number> {
  let node: MetanodeNode | undefined = undefined; // set once created
  /** A stop asked for while the node is being created: done once it is. */
  let pending: { why: string; code: number } | undefined;
  let starting: Promise<void> = Promise.resolve();
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  let stopping = false;
  let bug = false;
  const isSignal = (why: string) => why === 'SIGINT' || why === 'SIGTERM';
  const stop = (why: string, code: number) => {
    if (stopping || (!node && pending)) {
      if (isSignal(why)) {
        log.warn({ sig: why }, 'second signal: exiting now');
        process.exit(ExitCode.Interrupted);
      }
      return;
    }
    if (!node) {
      pending = { why, code };
      return;
    }
    const n = node;
    stopping = true;
    log.info({ why }, 'stopping');
    // Even if a signal came first: a failed disk or a bug is what the exit code says.
    const final = (c: number) => (bug ? ExitCode.Internal : n.health.fatal ? ExitCode.Storage : c);
    setTimeout(() => {
      log.error({ ms: STOP_LIMIT_MS }, 'the node did not stop in time: exiting');
      process.exit(final(code === ExitCode.Ok ? ExitCode.Error : code));
    }, STOP_LIMIT_MS).unref();
    // A stop asked for while the node starts waits for the start to end (it stops what it started if it fails).
    const stopped = starting.catch(() => undefined).then(() => n.stop());
    stopped.then(
      () => finish(final(code)),
      (e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        finish(final(code === ExitCode.Ok ? ExitCode.Error : code));
      },
    );
  };
  // Only a bug gets here (every error of a request, a peer or the disk is handled where it happens).
  const onBug = (kind: string) => (e: unknown) => {
    log.fatal({ kind, err: e }, 'internal error (a bug): stopping');
    console.error(`error: internal error (${kind}): ${(e as Error)?.message ?? String(e)}; this is a bug in metanode: please report it with the log`);
    bug = true;
    if (!node) process.exit(ExitCode.Internal);
    stop(kind, ExitCode.Internal);
  };
  process.on('uncaughtException', onBug('uncaughtException'));
  process.on('unhandledRejection', onBug('unhandledRejection'));
  process.on('SIGINT', () => stop('SIGINT', ExitCode.Ok));
  process.on('SIGTERM', () => stop('SIGTERM', ExitCode.Ok));
  if (process.channel) {
    // Started with an IPC channel (metanode devnet): stop cleanly when the supervisor is gone.
    process.channel.unref();
    process.once('disconnect', () => stop('the supervisor is gone', ExitCode.Ok));
    // Tells the supervisor a SIGTERM from now on is a clean stop (before, it would kill a process
    // still loading its code without a word in the log).
    process.send?.({ kind: 'signals-handled' });
  }

  node = await MetanodeNode.create(home, log, overrides, { keyPassword }, UPGRADES);
  const created = node;
  /** The chain reached a software upgrade this binary does not know: say so, write the plan, stop with code 5. */
  let haltSeen = false;
  const halted = () => {
    const plan = created.upgradeNeeded();
    if (!plan || haltSeen) return;
    haltSeen = true;
    const line = upgradeNeeded(plan);
    log.error({ name: plan.name, height: plan.height, info: plan.info, upgradeInfo: homePaths(home).upgradeInfo }, line);
    console.error(`${line}: restart this node with a metanode release that carries "${plan.name}" (the plan is in ${homePaths(home).upgradeInfo})`);
    writeUpgradeInfo(homePaths(home).upgradeInfo, plan).then(
      () => stop('upgrade needed', ExitCode.Upgrade),
      (e: unknown) => {
        log.error({ err: e }, 'could not write upgrade-info.json');
        stop('upgrade needed', ExitCode.Upgrade);
      },
    );
  };
  // A chain that halts while running, or one already halted when it opened (a restart with the same binary).
  node.chain.on('halted', () => setImmediate(halted));
  if (pending) {
    stop(pending.why, pending.code);
    return finished;
  }
  if (keyPassword && !(await inspectValidatorKey(homePaths(home).validatorKey)).encrypted) {
    log.warn({ from: keyPassword.from }, `a key password was given, but the validator key is not encrypted: encrypt it with metanode keys encrypt --home ${home}`);
  }
  const fatal = (e: Error) => {
    console.error(`error: ${e.message}`);
    stop('fatal', ExitCode.Storage);
  };
  // Not inside the failing write's call stack: the chain finishes its commit call first.
  node.health.on('fatal', (e) => setImmediate(fatal, e));
  starting = node.start();
  try {
    await starting;
  } catch (e) {
    if (stopping) return finished; // stopped while starting
    throw e;
  }
  if (node.health.fatal) fatal(node.health.fatal);
  else if (node.chain.halted) halted();
  return finished;
}

const program = new Command('metanode')
  .description('Metanode: a full node for a permissioned BFT chain of auditable compute')
  .version(VERSION, '-v, --version')
  .showHelpAfterError();

program
  .command('version')
  .description('print the version')
  .action(() => console.log(VERSION));

program
  .command('init')
  .description('create a node home: config.json, validator keys and a genesis for a new single-validator chain')
  .requiredOption('--home <dir>', 'node home folder')
  .option('--chain-id <id>', 'chain id', 'metanode-local')
  .option('--moniker <name>', 'a name for this node', 'node0')
  .option('--dev', 'fund the well-known dev accounts (never on a real network)')
  .option('--dev-accounts <n>', 'how many dev accounts --dev funds', int('--dev-accounts', 1, 1000), 10)
  .option('--encrypt', `encrypt the validator key with a password (from --password-file, ${KEY_PASSWORD_ENV} or a prompt)`)
  .option('--password-file <file>', 'with --encrypt: read the password from FILE')
  .action(async (o: { home: string; chainId: string; moniker: string; dev?: boolean; devAccounts: number; encrypt?: boolean; passwordFile?: string }) => {
    if (o.passwordFile !== undefined && !o.encrypt) throw new InvalidArgumentError('--password-file is for an encrypted key: add --encrypt');
    const home = resolve(o.home);
    const password = o.encrypt ? await newKeyPassword(o.passwordFile) : undefined;
    const key = await init(home, { chainId: o.chainId, moniker: o.moniker, devAccounts: o.dev ? o.devAccounts : 0, password });
    console.log(`initialised ${home}\n  chain id:  ${o.chainId}\n  validator: ${homePaths(home).validatorKey} (${formatAddress(key.address)}${password ? ', encrypted' : ''})`);
    console.log(`start it with: metanode start --home ${home}`);
  });

program
  .command('start')
  .description('run a node from its home')
  .requiredOption('--home <dir>', 'node home folder')
  .option('--rpc-host <host>', 'JSON-RPC listen address (overrides config.json)')
  .option('--rpc-port <port>', 'JSON-RPC port (overrides config.json)', int('--rpc-port', 0, 65535))
  .option('--p2p-port <port>', 'p2p TCP port on all interfaces (overrides config.json p2p.listen)', int('--p2p-port', 0, 65535))
  .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
  .option('--password-file <file>', `password of an encrypted validator key (else the environment variable ${KEY_PASSWORD_ENV})`)
  .action(async (o: { home: string; rpcHost?: string; rpcPort?: number; p2pPort?: number; logLevel: string; passwordFile?: string }) => {
    const keyPassword = await readKeyPassword({ passwordFile: o.passwordFile, env: process.env });
    delete process.env[KEY_PASSWORD_ENV]; // not inherited by anything this process starts
    process.exit(await run(resolve(o.home), logger(o.logLevel), { rpcHost: o.rpcHost, rpcPort: o.rpcPort, p2pPort: o.p2pPort }, keyPassword));
  });

addKeyCommands(program);

program
  .command('testnet')
  .description('write the homes of a new multi-validator network that share one genesis')
  .requiredOption('--out <dir>', 'folder to write node0, node1, … into')
  .option('--validators <n>', 'number of validators', int('--validators', 1, 100), 4)
  .option('--chain-id <id>', 'chain id', 'metanode-testnet')
  .option('--host <host>', 'address the nodes listen on and dial each other at', '127.0.0.1')
  .option('--base-rpc-port <port>', 'JSON-RPC port of node0 (node i uses base + i)', int('--base-rpc-port', 1, 65000), 8545)
  .option('--base-p2p-port <port>', 'p2p port of node0 (node i uses base + i)', int('--base-p2p-port', 1, 65000), 26656)
  .option('--base-metrics-port <port>', 'Prometheus metrics port of node0 (node i uses base + i; 0: no metrics listener)', int('--base-metrics-port', 0, 65000), 9464)
  .option('--dev-accounts <n>', 'well-known dev accounts to fund (0 for none)', int('--dev-accounts', 0, 100000), 0)
  .action(async (o: { out: string; validators: number; chainId: string; host: string; baseRpcPort: number; baseP2pPort: number; baseMetricsPort: number; devAccounts: number }) => {
    const { nodes } = await writeTestnet({ ...o, out: resolve(o.out), baseMetricsPort: o.baseMetricsPort || undefined });
    for (const n of nodes) console.log(`${n.home}\n  rpc ${n.rpcUrl}\n  p2p ${n.p2pAddress}${o.baseMetricsPort ? `\n  metrics http://${o.host}:${o.baseMetricsPort + n.index}/metrics` : ''}`);
    console.log(`start each with: metanode start --home <dir>`);
  });

program
  .command('devnet')
  .description('run a local devnet of validator processes on 127.0.0.1 (created on first use, resumed after)')
  .option('--dir <dir>', 'devnet folder', '.devnet')
  .option('--validators <n>', 'number of validators', int('--validators', 1, 16), 4)
  .option('--base-rpc-port <port>', 'JSON-RPC port of node0 (node i uses base + i)', int('--base-rpc-port', 1, 65000), 8545)
  .option('--base-p2p-port <port>', 'p2p port of node0 (node i uses base + i)', int('--base-p2p-port', 1, 65000), 26656)
  .option('--base-metrics-port <port>', 'Prometheus metrics port of node0 (node i uses base + i)', int('--base-metrics-port', 1, 65000), 9464)
  .option('--dev-accounts <n>', 'dev accounts to fund on creation', int('--dev-accounts', 1, 1000), 10)
  .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
  .action(async (o: { dir: string; validators: number; baseRpcPort: number; baseP2pPort: number; baseMetricsPort: number; devAccounts: number; logLevel: string }) => {
    process.exit(await runDevnet(o));
  });

registerOperatorCommands(program);
registerDocklockCommands(program);
registerSnapshotCommands(program);
registerExecutorCommand(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
