import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import {
  BLS_PUBLIC_KEY_LENGTH,
  BlsKey,
  concatBytes,
  DEFAULT_SCRYPT_N,
  Ed25519Key,
  addressFromPublicKey,
  equalBytes,
  formatAddress,
  fromHex,
  KEYSTORE_VERSION,
  KeystoreError,
  KeystoreErrorCode,
  sealedSchema,
  sealSecret,
  toHex,
  unsealSecret,
  type Sealed,
} from '../chain/index.js';
import { ValidatorKey } from '../consensus/index.js';
import { NodeError, NodeErrorCode } from './errors.js';

/**
 * keys/validator.json, in one of two forms:
 * - plaintext: `{address, ed25519Secret, blsSecret}`;
 * - encrypted: metanode-cli's key-file format, version 1 (chain/keystore.ts), with the BLS public
 *   key beside the Ed25519 one; the sealed secret is the Ed25519 secret ‖ the BLS secret, and both
 *   public keys are its additional data.
 * Either is written atomically (a temporary file in the same folder, fsynced, renamed over the old
 * one, then the folder fsynced), mode 0600 in a 0700 folder, and checked when read: the address
 * must be the key's, and the file must not be open to other users.
 */

/** The environment variable `metanode start` reads an encrypted validator key's password from. */
export const KEY_PASSWORD_ENV = 'METANODE_KEY_PASSWORD';

/** A password and where it came from (for error messages): `--password-file F` or the variable. */
export interface KeyPassword {
  password: string;
  from: string;
}

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/);

const plainSchema = z.object({ address: z.string(), ed25519Secret: hex32, blsSecret: hex32 }).strict();

const encryptedSchema = z
  .object({
    version: z.literal(KEYSTORE_VERSION),
    name: z.literal('validator'),
    address: z.string(),
    publicKey: hex32,
    blsPublicKey: z.string().regex(new RegExp(`^0x[0-9a-f]{${2 * BLS_PUBLIC_KEY_LENGTH}}$`)),
    createdAt: z.string(),
    crypto: sealedSchema,
  })
  .strict();
type EncryptedKeyFile = z.infer<typeof encryptedSchema>;

/** What `metanode keys show` prints: public data only. */
export interface ValidatorKeyInfo {
  file: string;
  address: string;
  ed25519PublicKey: string;
  blsPublicKey: string;
  encrypted: boolean;
  /** scrypt cost of an encrypted file. */
  scryptN?: number;
  /** The file's permission bits, e.g. 0o600. */
  mode: number;
}

