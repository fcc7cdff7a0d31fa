import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BlsKey, Ed25519Key, formatAddress, fromHex, toHex } from '../chain/index.js';
import { ValidatorKey } from '../consensus/index.js';
import type { GenesisDoc } from '../genesis/index.js';
import { configSchema, defaultConfig, type NodeConfig } from './config.js';
import { NodeError, NodeErrorCode } from './errors.js';

/** The files of a node home. */
export function homePaths(home: string) {
  return {
    home,
    config: join(home, 'config.json'),
    genesis: join(home, 'genesis.json'),
    validatorKey: join(home, 'keys', 'validator.json'),
    p2pKey: join(home, 'keys', 'p2p.key'),
    data: join(home, 'data'),
    /** What this validator signed (consensus/ibft/signlog.ts FileSignLog). */
    signLog: join(home, 'signlog'),
    /** Accepted write requests and admin actions (storage/auditlog.ts). */
    audit: join(home, 'audit'),
  };
}

const keyFileSchema = z
  .object({
    address: z.string(),
    ed25519Secret: z.string().regex(/^0x[0-9a-f]{64}$/),
    blsSecret: z.string().regex(/^0x[0-9a-f]{64}$/),
  })
  .strict();

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function writeValidatorKey(path: string, key: ValidatorKey): Promise<void> {
  const body = { address: formatAddress(key.address), ed25519Secret: toHex(key.ed25519.secret), blsSecret: toHex(key.bls.secret) };
  await writeFile(path, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function readValidatorKey(path: string): Promise<ValidatorKey> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new NodeError(NodeErrorCode.BadKey, `cannot read validator key ${path}: ${(e as Error).message}`);
  }
  const r = keyFileSchema.safeParse(json);
  if (!r.success) throw new NodeError(NodeErrorCode.BadKey, `validator key ${path} is malformed: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return new ValidatorKey(Ed25519Key.fromSecret(fromHex(r.data.ed25519Secret)), BlsKey.fromSecret(fromHex(r.data.blsSecret)));
}

export async function readConfig(path: string): Promise<NodeConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new NodeError(NodeErrorCode.BadConfig, `cannot read config ${path}: ${(e as Error).message}`);
  }
  const r = configSchema.safeParse(json);
  if (!r.success) throw new NodeError(NodeErrorCode.BadConfig, `config ${path} is invalid:\n  - ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  - ')}`);
  return r.data;
}

/** Writes a new home: config, validator key and genesis. Refuses to overwrite an existing one. */
export async function initHome(home: string, opts: { moniker: string; key: ValidatorKey; genesis: GenesisDoc; config?: NodeConfig }): Promise<void> {
  const p = homePaths(home);
  if (await exists(p.config)) throw new NodeError(NodeErrorCode.HomeExists, `${home} already has a config.json; choose another --home or remove it`);
  await mkdir(join(home, 'keys'), { recursive: true, mode: 0o700 });
  await writeFile(p.config, JSON.stringify(opts.config ?? defaultConfig(opts.moniker), null, 2) + '\n');
  await writeValidatorKey(p.validatorKey, opts.key);
  await writeFile(p.genesis, JSON.stringify(opts.genesis, null, 2) + '\n');
}
