import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ValidatorKey } from '../consensus/index.js';
import type { GenesisDoc } from '../genesis/index.js';
import { configSchema, defaultConfig, type NodeConfig } from './config.js';
import { NodeError, NodeErrorCode } from './errors.js';
import { writeValidatorKey } from './keyfile.js';

/** The files of a node home. */
export function homePaths(home: string) {
  return {
    home,
    config: join(home, 'config.json'),
    genesis: join(home, 'genesis.json'),
    validatorKey: join(home, 'keys', 'validator.json'),
    p2pKey: join(home, 'keys', 'p2p.key'),
    data: join(home, 'data'),
    /** Written when the node halts for a software upgrade it does not know: the plan (name, height, info). */
    upgradeInfo: join(home, 'upgrade-info.json'),
    /** What this validator signed (consensus/ibft/signlog.ts FileSignLog). */
    signLog: join(home, 'signlog'),
    /** Transactions this node acknowledged and not yet seen committed (consensus/mempool/journal.ts). */
    txJournal: join(home, 'mempool'),
    /** Accepted write requests and admin actions (storage/auditlog.ts). */
    audit: join(home, 'audit'),
  };
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
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

/**
 * Writes a new home: config, validator key (encrypted with `password` when given) and genesis.
 * Refuses to overwrite an existing one.
 */
export async function initHome(home: string, opts: { moniker: string; key: ValidatorKey; genesis: GenesisDoc; config?: NodeConfig; password?: string }): Promise<void> {
  const p = homePaths(home);
  if (await exists(p.config)) throw new NodeError(NodeErrorCode.HomeExists, `${home} already has a config.json; choose another --home or remove it`);
  await mkdir(join(home, 'keys'), { recursive: true, mode: 0o700 });
  await writeFile(p.config, JSON.stringify(opts.config ?? defaultConfig(opts.moniker), null, 2) + '\n');
  await writeValidatorKey(p.validatorKey, opts.key, { password: opts.password });
  await writeFile(p.genesis, JSON.stringify(opts.genesis, null, 2) + '\n');
}
