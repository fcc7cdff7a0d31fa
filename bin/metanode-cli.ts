#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAccount } from './cli/commands/account.js';
import { registerBlock } from './cli/commands/block.js';
import { registerCompletion } from './cli/commands/completion.js';
import { registerConfig } from './cli/commands/config.js';
import { registerVerify } from './cli/commands/verify.js';
import { registerKeys } from './cli/commands/keys.js';
import { registerModules } from './cli/commands/modules.js';
import { registerOfflineTx } from './cli/commands/offline.js';
import { cliVersion, registerRpc } from './cli/commands/rpc.js';
import { registerStatus } from './cli/commands/status.js';
import { registerTransfer } from './cli/commands/transfer.js';
import { registerTx } from './cli/commands/tx.js';
import { addGlobalOptions } from './cli/context.js';
import { CliError, errorLine, ExitCode, toCliError } from './cli/errors.js';

/** metanode-cli: the wallet and chain client. Each command group registers itself; errors map to exit codes here. */

const program = new Command('metanode-cli')
  .description('Wallet and chain client for Metanode: keys, balances, transfers, transactions, blocks, staking')
  .version(cliVersion(), '-V, --version')
  .configureHelp({ showGlobalOptions: true })
  .exitOverride()
  .configureOutput({ outputError: () => undefined })
  .showSuggestionAfterError(true)
  .addHelpText('after', '\nExit codes and examples: docs/cli.md. Env: METANODE_RPC, METANODE_KEY, METANODE_KEYSTORE, METANODE_PASSWORD.');
addGlobalOptions(program);
for (const register of [registerKeys, registerAccount, registerTransfer, registerTx, registerOfflineTx, registerBlock, registerStatus, registerRpc, registerConfig, registerVerify, registerModules]) register(program);
// Last: it describes every command registered before it.
registerCompletion(program);

/** Commander's own errors are usage errors (2); help it has already printed needs no error line. */
function fromCommander(e: CommanderError): CliError | undefined {
  if (e.exitCode === 0 || e.code === 'commander.help') return undefined;
  const words = process.argv.slice(2).filter((w) => !w.startsWith('-'));
  let cmd: Command = program;
  for (const w of words) cmd = cmd.commands.find((c) => c.name() === w || c.aliases().includes(w)) ?? cmd;
  const path = cmd === program ? 'metanode-cli' : `metanode-cli ${cmd.parent === program ? '' : `${cmd.parent?.name()} `}${cmd.name()}`;
  return new CliError(ExitCode.Usage, `${e.message.replace(/^error: /, '')}; see ${path} --help`);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e instanceof CommanderError ? fromCommander(e) : toCliError(e);
  if (err) process.stderr.write(errorLine(err) + '\n');
  process.exitCode = err?.exitCode ?? ((e as CommanderError).exitCode === 0 ? ExitCode.Ok : ExitCode.Usage);
}
