import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ExitCode } from '../../../bin/cli/errors.js';
import { CLI, expectFailure, runCli } from './helpers.js';

/** What bash completes after `line` (a trailing space: a new word), with the script metanode-cli prints. */
async function complete(line: string): Promise<string[]> {
  const script = `source <("${process.execPath}" "${CLI}" completion bash)
read -ra COMP_WORDS <<< "$LINE"
[[ "$LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_metanode_cli
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { env: { ...process.env, LINE: line } });
  return stdout.split('\n').filter((w) => w !== '');
}

describe('cli/completion', function () {
  this.timeout(30_000);
  it('bash completes commands, subcommands and options from the command tree', async () => {
    expect(await complete('metanode-cli ke')).to.deep.equal(['keys']);
    expect(await complete('metanode-cli keys ')).to.include.members(['new', 'import', 'rename', 'change-password', '--keystore', '--help']);
    expect(await complete('metanode-cli stake del')).to.deep.equal(['delegate']);
    expect(await complete('metanode-cli --json transfer --dr')).to.deep.equal(['--dry-run']);
    expect(await complete('metanode-cli verify ')).to.include.members(['head', 'tx', 'account']);
    expect(await complete('metanode-cli nosuch ')).to.include('transfer'); // an unknown word leaves the top level
  });

  it('prints zsh through bashcompinit, and refuses another shell (2)', async () => {
    const zsh = await runCli(['completion', 'zsh'], {});
    expect(zsh.code).to.equal(0);
    expect(zsh.stdout).to.match(/^autoload -U \+X bashcompinit && bashcompinit\n/);
    expectFailure(await runCli(['completion', 'fish'], {}), ExitCode.Usage, /completion for "fish" is not available/);
  });
});
