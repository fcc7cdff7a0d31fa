import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CliError } from '../../../bin/cli/errors.js';

/** Expects `p` to reject with a CliError carrying `code`; returns it for message checks. */
export async function rejectsWith(p: Promise<unknown>, code: number): Promise<CliError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(CliError);
    expect((e as CliError).exitCode, (e as Error).message).to.equal(code);
    return e as CliError;
  }
  return expect.fail(`expected a CliError with exit code ${code}`);
}

export const CLI = fileURLToPath(new URL('../../../bin/metanode-cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a child process (never blocking this process: a fake node may be serving in it). */
/** No saved settings unless a test names a file: a developer's ~/.metanode-cli/config.json must not change a test. */
const NO_SETTINGS = '/nonexistent-metanode-cli/config.json';

export function runCli(args: string[], env: NodeJS.ProcessEnv, input = '', cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, METANODE_CLI_CONFIG: NO_SETTINGS, ...env }, stdio: 'pipe', ...(cwd ? { cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A failed run: the exit code and exactly one line on stderr matching `message`. */
export function expectFailure(r: CliResult, code: number, message: RegExp | string): void {
  expect(r.code, `stderr: ${r.stderr}`).to.equal(code);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).to.have.length(1);
  if (typeof message === 'string') expect(lines[0]).to.equal(message);
  else expect(lines[0]).to.match(message);
}

export function expectSuccess(r: CliResult): void {
  expect(r.code, `stderr: ${r.stderr}`).to.equal(0);
}
