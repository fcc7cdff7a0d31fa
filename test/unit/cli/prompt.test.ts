import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ExitCode } from '../../../bin/cli/errors.js';
import { confirmOrFail, getPassword, type Prompter } from '../../../bin/cli/prompt.js';
import { rejectsWith } from './helpers.js';

/** A scripted terminal: answers hidden prompts and confirmations in order. */
class ScriptedPrompter implements Prompter {
  readonly asked: string[] = [];
  constructor(readonly interactive: boolean, private readonly answers: (string | boolean)[] = []) {}
  async hidden(q: string): Promise<string> {
    this.asked.push(q);
    return String(this.answers.shift());
  }
  async confirm(q: string): Promise<boolean> {
    this.asked.push(q);
    return this.answers.shift() === true;
  }
}

describe('cli/prompt', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'metanode-pw-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it('takes --password-file first (without its trailing newline), then METANODE_PASSWORD, then the prompt', async () => {
    const file = join(dir, 'pw');
    await writeFile(file, 'from-the-file\n');
    const p = new ScriptedPrompter(true, ['typed-password']);
    expect(await getPassword({ passwordFile: file, env: { METANODE_PASSWORD: 'from-env-1' }, prompter: p }, 'k', false)).to.equal('from-the-file');
    expect(await getPassword({ env: { METANODE_PASSWORD: 'from-env-1' }, prompter: p }, 'k', false)).to.equal('from-env-1');
    expect(await getPassword({ env: {}, prompter: p }, 'k', false)).to.equal('typed-password');
    expect(p.asked).to.deep.equal(['Password for k: ']);
  });

  it('asks twice for a new password and fails when the two differ (22)', async () => {
    await rejectsWith(getPassword({ env: {}, prompter: new ScriptedPrompter(true, ['password-one', 'password-two']) }, 'k', true), ExitCode.WrongPassword);
    expect(await getPassword({ env: {}, prompter: new ScriptedPrompter(true, ['password-one', 'password-one']) }, 'k', true)).to.equal('password-one');
  });

  it('refuses short new passwords, and missing ones without a terminal (2)', async () => {
    await rejectsWith(getPassword({ env: { METANODE_PASSWORD: 'short' }, prompter: new ScriptedPrompter(false) }, 'k', true), ExitCode.Usage);
    const e = await rejectsWith(getPassword({ env: {}, prompter: new ScriptedPrompter(false) }, 'k', false), ExitCode.Usage);
    expect(e.message).to.match(/set METANODE_PASSWORD or pass --password-file FILE/);
    await rejectsWith(getPassword({ passwordFile: join(dir, 'missing'), env: {}, prompter: new ScriptedPrompter(false) }, 'k', false), ExitCode.Usage);
  });

  it('confirms with --yes, a yes, or fails: cancelled (3) or no terminal (2)', async () => {
    await confirmOrFail(new ScriptedPrompter(false), 'Go?', { yes: true, action: 'go' });
    await confirmOrFail(new ScriptedPrompter(true, [true]), 'Go?', { yes: false, action: 'go' });
    await rejectsWith(confirmOrFail(new ScriptedPrompter(true, [false]), 'Go?', { yes: false, action: 'go' }), ExitCode.Cancelled);
    await rejectsWith(confirmOrFail(new ScriptedPrompter(false), 'Go?', { yes: false, action: 'go' }), ExitCode.Usage);
  });
});
