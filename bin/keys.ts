import type { Command } from 'commander';
import { resolve } from 'node:path';
import { formatAddress, toHex } from '../chain/index.js';
import { KEY_PASSWORD_ENV, NodeError, NodeErrorCode, encryptValidatorKey, homePaths, inspectValidatorKey, readKeyPassword, readValidatorKey } from '../node/index.js';
import { MIN_PASSWORD_LENGTH, TtyPrompter } from './cli/prompt.js';

/**
 * A new password for the validator key: from --password-file, else METANODE_KEY_PASSWORD, else
 * asked twice on the terminal. At least MIN_PASSWORD_LENGTH characters.
 */
export async function newKeyPassword(passwordFile: string | undefined): Promise<string> {
  const given = await readKeyPassword({ passwordFile, env: process.env });
  let password: string;
  if (given) password = given.password;
  else {
    const prompter = new TtyPrompter();
    if (!prompter.interactive) {
      throw new NodeError(NodeErrorCode.KeyLocked, `a password is needed to encrypt the validator key and there is no terminal to ask: pass --password-file FILE or set ${KEY_PASSWORD_ENV}`);
    }
    password = await prompter.hidden('New password for the validator key: ');
    if (password.length >= MIN_PASSWORD_LENGTH && (await prompter.hidden('Repeat the password: ')) !== password) {
      throw new NodeError(NodeErrorCode.WrongPassword, 'the two passwords differ: run the command again');
    }
  }
  if (password.length < MIN_PASSWORD_LENGTH) throw new NodeError(NodeErrorCode.KeyLocked, `the validator key password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  return password;
}

/** `metanode keys encrypt`, `metanode keys show` and `metanode keys identity`. */
export function addKeyCommands(program: Command): void {
  const keys = program.command('keys').description("a node home's validator key: show it, encrypt it");

  keys
    .command('encrypt')
    .description('encrypt the plaintext validator key of a home in place (scrypt + ChaCha20-Poly1305, as metanode-cli)')
    .requiredOption('--home <dir>', 'node home folder')
    .option('--password-file <file>', `read the new password from FILE (else ${KEY_PASSWORD_ENV}, else a prompt)`)
    .action(async (o: { home: string; passwordFile?: string }) => {
      const path = homePaths(resolve(o.home)).validatorKey;
      const before = await inspectValidatorKey(path);
      if (before.encrypted) throw new NodeError(NodeErrorCode.BadKey, `validator key ${path} is encrypted already`);
      await encryptValidatorKey(path, await newKeyPassword(o.passwordFile));
      console.log(`encrypted ${path} (validator ${before.address})`);
      console.log(`start the node with its password: metanode start --home ${o.home} --password-file FILE (or ${KEY_PASSWORD_ENV}=…)`);
    });

  keys
    .command('show')
    .description('print the validator key of a home: address, public keys, whether it is encrypted (never a secret)')
    .requiredOption('--home <dir>', 'node home folder')
    .option('--json', 'print one JSON document')
    .action(async (o: { home: string; json?: boolean }) => {
      const info = await inspectValidatorKey(homePaths(resolve(o.home)).validatorKey);
      const mode = `0${info.mode.toString(8).padStart(3, '0')}`;
      if (o.json) {
        console.log(JSON.stringify({ ...info, mode }, null, 2));
        return;
      }
      console.log(
        [
          `validator key ${info.file}`,
          `  address:     ${info.address}`,
          `  ed25519 key: ${info.ed25519PublicKey}`,
          `  bls key:     ${info.blsPublicKey}`,
          `  encrypted:   ${info.encrypted ? `yes (scrypt N=2^${Math.log2(info.scryptN!)}, ChaCha20-Poly1305)` : `no (encrypt it with: metanode keys encrypt --home ${o.home})`}`,
          `  file mode:   ${mode}${(info.mode & 0o077) !== 0 ? ` (open to other users: metanode start refuses it; run chmod 600 ${info.file})` : ''}`,
        ].join('\n'),
      );
    });

  keys
    .command('identity')
    .description(
      "print the validator's public identity as JSON: address, Ed25519 and BLS public keys, and the BLS proof of possession (made with the secret key, so an encrypted key needs its password); hand it to a member who proposes your admission to a permissioned chain (metanode-cli gov propose roster-add --identity FILE)",
    )
    .requiredOption('--home <dir>', 'node home folder')
    .option('--password-file <file>', `the validator key's password (else ${KEY_PASSWORD_ENV})`)
    .action(async (o: { home: string; passwordFile?: string }) => {
      const key = await readValidatorKey(homePaths(resolve(o.home)).validatorKey, { password: await readKeyPassword({ passwordFile: o.passwordFile, env: process.env }) });
      console.log(JSON.stringify({ address: formatAddress(key.address), publicKey: toHex(key.ed25519.publicKey), blsPublicKey: toHex(key.bls.publicKey), proofOfPossession: toHex(key.bls.proofOfPossession()) }, null, 2));
    });
}
