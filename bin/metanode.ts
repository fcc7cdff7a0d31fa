#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=16 --heap-growing-percent=30
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { ValidatorKey } from '../consensus/index.js';
import { buildGenesis } from '../genesis/index.js';
import { MetanodeNode, VERSION, homePaths, initHome, writeTestnet, type NodeOverrides } from '../node/index.js';
import { registerOperatorCommands } from './commands/operator.js';
import { runDevnet } from './devnet.js';

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

async function init(home: string, o: { chainId: string; moniker: string; devAccounts: number }): Promise<ValidatorKey> {
  const key = ValidatorKey.generate();
  const genesis = buildGenesis({
    chainId: o.chainId,
    validators: [{ name: o.moniker, publicKey: key.ed25519.publicKey, blsPublicKey: key.bls.publicKey, blsProofOfPossession: key.bls.proofOfPossession() }],
    devAccounts: o.devAccounts,
  });
  await initHome(home, { moniker: o.moniker, key, genesis });
  return key;
}

/** Runs a node until SIGINT/SIGTERM, then stops it cleanly (a second signal forces exit). */
async function run(home: string, log: Logger, overrides: NodeOverrides, onStarted?: (node: MetanodeNode) => void): Promise<void> {
  const node = await MetanodeNode.create(home, log, overrides);
  await node.start();
  onStarted?.(node);
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) {
        log.warn({ sig }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ sig }, 'stopping');
      node.stop().then(done, (e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        process.exit(1);
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
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
  .action(async (o: { home: string; chainId: string; moniker: string; dev?: boolean; devAccounts: number }) => {
    const home = resolve(o.home);
    const key = await init(home, { chainId: o.chainId, moniker: o.moniker, devAccounts: o.dev ? o.devAccounts : 0 });
    console.log(`initialised ${home}\n  chain id:  ${o.chainId}\n  validator: ${homePaths(home).validatorKey}`);
    void key;
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
  .action(async (o: { home: string; rpcHost?: string; rpcPort?: number; p2pPort?: number; logLevel: string }) => {
    await run(resolve(o.home), logger(o.logLevel), { rpcHost: o.rpcHost, rpcPort: o.rpcPort, p2pPort: o.p2pPort });
  });

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
    await runDevnet(o);
  });

registerOperatorCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
