import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { checkSetting, configPath, isSettingName, readSettings, SETTINGS, writeSettings, type Settings } from '../config.js';
import { Output, examples, kvTable } from '../output.js';
import { usage } from '../errors.js';

/**
 * The saved settings for set and unset, which must be able to repair a damaged file (every other
 * command refuses one, naming it): a file that does not read keeps its good settings, or none.
 */
function readSettingsToRepair(): Settings {
  try {
    return readSettings();
  } catch {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(configPath(), 'utf8'));
    } catch {
      return {};
    }
    const out: Settings = {};
    if (typeof json === 'object' && json !== null) {
      for (const [k, v] of Object.entries(json)) if (isSettingName(k) && typeof v === 'string' && SETTINGS[k].check(v) === undefined) out[k] = v;
    }
    return out;
  }
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('saved settings (the node URL, the key, the keystore, the light client\'s genesis hash): defaults that flags and env override');
  const out = (cmd: Command): Output => new Output({ json: cmd.optsWithGlobals<{ json: boolean }>().json });

  config.command('set').description('save a setting')
    .argument('<name>', Object.keys(SETTINGS).join(', '))
    .argument('<value>', 'its value')
    .addHelpText('after', examples(['config set rpc http://10.0.0.5:8545', 'config set key alice', 'config set genesis-hash 0x5e0a…']))
    .action((name: string, value: string, _o: object, cmd: Command) => {
      const setting = checkSetting(name, value);
      const settings = readSettingsToRepair();
      settings[setting] = value;
      writeSettings(settings);
      out(cmd).result({ [setting]: value, file: configPath() }, () => `${setting} = ${value} (saved in ${configPath()})`);
    });

  config.command('unset').description('remove a saved setting')
    .argument('<name>', Object.keys(SETTINGS).join(', '))
    .action((name: string, _o: object, cmd: Command) => {
      if (!isSettingName(name)) throw usage(`unknown setting "${name}": the settings are ${Object.keys(SETTINGS).join(', ')}`);
      const settings = readSettingsToRepair();
      delete settings[name];
      writeSettings(settings);
      out(cmd).result({ unset: name, file: configPath() }, () => `${name} unset`);
    });

  config.command('get').alias('show').description('show the saved settings (or one)')
    .argument('[name]', 'one setting')
    .action((name: string | undefined, _o: object, cmd: Command) => {
      const settings = readSettings();
      if (name !== undefined) {
        if (!isSettingName(name)) throw usage(`unknown setting "${name}": the settings are ${Object.keys(SETTINGS).join(', ')}`);
        out(cmd).result({ [name]: settings[name] ?? null }, () => settings[name] ?? `${name} is not set`);
        return;
      }
      out(cmd).result({ file: configPath(), settings }, () =>
        [kvTable(Object.keys(SETTINGS).map((k) => [k, settings[k as keyof typeof SETTINGS] ?? '(not set)'])), '', `file  ${configPath()}`].join('\n'));
    });
}
