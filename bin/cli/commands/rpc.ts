import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { contextOf } from '../context.js';
import { usage } from '../errors.js';
import { examples, kvTable } from '../output.js';
import { RpcClient } from '../rpc-client.js';

/** This package's version (package.json). */
export function cliVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** A parameter as typed: JSON if it parses (5, true, null, {"limit":2}, ["a"]), else the text itself (an address, a hash). */
function param(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function registerRpc(program: Command): void {
  program.command('rpc').description('call any JSON-RPC method of the node and print its result as JSON')
    .argument('<method>', 'the method, e.g. chain_getHead (metanode-cli rpc rpc.discover lists them)')
    .argument('[params...]', 'its positional parameters, each read as JSON if it parses, else as text')
    .option('--params <json>', 'all parameters as one JSON array, instead of positional ones')
    .addHelpText('after', examples(['rpc chain_getHead', 'rpc chain_getBlockByHeight 5 true', 'rpc state_getAccount mn1qv… latest', "rpc module_query --params '[\"bank\",\"assets\"]'"]))
    .action(async (method: string, positional: string[], o: { params?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      let params: unknown[];
      if (o.params !== undefined) {
        if (positional.length > 0) throw usage('give the parameters either positionally or with --params, not both');
        const parsed = param(o.params);
        if (!Array.isArray(parsed)) throw usage(`--params must be a JSON array, e.g. '["mn1…", "latest"]'`);
        params = parsed;
      } else params = positional.map(param);
      const result = await ctx.rpc.call(method, params, z.unknown());
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    });

  program.command('version').description('show the version of metanode-cli, and of the node at --rpc if it answers')
    .action(async (_o: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const rpc = new RpcClient({ url: ctx.opts.rpc, timeoutMs: 3000, ...(ctx.opts.rpcToken ? { token: ctx.opts.rpcToken } : {}) });
      const node = await rpc.status().then((s) => ({ version: s.version ?? 'unknown', chainId: s.chainId, height: (s.head as { height?: number } | null)?.height ?? null }), () => null);
      ctx.out.result({ cli: cliVersion(), node: node ? { url: rpc.url, ...node } : null }, () =>
        kvTable([
          ['metanode-cli', cliVersion()],
          ['node', node ? `${node.version} (chain ${node.chainId}, height ${node.height}) at ${rpc.url}` : `no answer from ${rpc.url}`],
        ]));
    });
}
