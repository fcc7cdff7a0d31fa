import { expect } from 'chai';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAddress, toHex } from '../../chain/index.js';
import { readValidatorKey } from '../../node/index.js';
import { TestNode, errorLines, freePort, runMetanode, waitFor, type HeadJson, type RunResult } from './harness.js';

const PASSWORD = 'a long validator password';

interface KeyShow {
  address: string;
  encrypted: boolean;
  mode: string;
}

async function show(home: string): Promise<KeyShow> {
  const r = await runMetanode(['keys', 'show', '--home', home, '--json']);
  expect(r.code, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as KeyShow;
}

function startOnce(home: string, args: string[] = [], env: Record<string, string> = {}): Promise<RunResult> {
  return freePort().then((port) => runMetanode(['start', '--home', home, '--rpc-port', String(port), '--p2p-port', '0', '--log-level', 'warn', ...args], 20_000, env));
}

function expectOneLineError(r: RunResult, ...patterns: RegExp[]): void {
  expect(r.code, `stderr: ${r.stderr}\nstdout: ${r.stdout}`).to.equal(1);
  const lines = errorLines(r);
  expect(lines, r.stderr).to.have.length(1);
  for (const p of patterns) expect(lines[0]).to.match(p);
}

/** The node signs blocks with its key: the head moves past `height`, proposed by this validator. */
async function producesBlocks(node: TestNode, address: string): Promise<void> {
  const from = (await node.rpc.call<HeadJson>('chain_getHead')).height;
  await waitFor(`a block after ${from}`, async () => (await node.rpc.call<HeadJson>('chain_getHead')).height > from + 1, 15_000);
  expect((await node.rpc.call<{ validator: string }>('node_status')).validator).to.equal(address);
}

describe('e2e: validator keys at rest', function () {
  this.timeout(120_000);
  let node: TestNode;
  let pwFile: string;
  let address: string;

  before(async () => {
    node = await TestNode.init({ emptyBlockIntervalMs: 200 });
    pwFile = join(node.dir, 'password');
    await writeFile(pwFile, PASSWORD + '\n', { mode: 0o600 });
    address = (await show(node.home)).address;
  });
  after(() => node?.remove());

  it('encrypts a plaintext key in place with metanode keys encrypt; keys show tells, without secrets', async () => {
    const before = await show(node.home);
    expect(before).to.include({ encrypted: false, mode: '0600' });
    const r = await runMetanode(['keys', 'encrypt', '--home', node.home, '--password-file', pwFile]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await show(node.home)).to.include({ encrypted: true, address, mode: '0600' });
    const text = await runMetanode(['keys', 'show', '--home', node.home]);
    expect(text.stdout).to.match(/encrypted: +yes/).and.not.match(/secret/i);
    const again = await runMetanode(['keys', 'encrypt', '--home', node.home, '--password-file', pwFile]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/encrypted already/);
  });

  it('refuses to start without the password, or with a wrong one, naming both ways to give it', async () => {
    const missing = await startOnce(node.home);
    expectOneLineError(missing, /is encrypted/, /--password-file/, /METANODE_KEY_PASSWORD/);
    const wrong = await startOnce(node.home, [], { METANODE_KEY_PASSWORD: 'not the password' });
    expectOneLineError(wrong, /wrong password/, /from METANODE_KEY_PASSWORD/, /--password-file/);
    await writeFile(join(node.dir, 'wrong'), 'nope\n');
    const wrongFile = await startOnce(node.home, ['--password-file', join(node.dir, 'wrong')]);
    expectOneLineError(wrongFile, /wrong password/, /from --password-file/);
  });

  it('starts and signs blocks with the key unlocked by --password-file', async () => {
    await node.start({ args: ['--password-file', pwFile] });
    await producesBlocks(node, address);
    expect(await node.stop()).to.equal(0);
  });

  it('starts and signs blocks with the key unlocked by METANODE_KEY_PASSWORD', async () => {
    await node.start({ env: { METANODE_KEY_PASSWORD: PASSWORD } });
    await producesBlocks(node, address);
    expect(await node.stop()).to.equal(0);
  });

  it('refuses a key file other users can read, with the chmod to run', async () => {
    await chmod(node.paths.validatorKey, 0o644);
    try {
      expectOneLineError(await startOnce(node.home, ['--password-file', pwFile]), /open to other users/, new RegExp(`chmod 600 ${node.paths.validatorKey}`));
    } finally {
      await chmod(node.paths.validatorKey, 0o600);
    }
  });

  it('metanode init --encrypt --password-file writes the key encrypted (0600, folder 0700)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metanode-e2e-'));
    try {
      const home = join(dir, 'home');
      const r = await runMetanode(['init', '--home', home, '--encrypt', '--password-file', pwFile]);
      expect(r.code, r.stderr).to.equal(0);
      const info = await show(home);
      expect(info).to.include({ encrypted: true, mode: '0600' });
      expect((await stat(join(home, 'keys'))).mode & 0o777).to.equal(0o700);
      const key = await readValidatorKey(join(home, 'keys', 'validator.json'), { password: { password: PASSWORD, from: 'test' } });
      expect(formatAddress(key.address)).to.equal(info.address);
      expect(await readFile(join(home, 'keys', 'validator.json'), 'utf8')).not.to.include(toHex(key.ed25519.secret).slice(2));
      expectOneLineError(await startOnce(home), /is encrypted/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