/** Writes `data` to `path` atomically: temporary file, fsync, rename, fsync of the folder. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

const aadOf = (ed25519PublicKey: Uint8Array, blsPublicKey: Uint8Array): Uint8Array => concatBytes(ed25519PublicKey, blsPublicKey);

/** Writes the validator key, encrypted with `password` when one is given. Replaces an existing file. */
export async function writeValidatorKey(path: string, key: ValidatorKey, o: { password?: string; scryptN?: number } = {}): Promise<void> {
  let body: object;
  if (o.password === undefined) {
    body = { address: formatAddress(key.address), ed25519Secret: toHex(key.ed25519.secret), blsSecret: toHex(key.bls.secret) };
  } else {
    const secret = concatBytes(key.ed25519.secret, key.bls.secret);
    const crypto: Sealed = await sealSecret(secret, o.password, { aad: aadOf(key.ed25519.publicKey, key.bls.publicKey), scryptN: o.scryptN ?? DEFAULT_SCRYPT_N });
    secret.fill(0);
    const file: EncryptedKeyFile = {
      version: KEYSTORE_VERSION,
      name: 'validator',
      address: formatAddress(key.address),
      publicKey: toHex(key.ed25519.publicKey),
      blsPublicKey: toHex(key.bls.publicKey),
      createdAt: new Date().toISOString(),
      crypto,
    };
    body = file;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await chmod(dirname(path), 0o700);
  await writeFileAtomic(path, JSON.stringify(body, null, 2) + '\n', 0o600);
}

type Parsed = { kind: 'plain'; file: z.infer<typeof plainSchema> } | { kind: 'encrypted'; file: EncryptedKeyFile };

async function parseKeyFile(path: string): Promise<Parsed> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new NodeError(NodeErrorCode.BadKey, `cannot read validator key ${path}: ${(e as Error).message}`);
  }
  const encrypted = typeof json === 'object' && json !== null && 'crypto' in json;
  const r = encrypted ? encryptedSchema.safeParse(json) : plainSchema.safeParse(json);
  if (!r.success) {
    throw new NodeError(NodeErrorCode.BadKey, `validator key ${path} is malformed: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return encrypted ? { kind: 'encrypted', file: r.data as EncryptedKeyFile } : { kind: 'plain', file: r.data as z.infer<typeof plainSchema> };
}

const mismatch = (path: string, stored: string, actual: string): NodeError =>
  new NodeError(NodeErrorCode.BadKey, `validator key ${path} is inconsistent: it names address ${stored}, but its key is ${actual}'s; restore the file from a backup`);

/** Refuses a key file that other users can read or change (as ssh does): says the chmod to run. */
async function checkPermissions(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new NodeError(NodeErrorCode.KeyPermissions, `validator key ${path} is open to other users (mode ${mode.toString(8).padStart(4, '0')}); make it private with: chmod 600 ${path}`);
  }
}

/**
 * Reads the validator key. An encrypted file needs `password`; a wrong one fails with
 * NODE_WRONG_PASSWORD, a missing one with NODE_KEY_LOCKED, each naming both ways to give it.
 */
export async function readValidatorKey(path: string, o: { password?: KeyPassword } = {}): Promise<ValidatorKey> {
  const parsed = await parseKeyFile(path);
  await checkPermissions(path);
  if (parsed.kind === 'plain') return readPlain(path, parsed.file);
  const f = parsed.file;
  if (!o.password) {
    throw new NodeError(
      NodeErrorCode.KeyLocked,
      `validator key ${path} is encrypted: give its password with --password-file FILE (a metanode start option) or in the environment variable ${KEY_PASSWORD_ENV}`,
    );
  }
  const edPublic = fromHex(f.publicKey);
  const blsPublic = fromHex(f.blsPublicKey);
  let secret: Uint8Array;
  try {
    secret = await unsealSecret(f.crypto, o.password.password, { aad: aadOf(edPublic, blsPublic), secretLength: 64 });
  } catch (e) {
    if (e instanceof KeystoreError && e.code === KeystoreErrorCode.WrongPassword) {
      throw new NodeError(
        NodeErrorCode.WrongPassword,
        `wrong password for the validator key ${path} (from ${o.password.from}); give the right one with --password-file FILE or ${KEY_PASSWORD_ENV} (a file changed since it was written also fails this way: restore it from a backup)`,
      );
    }
    if (e instanceof KeystoreError) throw new NodeError(NodeErrorCode.BadKey, `validator key ${path} is malformed: ${e.message}`);
    throw e;
  }
  const key = keyOf(path, secret.subarray(0, 32), secret.subarray(32));
  secret.fill(0);
  if (!equalBytes(key.ed25519.publicKey, edPublic) || !equalBytes(key.bls.publicKey, blsPublic) || formatAddress(key.address) !== f.address) {
    throw mismatch(path, f.address, formatAddress(key.address));
  }
  return key;
}

/** The public side of the validator key file, without asking for a password. */
export async function inspectValidatorKey(path: string): Promise<ValidatorKeyInfo> {
  const parsed = await parseKeyFile(path);
  const mode = (await stat(path)).mode & 0o777;
  if (parsed.kind === 'plain') {
    const key = readPlain(path, parsed.file);
    return { file: path, address: formatAddress(key.address), ed25519PublicKey: toHex(key.ed25519.publicKey), blsPublicKey: toHex(key.bls.publicKey), encrypted: false, mode };
  }
  const f = parsed.file;
  const address = formatAddress(addressFromPublicKey(fromHex(f.publicKey)));
  if (address !== f.address) throw mismatch(path, f.address, address);
  return { file: path, address, ed25519PublicKey: f.publicKey, blsPublicKey: f.blsPublicKey, encrypted: true, scryptN: f.crypto.kdfParams.n, mode };
}

function keyOf(path: string, ed25519Secret: Uint8Array, blsSecret: Uint8Array): ValidatorKey {
  try {
    return new ValidatorKey(Ed25519Key.fromSecret(ed25519Secret), BlsKey.fromSecret(blsSecret));
  } catch (e) {
    throw new NodeError(NodeErrorCode.BadKey, `validator key ${path} holds an invalid key: ${(e as Error).message}`);
  }
}

function readPlain(path: string, f: z.infer<typeof plainSchema>): ValidatorKey {
  const key = keyOf(path, fromHex(f.ed25519Secret), fromHex(f.blsSecret));
  if (formatAddress(key.address) !== f.address) throw mismatch(path, f.address, formatAddress(key.address));
  return key;
}

/** Encrypts a plaintext validator key in place (atomically). Refuses one that is encrypted already. */
export async function encryptValidatorKey(path: string, password: string, o: { scryptN?: number } = {}): Promise<void> {
  const parsed = await parseKeyFile(path);
  if (parsed.kind === 'encrypted') throw new NodeError(NodeErrorCode.BadKey, `validator key ${path} is encrypted already`);
  await writeValidatorKey(path, readPlain(path, parsed.file), { password, scryptN: o.scryptN });
}

/**
 * The password for an encrypted validator key: the file's content (one trailing newline ignored)
 * when `passwordFile` is given, else the environment variable, else undefined.
 */
export async function readKeyPassword(o: { passwordFile?: string; env: NodeJS.ProcessEnv }): Promise<KeyPassword | undefined> {
  let kp: KeyPassword | undefined;
  if (o.passwordFile !== undefined) {
    let text: string;
    try {
      text = await readFile(o.passwordFile, 'utf8');
    } catch (e) {
      throw new NodeError(NodeErrorCode.KeyLocked, `cannot read --password-file ${o.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    kp = { password: text.replace(/\r?\n$/, ''), from: `--password-file ${o.passwordFile}` };
  } else if (o.env[KEY_PASSWORD_ENV] !== undefined) {
    kp = { password: o.env[KEY_PASSWORD_ENV]!, from: KEY_PASSWORD_ENV };
  }
  if (kp && kp.password === '') throw new NodeError(NodeErrorCode.KeyLocked, `the validator key password from ${kp.from} is empty`);
  return kp;
}
