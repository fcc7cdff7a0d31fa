import { InvalidArgumentError, Option, type Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_EXECUTOR, Executor } from '../executor/executor.js';
import { defaultKeystoreOptions, Keystore } from '../cli/keystore.js';
import { getPassword } from '../cli/prompt.js';
import { homedir } from 'node:os';

function uint(name: string, min = 1) {
  return (v: string): number => {
    if (!/^[0-9]+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${name} must be an integer of at least ${min}`);
    return Number(v);
  };
}

/**
 * `metanode executor`: run an execution node. Its key is a metanode-cli key (the account that
 * registered with `metanode-cli enc register`); its home holds its log.
 */
export function registerExecutorCommand(program: Command): void {
  program
    .command('executor')
    .description('run an execution node: follow the chain, run the jobs leased to its account in DockLock, hand their signed receipts in (docs/enc.md)')
    .requiredOption('--home <dir>', 'the executor’s folder (its log: executor.log)')
    .addOption(new Option('--rpc <url>', 'JSON-RPC URL of a node').env('METANODE_RPC').default('http://127.0.0.1:8545'))
    .option('--ws <url>', 'WebSocket URL of the node (default: the --rpc URL as ws://)')
    .addOption(new Option('--rpc-token <jwt>', 'bearer token for a node with JSON-RPC authentication').env('METANODE_RPC_TOKEN'))
    .addOption(new Option('--key <name>', 'the metanode-cli key of the execution node’s account').env('METANODE_KEY').makeOptionMandatory())
    .addOption(new Option('--keystore <dir>', 'metanode-cli’s folder of key files').env('METANODE_KEYSTORE').default(defaultKeystoreOptions.dir, '~/.metanode-cli/keys'))
    .option('--password-file <file>', 'the key’s password (else env METANODE_PASSWORD)')
    .option('--workers <n>', 'DockLock workers: jobs run at once', uint('--workers'), DEFAULT_EXECUTOR.workers)
    .option('--timeout <ms>', 'wall-clock backstop of one job', uint('--timeout'), DEFAULT_EXECUTOR.timeoutMs)
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .action(async (o: { home: string; rpc: string; ws?: string; rpcToken?: string; key: string; keystore: string; passwordFile?: string; workers: number; timeout: number; logLevel: string }) => {
      const home = resolve(o.home);
      await mkdir(home, { recursive: true });
      const dir = o.keystore.startsWith('~/') ? join(homedir(), o.keystore.slice(2)) : resolve(o.keystore);
      const keystore = new Keystore({ ...defaultKeystoreOptions, dir });
      const password = await getPassword({ passwordFile: o.passwordFile, env: process.env, prompter: { interactive: false } as never }, `key "${o.key}"`, false);
      const key = await keystore.unlock(o.key, password);
      const log = pino({ level: o.logLevel, base: { executor: o.key }, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream([{ stream: process.stdout }, { stream: pino.destination({ dest: join(home, 'executor.log'), append: true, sync: false }) }]));
      const ex = new Executor({ ...DEFAULT_EXECUTOR, rpc: o.rpc, workers: o.workers, timeoutMs: o.timeout, ...(o.ws ? { ws: o.ws } : {}), ...(o.rpcToken ? { token: o.rpcToken } : {}) }, { key, log });
      log.info({ address: ex.address, rpc: o.rpc }, 'execution node starting');
      ex.start();
      const stop = (signal: string) => {
        log.info({ signal, receipts: ex.submitted }, 'stopping');
        void ex.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
