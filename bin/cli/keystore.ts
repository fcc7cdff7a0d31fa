import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  addressFromPublicKey,
  DEFAULT_SCRYPT_N,
  Ed25519Key,
  formatAddress,
  KEYSTORE_VERSION,
  keyFileSchema,
  KeystoreError,
  KeystoreErrorCode,
  openKeyFile,
  sealSecret,
  toHex,
  type KeyFile,
} from '../../chain/index.js';
import { CliError, ExitCode, usage } from './errors.js';

export interface KeystoreOptions {
  dir: string;
  /** scrypt cost of new key files (a power of two); files record their own parameters. */
  scryptN: number;
}

/** scrypt N = 2^17, r = 8 (128 MiB, about half a second): the cost of every unlock. */
export const defaultKeystoreOptions: KeystoreOptions = { dir: join(homedir(), '.metanode-cli', 'keys'), scryptN: DEFAULT_SCRYPT_N };

export interface KeyInfo {
  name: string;
  address: string;
  publicKey: string;
  createdAt: string;
  file: string;
  /** Set when the file cannot be read: the key is listed but unusable. */
  damaged?: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
export const isKeyName = (name: string): boolean => NAME_RE.test(name) && !name.startsWith('mn1');

export function validateKeyName(name: string): string {
  if (!isKeyName(name)) {
    throw usage(`invalid key name "${name}": use 1-40 lowercase letters, digits, "-" or "_", starting with a letter or digit (not "mn1", which starts addresses)`);
  }
  return name;
}

/** Seals an Ed25519 secret (chain/keystore.ts); the additional data is its public key. */
export async function encryptKey(name: string, secret: Uint8Array, password: string, scryptN: number): Promise<KeyFile> {
  const key = Ed25519Key.fromSecret(secret);
  return {
    version: KEYSTORE_VERSION,
    name,
    address: formatAddress(addressFromPublicKey(key.publicKey)),
    publicKey: toHex(key.publicKey),
    createdAt: new Date().toISOString(),
    crypto: await sealSecret(secret, password, { aad: key.publicKey, scryptN }),
  };
}

/** Opens a key file; a wrong password (or a tampered file) fails the Poly1305 tag. */
export async function decryptKey(file: KeyFile, password: string): Promise<Ed25519Key> {
  try {
    return await openKeyFile(file, password);
  } catch (e) {
    if (e instanceof KeystoreError && e.code === KeystoreErrorCode.WrongPassword) {
      throw new CliError(ExitCode.WrongPassword, `wrong password for key "${file.name}": try again (check METANODE_PASSWORD or --password-file if you use them)`);
    }
    if (e instanceof KeystoreError) throw new CliError(ExitCode.Keystore, `key file for "${file.name}" is damaged (${e.message}): restore it from a backup`);
    throw e;
  }
}

/** A folder of key files, one `<name>.json` per key (mode 0600, folder 0700). */
export class Keystore {
  constructor(private readonly opts: KeystoreOptions) {}

  get dir(): string {
    return this.opts.dir;
  }

  path(name: string): string {
    return join(this.opts.dir, `${validateKeyName(name)}.json`);
  }

  async list(): Promise<KeyInfo[]> {
    let files: string[];
    try {
      files = await readdir(this.opts.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.ioError(e);
    }
    const names = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).filter((n) => NAME_RE.test(n)).sort();
    return Promise.all(
      names.map((n) =>
        this.info(n).catch((e: unknown) => {
          if (!(e instanceof CliError) || e.exitCode !== ExitCode.Keystore) throw e;
          return { name: n, address: '', publicKey: '', createdAt: '', file: this.path(n), damaged: e.message };
        }),
      ),
    );
  }

  async info(name: string): Promise<KeyInfo> {
    const f = await this.read(name);
    return { name, address: f.address, publicKey: f.publicKey, createdAt: f.createdAt, file: this.path(name) };
  }

  async unlock(name: string, password: string): Promise<Ed25519Key> {
    return decryptKey(await this.read(name), password);
  }

  async add(name: string, secret: Uint8Array, password: string): Promise<KeyInfo> {
    validateKeyName(name);
    const publicKey = toHex(Ed25519Key.fromSecret(secret).publicKey);
    const existing = (await this.list()).find((k) => k.publicKey === publicKey);
    if (existing) throw new CliError(ExitCode.KeyExists, `this key is already in the keystore as "${existing.name}"`);
    await this.write(name, await encryptKey(name, secret, password, this.opts.scryptN), 'new');
    return this.info(name);
  }

  /** Gives a key another name: the same sealed secret under the new name; the old file goes once the new one is on disk. */
  async rename(from: string, to: string): Promise<KeyInfo> {
    const file = await this.read(from);
    validateKeyName(to);
    await this.write(to, { ...file, name: to }, 'new');
    await unlink(this.path(from)).catch((e: unknown) => { throw this.ioError(e); });
    return this.info(to);
  }

  /** Seals a key's secret again under a new password, replacing its file in one rename (a crash leaves the old file or the new one). */
  async changePassword(name: string, oldPassword: string, newPassword: string): Promise<KeyInfo> {
    const file = await this.read(name);
    const key = await decryptKey(file, oldPassword);
    try {
      await this.write(name, { ...(await encryptKey(name, key.secret, newPassword, this.opts.scryptN)), createdAt: file.createdAt }, 'replace');
    } finally {
      key.secret.fill(0);
    }
    return this.info(name);
  }

  /** Writes a key file through a fsynced temporary file: 'new' never overwrites a name, 'replace' swaps the file atomically. */
  private async write(name: string, content: KeyFile, mode: 'new' | 'replace'): Promise<void> {
    const file = this.path(name);
    const body = JSON.stringify(content, null, 2) + '\n';
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 }).catch((e: unknown) => { throw this.ioError(e); });
    const tmp = join(this.opts.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (mode === 'new') await link(tmp, file); // fails if the name is taken: never overwrite a key
      else await rename(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new CliError(ExitCode.KeyExists, `a key named "${name}" already exists: pick another name, or delete it first with metanode-cli keys delete ${name}`);
      }
      throw this.ioError(e);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async remove(name: string): Promise<void> {
    await this.read(name);
    await unlink(this.path(name)).catch((e: unknown) => { throw this.ioError(e); });
  }

  private async read(name: string): Promise<KeyFile> {
    const file = this.path(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new CliError(ExitCode.UnknownKey, `no key named ${name} in ${this.opts.dir}; see metanode-cli keys list`);
      }
      throw this.ioError(e);
    }
    let parsed: KeyFile;
    try {
      parsed = keyFileSchema.parse(JSON.parse(text));
    } catch {
      throw new CliError(ExitCode.Keystore, `key file ${file} is damaged or from an unknown version: restore it from a backup`);
    }
    return { ...parsed, name };
  }

  private ioError(e: unknown): CliError {
    return new CliError(ExitCode.Keystore, `cannot use the keystore ${this.opts.dir}: ${(e as Error).message}; check its permissions or pass --keystore`);
  }
}
