import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, ExitCode, usage } from './errors.js';
import { isKeyName } from './keystore.js';

/**
 * metanode-cli's saved settings (`metanode-cli config set …`): a JSON file, by default
 * ~/.metanode-cli/config.json (METANODE_CLI_CONFIG names another). A setting is the default of
 * its option: a flag or an environment variable still wins.
 */
export const SETTINGS = {
  rpc: { what: 'the node\'s JSON-RPC URL (--rpc)', check: (v: string) => (/^https?:\/\/[^\s]+$/.test(v) ? undefined : 'must be an http:// or https:// URL') },
  key: { what: 'the key to sign with (--key)', check: (v: string) => (isKeyName(v) ? undefined : 'must be a key name: lowercase letters, digits, - and _') },
  keystore: { what: 'the folder of key files (--keystore)', check: (v: string) => (v.length > 0 ? undefined : 'must be a folder') },
  'genesis-hash': { what: 'the trusted genesis block hash of the light client (verify …, --genesis-hash)', check: (v: string) => (/^0x[0-9a-f]{64}$/.test(v) ? undefined : 'must be 0x followed by 64 lowercase hex digits') },
} as const;
export type SettingName = keyof typeof SETTINGS;
export type Settings = Partial<Record<SettingName, string>>;

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.METANODE_CLI_CONFIG || join(homedir(), '.metanode-cli', 'config.json');
}

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name);
}

/** The saved settings; none when there is no file. A damaged file is an error naming it (not silently ignored). */
export function readSettings(path = configPath()): Settings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(ExitCode.Usage, `cannot read the settings file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(ExitCode.Usage, `the settings file ${path} is not JSON: fix it, or remove it and use metanode-cli config set again`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CliError(ExitCode.Usage, `the settings file ${path} must hold a JSON object`);
  const out: Settings = {};
  for (const [k, v] of Object.entries(json)) {
    if (!isSettingName(k) || typeof v !== 'string' || SETTINGS[k].check(v) !== undefined) {
      throw new CliError(ExitCode.Usage, `the settings file ${path} has a bad setting "${k}": fix it with metanode-cli config set ${k} VALUE, or config unset ${k}`);
    }
    out[k] = v;
  }
  return out;
}

/** Writes the settings through a temporary file and a rename (a crash leaves the old file or the new one). */
export function writeSettings(settings: Settings, path = configPath()): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, path);
  } catch (e) {
    throw new CliError(ExitCode.Usage, `cannot write the settings file ${path}: ${(e as Error).message}`);
  }
}

export function checkSetting(name: string, value: string): SettingName {
  if (!isSettingName(name)) throw usage(`unknown setting "${name}": the settings are ${Object.keys(SETTINGS).join(', ')}`);
  const why = SETTINGS[name].check(value);
  if (why) throw usage(`${name} ${why}`);
  return name;
}
