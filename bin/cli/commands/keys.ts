import { access } from 'node:fs/promises';
import type { Command } from 'commander';
import { Ed25519Key, fromHex, metanodeKeyPath, MnemonicError, newMnemonic, secretFromMnemonic, toHex } from '../../../chain/index.js';
import { contextOf, type Context } from '../context.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { examples, kvTable, table } from '../output.js';
import { confirmOrFail, getPassword, readSecretFile, readStdin } from '../prompt.js';
import { validateKeyName, type KeyInfo } from '../keystore.js';

const keyJson = (k: KeyInfo): object => ({ name: k.name, address: k.address, publicKey: k.publicKey, createdAt: k.createdAt, file: k.file });

function showKey(ctx: Context, k: KeyInfo, headline?: string): void {
  ctx.out.result(keyJson(k), () =>
    [
      ...(headline ? [headline, ''] : []),
      kvTable([['name', k.name], ['address', k.address], ['public key', k.publicKey], ['created', k.createdAt], ['file', k.file]]),
    ].join('\n'),
  );
}

async function refuseExisting(ctx: Context, name: string): Promise<void> {
  const exists = await access(ctx.keystore.path(validateKeyName(name))).then(() => true, () => false);
  if (exists) throw new CliError(ExitCode.KeyExists, `a key named "${name}" already exists: pick another name, or delete it first with metanode-cli keys delete ${name}`);
}

async function readImportedSecret(ctx: Context, secretFile: string | undefined): Promise<Uint8Array> {
  let text: string;
  if (secretFile !== undefined) text = await readSecretFile(secretFile, '--secret-file');
  else if (process.stdin.isTTY) text = await ctx.prompter.hidden('Secret key (0x + 64 hex digits): ');
  else text = await readStdin();
  try {
    return fromHex(text.trim(), 32, 'secret');
  } catch {
    throw usage('the secret key must be 0x followed by 64 hex digits (a 32-byte Ed25519 secret), on its own');
  }
}

