import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { addressFromPublicKey, formatAddress, fromHex, parseAddress } from '../../../chain/index.js';
import { readKeyPassword, readValidatorKey } from '../../../node/keyfile.js';
import type { CliCommand, CliEnv, ModuleCli } from '../../../vm/cli.js';
import { moduleClis } from '../../../vm/modules/index.js';
import { resolveAccount } from '../accounts.js';
import { parseHumanAmount } from '../amount.js';
import { contextOf, type Context } from '../context.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { examples } from '../output.js';
import { addSendOptions, confirmSignSend, prepareSend, sendFlags } from '../send.js';
import { parseTimeout } from './tx.js';

const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `${bytes} bytes of 0x hex`);
/** What `metanode keys identity` writes: a validator's public keys and BLS proof of possession. */
const identitySchema = z.object({ address: z.string().optional(), publicKey: hex(32), blsPublicKey: hex(48), proofOfPossession: hex(96) });

/** The CLI side of what a module's command may ask (vm/cli.ts CliEnv). */
function envOf(ctx: Context): CliEnv {
  const validatorKey = async (path: string) => {
    const k = await readValidatorKey(path, { password: await readKeyPassword({ passwordFile: ctx.opts.passwordFile, env: process.env }) }).catch((e: Error) => {
      throw new CliError(ExitCode.Usage, `cannot read the validator key ${path}: ${e.message}`);
    });
    return { address: formatAddress(k.address), publicKey: k.ed25519.publicKey, blsPublicKey: k.bls.publicKey, proofOfPossession: k.bls.proofOfPossession() };
  };
  return {
    query: (module, path, params) => ctx.rpc.moduleQuery(module, path, params),
    sender: async () => (await ctx.keystore.info(await ctx.keyName())).address,
    amount: async (text, asset, what) => {
      const a = (await ctx.rpc.assets()).find((x) => x.symbol === asset);
      if (!a) throw usage(`this chain has no asset ${asset}`);
      try {
        return parseHumanAmount(text, asset, a.decimals);
      } catch (e) {
        throw usage(`${what}: ${(e as Error).message}`);
      }
    },
    address: async (text) => parseAddress((await resolveAccount(ctx, text)).address),
    validatorKey,
    validatorIdentity: async (path) => {
      const text = await readFile(path, 'utf8').catch((e: Error) => {
        throw new CliError(ExitCode.Usage, `cannot read ${path}: ${e.message}`);
      });
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        throw new CliError(ExitCode.Usage, `${path} is not JSON: give the file \`metanode keys identity\` wrote, or a validator key file`);
      }
      const id = identitySchema.safeParse(doc);
      if (!id.success) return validatorKey(path);
      const publicKey = fromHex(id.data.publicKey);
      const address = formatAddress(addressFromPublicKey(publicKey));
      if (id.data.address !== undefined && id.data.address !== address) throw new CliError(ExitCode.Usage, `${path} names address ${id.data.address} but its publicKey is ${address}'s`);
      return { address, publicKey, blsPublicKey: fromHex(id.data.blsPublicKey), proofOfPossession: fromHex(id.data.proofOfPossession) };
    },
    bytes: async (text, what) => {
      if (text.startsWith('0x')) {
        try {
          return fromHex(text);
        } catch (e) {
          throw usage(`${what}: ${(e as Error).message}`);
        }
      }
      const path = text.startsWith('@') ? text.slice(1) : text;
      return new Uint8Array(
        await readFile(path).catch((e: Error) => {
          throw new CliError(ExitCode.Usage, `cannot read ${what} from ${path}: ${e.message}`);
        }),
      );
    },
    call: (method, params) => ctx.rpc.call(method, params, z.unknown()),
    notVerified: (message) => new CliError(ExitCode.NotVerified, message),
    usage: (message) => usage(message),
    print: (result, human) => ctx.out.result(result, human),
  };
}

function register(group: Command, c: CliCommand): void {
  const cmd = group.command(c.name).description(c.description);
  for (const a of c.aliases ?? []) cmd.alias(a);
  for (const a of c.args) cmd.argument(a.optional ? `[${a.name}]` : `<${a.name}>`, a.description);
  for (const o of c.options ?? []) cmd.addOption(new Option(o.flags, o.description).makeOptionMandatory(o.required === true));
  if (c.tx) addSendOptions(cmd);
  if (c.examples) cmd.addHelpText('after', examples(c.examples));
  cmd.action(async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const args = params.slice(0, c.args.length) as string[];
    const o = command.opts<Record<string, string | undefined> & { yes?: boolean; wait?: boolean; dryRun?: boolean }>();
    const ctx = contextOf(command);
    const env = envOf(ctx);
    if (c.read) return c.read(args, o, env);
    const flags = sendFlags({ ...o, dryRun: o.dryRun === true }, parseTimeout);
    const setup = await prepareSend(ctx, flags, `send ${c.name}`);
    const made = await c.tx!(args, o, env);
    const txs = Array.isArray(made) ? made : [made];
    if (txs.length > 1 && (flags.dryRun || flags.generateOnly !== undefined)) {
      throw usage(`${group.name()} ${c.name} sends ${txs.length} transactions, each after the one before is committed: --dry-run and --generate-only take a command that sends one`);
    }
    for (const [i, t] of txs.entries()) {
      // Each transaction but the last is followed to its receipt: the next one needs it committed.
      const last = i === txs.length - 1;
      const s = { ...setup, account: { ...setup.account, nonce: setup.account.nonce + i } };
      await confirmSignSend(ctx, s, { ...t, action: `send ${c.name}` }, last ? flags : { ...flags, wait: true });
    }
  });
}

/** Every module's command group (vm/modules/index.ts moduleClis), registered on `program`. */
export function registerModules(program: Command, clis: readonly ModuleCli[] = moduleClis()): void {
  for (const m of clis) {
    const group = program.command(m.group).description(m.description);
    for (const c of m.commands) register(group, c);
  }
}
