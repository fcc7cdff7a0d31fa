import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { Ed25519Key } from '../../chain/index.js';
import { readSettings, type Settings } from './config.js';
import { usage } from './errors.js';
import { defaultKeystoreOptions, Keystore } from './keystore.js';
import { Output } from './output.js';
import { getPassword, TtyPrompter, type Prompter } from './prompt.js';
import { defaultRpcClientOptions, RpcClient } from './rpc-client.js';

export interface GlobalOptions {
  rpc: string;
  rpcToken?: string | undefined;
  key?: string | undefined;
  json: boolean;
  keystore: string;
  passwordFile?: string | undefined;
}

export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(new Option('--rpc <url>', 'JSON-RPC endpoint of the node').env('METANODE_RPC').default(defaultRpcClientOptions.url))
    .addOption(new Option('--rpc-token <jwt>', 'bearer token for a node with JSON-RPC authentication (metanode jwt token)').env('METANODE_RPC_TOKEN'))
    .addOption(new Option('--key <name>', 'key to sign with or to query (default: the only key in the keystore)').env('METANODE_KEY'))
    .addOption(new Option('--keystore <dir>', 'folder of encrypted key files').env('METANODE_KEYSTORE').default(defaultKeystoreOptions.dir, '~/.metanode-cli/keys'))
    .addOption(new Option('--password-file <file>', 'read the key password from FILE (else env METANODE_PASSWORD, else a prompt)'))
    .addOption(new Option('--json', 'print exactly one JSON document on stdout').default(false));
}

/** What every command needs, built from the global options; the RPC client only when used. */
export class Context {
  readonly out: Output;
  readonly keystore: Keystore;
  readonly prompter: Prompter;
  private readonly env: NodeJS.ProcessEnv;
  private client?: RpcClient;
  /** The saved settings (metanode-cli config). */
  readonly settings: Settings;

  constructor(
    readonly opts: GlobalOptions,
    deps: { prompter?: Prompter; env?: NodeJS.ProcessEnv; settings?: Settings } = {},
  ) {
    this.settings = deps.settings ?? {};
    this.out = new Output({ json: opts.json });
    const dir = opts.keystore.startsWith('~/') ? join(homedir(), opts.keystore.slice(2)) : resolve(opts.keystore);
    this.keystore = new Keystore({ ...defaultKeystoreOptions, dir });
    this.prompter = deps.prompter ?? new TtyPrompter();
    this.env = deps.env ?? process.env;
  }

  get rpc(): RpcClient {
    return (this.client ??= new RpcClient({ ...defaultRpcClientOptions, url: this.opts.rpc, ...(this.opts.rpcToken ? { token: this.opts.rpcToken } : {}) }));
  }

  password(label: string, isNew: boolean): Promise<string> {
    return getPassword({ passwordFile: this.opts.passwordFile, env: this.env, prompter: this.prompter }, label, isNew);
  }

  async unlock(name: string): Promise<Ed25519Key> {
    await this.keystore.info(name); // "no key named …" before asking for a password
    return this.keystore.unlock(name, await this.password(`key "${name}"`, false));
  }

  /** --key, or the only key in the keystore. */
  async keyName(): Promise<string> {
    if (this.opts.key !== undefined) return this.opts.key;
    const keys = await this.keystore.list();
    if (keys.length === 1) return keys[0]!.name;
    if (keys.length === 0) throw usage(`no key in ${this.keystore.dir}: create one with metanode-cli keys new NAME, or import one with keys import NAME`);
    throw usage(`${keys.length} keys in the keystore: choose one with --key NAME (see metanode-cli keys list)`);
  }
}

/** The command's options, where a flag or env did not set them, from the saved settings (config.ts). */
export function contextOf(cmd: Command): Context {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const settings = readSettings();
  for (const name of ['rpc', 'key', 'keystore'] as const) {
    const source = cmd.getOptionValueSourceWithGlobals(name);
    if (settings[name] !== undefined && (source === undefined || source === 'default')) opts[name] = settings[name];
  }
  return new Context(opts, { settings });
}