async function readImportedMnemonic(ctx: Context, secretFile: string | undefined, indexText: string): Promise<Uint8Array> {
  const index = Number(indexText);
  if (!/^\d+$/.test(indexText) || index >= 0x8000_0000) throw usage(`--index "${indexText}" must be a whole number below 2147483648`);
  let text: string;
  if (secretFile !== undefined) text = await readSecretFile(secretFile, '--secret-file');
  else if (process.stdin.isTTY) text = await ctx.prompter.hidden('Mnemonic (the words, separated by spaces): ');
  else text = await readStdin();
  try {
    return secretFromMnemonic(text, { path: metanodeKeyPath(index) });
  } catch (e) {
    if (e instanceof MnemonicError) throw usage(e.message);
    throw e;
  }
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('create, import, list, show, rename, export and delete keys, and change their passwords (encrypted at rest)');

  keys.command('new').description('create a new key, encrypted with a password (--mnemonic: from a new 24-word phrase you write down)')
    .argument('<name>', 'key name: lowercase letters, digits, - and _')
    .option('--mnemonic', 'make the key from a new BIP-39 phrase (SLIP-0010 Ed25519, m/44\'/7101\'/0\'/0\'/0\'), printed once: the phrase restores the key anywhere')
    .addHelpText('after', examples(['keys new alice', 'keys new bot --password-file ./bot.password --json', 'keys new savings --mnemonic']))
    .action(async (name: string, o: { mnemonic?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await refuseExisting(ctx, name);
      const password = await ctx.password(`key "${name}"`, true);
      const phrase = o.mnemonic ? newMnemonic() : undefined;
      const secret = phrase ? secretFromMnemonic(phrase) : Ed25519Key.generate().secret;
      const info = await ctx.keystore.add(name, secret, password);
      secret.fill(0);
      if (!phrase) {
        showKey(ctx, info, `created key ${name}: back up ${info.file} and remember its password (it cannot be recovered)`);
        return;
      }
      ctx.out.result({ ...keyJson(info), mnemonic: phrase, path: metanodeKeyPath(0) }, () =>
        [
          `created key ${name} from a new mnemonic. Write these 24 words down, in order, and keep them offline:`,
          '',
          phrase,
          '',
          `They restore the key anywhere (metanode-cli keys import NAME --mnemonic); anyone who has them can spend its funds. This is the only time they are shown.`,
          '',
          kvTable([['name', info.name], ['address', info.address], ['path', metanodeKeyPath(0)], ['file', info.file]]),
        ].join('\n'));
    });

  keys.command('import').description('import a 0x-hex Ed25519 secret, or with --mnemonic a BIP-39 phrase (from a prompt, stdin or --secret-file)')
    .argument('<name>', 'key name: lowercase letters, digits, - and _')
    .option('--secret-file <file>', 'read the secret (or the phrase) from FILE instead of a prompt or stdin')
    .option('--mnemonic', 'the input is a BIP-39 phrase: derive its key by SLIP-0010 Ed25519')
    .option('--index <n>', 'with --mnemonic: the account key to derive, m/44\'/7101\'/0\'/0\'/n\'', '0')
    .addHelpText('after', examples(['keys import alice', 'keys import bot --secret-file ./bot.secret', 'keys export alice --yes | metanode-cli keys import alice --keystore /backup/keys', 'keys import savings --mnemonic --index 1']))
    .action(async (name: string, o: { secretFile?: string; mnemonic?: boolean; index: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await refuseExisting(ctx, name);
      const secret = o.mnemonic ? await readImportedMnemonic(ctx, o.secretFile, o.index) : await readImportedSecret(ctx, o.secretFile);
      const info = await ctx.keystore.add(name, secret, await ctx.password(`key "${name}"`, true));
      secret.fill(0);
      showKey(ctx, info, `imported key ${name}`);
    });

  keys.command('list').alias('ls').description('list the keys in the keystore')
    .addHelpText('after', examples(['keys list', 'keys list --json']))
    .action(async (_o: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const all = await ctx.keystore.list();
      ctx.out.result(all.map((k) => (k.damaged ? { name: k.name, file: k.file, damaged: k.damaged } : keyJson(k))), () =>
        all.length === 0
          ? `no keys in ${ctx.keystore.dir}: create one with metanode-cli keys new NAME`
          : table(['NAME', 'ADDRESS'], all.map((k) => [k.name, k.damaged ? `(damaged: ${k.file})` : k.address])),
      );
    });

  keys.command('show').description('show a key\'s address and public key (never its secret)')
    .argument('[name]', 'key name (default: --key, or the only key)')
    .addHelpText('after', examples(['keys show alice']))
    .action(async (name: string | undefined, _o: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      showKey(ctx, await ctx.keystore.info(name ?? (await ctx.keyName())));
    });

  keys.command('export').description('print a key\'s secret in clear (asks for confirmation)')
    .argument('<name>', 'key name')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', examples(['keys export alice', 'keys export alice --yes > alice.secret']))
    .action(async (name: string, o: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const info = await ctx.keystore.info(name);
      await confirmOrFail(ctx.prompter, `Print the secret key of "${name}" (${info.address}) in clear? Anyone who sees it can spend its funds.`, { yes: o.yes === true, action: `print the secret of "${name}"` });
      const key = await ctx.unlock(name);
      const secret = toHex(key.secret);
      key.secret.fill(0);
      ctx.out.result({ name, address: info.address, secret }, () => secret);
    });

  keys.command('delete').alias('rm').description('delete a key file (asks for confirmation)')
    .argument('<name>', 'key name')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', examples(['keys delete old-bot', 'keys delete old-bot --yes']))
    .action(async (name: string, o: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const info = await ctx.keystore.info(name);
      await confirmOrFail(ctx.prompter, `Delete key "${name}" (${info.address})? Without a backup of its secret, its funds are lost.`, { yes: o.yes === true, action: `delete key "${name}"` });
      await ctx.keystore.remove(name);
      ctx.out.result({ name, address: info.address, deleted: true }, () => `deleted key ${name} (${info.address})`);
    });

  keys.command('rename').alias('mv').description('give a key another name (its secret and password stay as they are)')
    .argument('<name>', 'the key\'s name')
    .argument('<new-name>', 'its new name')
    .addHelpText('after', examples(['keys rename bot bot-2024']))
    .action(async (name: string, newName: string, _o: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      await refuseExisting(ctx, newName);
      const info = await ctx.keystore.rename(name, newName);
      ctx.out.result({ ...keyJson(info), renamedFrom: name }, () => `renamed key ${name} to ${newName} (${info.address})`);
    });

  keys.command('change-password').description('seal a key again under a new password (the old one is asked first)')
    .argument('[name]', 'key name (default: --key, or the only key)')
    .option('--new-password-file <file>', 'read the new password from FILE (else env METANODE_NEW_PASSWORD, else a prompt)')
    .addHelpText('after', examples(['keys change-password alice', 'keys change-password alice --password-file old.txt --new-password-file new.txt']))
    .action(async (nameArg: string | undefined, o: { newPasswordFile?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const name = nameArg ?? (await ctx.keyName());
      await ctx.keystore.info(name);
      const oldPassword = await ctx.password(`key "${name}"`, false);
      const newPassword = await getPassword({ passwordFile: o.newPasswordFile, env: { METANODE_PASSWORD: process.env.METANODE_NEW_PASSWORD }, prompter: ctx.prompter }, `key "${name}"`, true);
      const info = await ctx.keystore.changePassword(name, oldPassword, newPassword);
      ctx.out.result({ ...keyJson(info), passwordChanged: true }, () => `changed the password of key ${name} (${info.address})`);
    });
}
