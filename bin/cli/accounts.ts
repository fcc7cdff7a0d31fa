import { formatAddress, parseAddress } from '../../chain/index.js';
import type { Context } from './context.js';
import { CliError, ExitCode } from './errors.js';
import { isKeyName } from './keystore.js';

export interface ResolvedAccount {
  address: string;
  /** The key name, when the account was given as one. */
  key?: string;
}

/** An address (mn1…, checksum checked) or the name of a key in the keystore. */
export async function resolveAccount(ctx: Context, text: string): Promise<ResolvedAccount> {
  if (/^mn1/i.test(text)) {
    const address = formatAddress(parseAddress(text));
    const known = (await ctx.keystore.list()).find((k) => k.address === address);
    return known ? { address, key: known.name } : { address };
  }
  if (isKeyName(text)) return { address: (await ctx.keystore.info(text)).address, key: text };
  throw new CliError(ExitCode.BadAddress, `"${text}" is neither an address (mn1…) nor a key name; see metanode-cli keys list`);
}

/** The account a command is about: the argument, else --key, else the only key. */
export async function resolveAccountOrDefault(ctx: Context, text: string | undefined): Promise<ResolvedAccount> {
  return resolveAccount(ctx, text ?? (await ctx.keyName()));
}
