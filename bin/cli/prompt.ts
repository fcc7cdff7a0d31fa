import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CliError, ExitCode, usage } from './errors.js';

/** Questions to the person at the terminal; tests pass a scripted fake. */
export interface Prompter {
  /** True when stdin and stderr are terminals, so that someone can answer. */
  readonly interactive: boolean;
  hidden(question: string): Promise<string>;
  confirm(question: string): Promise<boolean>;
}

const interrupted = (): CliError => new CliError(ExitCode.Interrupted, 'interrupted: nothing was changed');

/** Prompts on stderr, reads stdin; hidden input is read in raw mode so nothing is echoed. */
export class TtyPrompter implements Prompter {
  get interactive(): boolean {
    return Boolean(process.stdin.isTTY && process.stderr.isTTY);
  }

  hidden(question: string): Promise<string> {
    const stdin = process.stdin;
    process.stderr.write(question);
    return new Promise((resolve, reject) => {
      let value = '';
      const done = (err?: CliError): void => {
        stdin.off('data', onData);
        stdin.setRawMode(false);
        stdin.pause();
        process.stderr.write('\n');
        if (err) reject(err);
        else resolve(value);
      };
      const onData = (chunk: Buffer): void => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return done();
          if (ch === '\u0003') return done(interrupted());
          if (ch === '\u0004' && value === '') return done(interrupted());
          if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
          else if (ch >= ' ') value += ch;
        }
      };
      stdin.setRawMode(true);
      stdin.resume();
      stdin.on('data', onData);
    });
  }

  confirm(question: string): Promise<boolean> {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    return new Promise((resolve, reject) => {
      rl.on('SIGINT', () => {
        rl.close();
        process.stderr.write('\n');
        reject(interrupted());
      });
      rl.question(`${question} [y/N] `, (answer) => {
        rl.close();
        resolve(/^y(es)?$/i.test(answer.trim()));
      });
    });
  }
}

/** Fails early, before any work, when a confirmation will be needed and nobody can give it. */
export function assertConfirmable(prompter: Prompter, o: { yes: boolean; action: string }): void {
  if (!o.yes && !prompter.interactive) throw usage(`pass --yes to ${o.action}: there is no terminal to ask for confirmation`);
}

/** Asks for a yes, or takes --yes; refuses to guess when nobody can answer. */
export async function confirmOrFail(prompter: Prompter, question: string, o: { yes: boolean; action: string }): Promise<void> {
  assertConfirmable(prompter, o);
  if (!o.yes && !(await prompter.confirm(question))) throw new CliError(ExitCode.Cancelled, `cancelled: did not ${o.action}`);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw usage(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export interface PasswordSources {
  passwordFile?: string | undefined;
  env: NodeJS.ProcessEnv;
  prompter: Prompter;
}

export const MIN_PASSWORD_LENGTH = 8;

/**
 * The password, from (in order) --password-file, METANODE_PASSWORD, or a prompt without echo.
 * `isNew` asks twice on a prompt and enforces a minimum length.
 */
export async function getPassword(src: PasswordSources, label: string, isNew: boolean): Promise<string> {
  let pw: string;
  if (src.passwordFile !== undefined) pw = (await readSecretFile(src.passwordFile, '--password-file')).replace(/\r?\n$/, '');
  else if (src.env.METANODE_PASSWORD !== undefined && src.env.METANODE_PASSWORD !== '') pw = src.env.METANODE_PASSWORD;
  else if (src.prompter.interactive) {
    pw = await src.prompter.hidden(`${isNew ? 'New password' : 'Password'} for ${label}: `);
    if (isNew && pw.length >= MIN_PASSWORD_LENGTH && (await src.prompter.hidden('Repeat the password: ')) !== pw) {
      throw new CliError(ExitCode.WrongPassword, 'the two passwords differ: run the command again');
    }
  } else {
    throw usage(`a password is needed for ${label} and there is no terminal to ask: set METANODE_PASSWORD or pass --password-file FILE`);
  }
  if (pw === '') throw usage(`empty password for ${label}: type one, or fix METANODE_PASSWORD / --password-file`);
  if (isNew && pw.length < MIN_PASSWORD_LENGTH) throw usage(`the password for ${label} is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  return pw;
}
