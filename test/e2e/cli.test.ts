import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { blake3 } from '@noble/hashes/blake3.js';
import { expect } from 'chai';
import { addressFromPublicKey, Ed25519Key, formatAddress, toHex, utf8 } from '../../chain/index.js';
import { ExitCode } from '../../bin/cli/errors.js';
import { expectFailure, expectSuccess, runCli, type CliResult } from '../unit/cli/helpers.js';

const NODE_BIN = fileURLToPath(new URL('../../bin/metanode.js', import.meta.url));
const dev0 = Ed25519Key.fromSecret(blake3(utf8('metanode-dev-account-0')));
const dev0Address = formatAddress(addressFromPublicKey(dev0.publicKey));
const devAddress2 = formatAddress(addressFromPublicKey(Ed25519Key.fromSecret(blake3(utf8('metanode-dev-account-2'))).publicKey));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function runNodeOut(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [NODE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject).on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function runNode(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [NODE_BIN, ...args], { stdio: 'ignore' });
    p.on('error', reject).on('close', resolve);
  });
}

type Balances = Record<string, { amount: string; baseUnits: string }>;

/** metanode-cli as people use it, against a real single-validator dev node. */
describe('e2e: metanode-cli against a dev node', function () {
  this.timeout(120_000);
  let dir: string;
  let node: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}, input = ''): Promise<CliResult> => runCli(args, { ...env, ...extra }, input);
  const json = <T>(r: CliResult): T => {
    expectSuccess(r);
    return JSON.parse(r.stdout) as T;
  };
  const balances = async (who: string): Promise<Balances> => json<{ balances: Balances }>(await cli(['account', who, '--json'])).balances;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metanode-e2e-cli-'));
    const home = join(dir, 'node');
    expect(await runNode(['init', '--home', home, '--dev']), 'metanode init --dev').to.equal(0);
    const port = await freePort();
    node = spawn(process.execPath, [NODE_BIN, 'start', '--home', home, '--rpc-port', String(port)], { stdio: 'ignore' });
    env = { METANODE_RPC: `http://127.0.0.1:${port}`, METANODE_KEYSTORE: join(dir, 'keys'), METANODE_PASSWORD: 'e2e-password-1' };
    for (let i = 0; ; i++) {
      const r = await cli(['status', '--json']);
      if (r.code === 0 && (JSON.parse(r.stdout) as { head: { height: number } }).head.height >= 0) break;
      if (i > 100 || node.exitCode !== null) throw new Error(`the node did not start: ${r.stderr}`);
      await sleep(200);
    }
  });

  after(async () => {
    if (node && node.exitCode === null) {
      const exited = new Promise((r) => node!.once('exit', r));
      node.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => node!.kill('SIGKILL'))]);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key, funds it from a dev account, and both balances and the receipt agree', async () => {
    const imported = json<{ address: string }>(await cli(['keys', 'import', 'dev0', '--json'], {}, toHex(dev0.secret) + '\n'));
    expect(imported.address).to.equal(dev0Address);
    const alice = json<{ address: string }>(await cli(['keys', 'new', 'alice', '--json'])).address;
    expect(alice).to.match(/^mn1/);

    const before = await balances('dev0');
    const sent = json<{ hash: string; fee: string; receipt: { status: string; txHash: string; fee: string } }>(
      await cli(['transfer', '--asset', 'NEX', '1.5', 'alice', '--key', 'dev0', '--yes', '--wait', '--json']),
    );
    expect(sent.hash).to.match(/^0x[0-9a-f]{64}$/);
    expect(sent.receipt.txHash).to.equal(sent.hash);
    expect(sent.receipt.status).to.equal('success');

    const fee = BigInt(sent.receipt.fee);
    expect((await balances(alice)).NEX!.baseUnits).to.equal('1500000');
    expect(BigInt((await balances('dev0')).NEX!.baseUnits)).to.equal(BigInt(before.NEX!.baseUnits) - 1_500_000n - fee);

    const got = json<{ transaction: { from: string; nonce: number }; receipt: { status: string } }>(await cli(['tx', 'get', sent.hash, '--json']));
    expect(got.transaction.from).to.equal(dev0Address);
    expect(got.receipt.status).to.equal('success');
    const waited = await cli(['tx', 'wait', sent.hash]);
    expectSuccess(waited);
    expect(waited.stdout).to.match(/status +success/);
  });

  it('sends from the new key back to an address, with human output', async () => {
    const r = await cli(['transfer', '--asset', 'NEX', '0.5', dev0Address, '--key', 'alice', '--yes', '--wait']);
    expectSuccess(r);
    expect(r.stdout).to.include('amount  0.5 NEX (500000 base units)');
    expect(r.stdout).to.match(/status +success/);
    const account = json<{ nonce: number }>(await cli(['account', 'alice', '--json']));
    expect(account.nonce).to.equal(1);
  });

  it('prints one parseable JSON document for status, blocks and keys', async () => {
    const s = json<{ chainId: string; head: { height: number } }>(await cli(['status', '--json']));
    expect(s.chainId).to.be.a('string').and.not.equal('');
    const b = json<{ height: number; hash: string }>(await cli(['block', 'get', 'latest', '--json']));
    expect(b.height).to.be.at.least(1);
    expect(json<{ height: number }>(await cli(['block', 'get', b.hash, '--json'])).height).to.equal(b.height);
    expect(json<{ name: string }[]>(await cli(['keys', 'list', '--json'])).map((k) => k.name)).to.deep.equal(['alice', 'dev0']);
  });

  it('fails with the right message and exit code', async () => {
    const send = (amount: string, to: string): string[] => ['transfer', '--asset', 'NEX', amount, to, '--key', 'dev0', '--yes'];
    expectFailure(await cli(send('1', 'alice'), { METANODE_PASSWORD: 'not-the-password' }), ExitCode.WrongPassword, /^error: wrong password for key "dev0"/);
    const typo = dev0Address.slice(0, -1) + (dev0Address.endsWith('q') ? 'p' : 'q');
    expectFailure(await cli(send('1', typo)), ExitCode.BadAddress, `error: invalid address ${typo}: bad checksum: check the address for a typo`);
    expectFailure(await cli(send('1.0000001', 'alice')), ExitCode.BadAmount, 'error: amount 1.0000001 has 7 decimals but NEX has 6: use at most 6 decimals');
    const port = await freePort();
    expectFailure(
      await cli(['account', 'dev0', '--rpc', `http://127.0.0.1:${port}`]),
      ExitCode.NodeUnreachable,
      `error: cannot reach the node at http://127.0.0.1:${port}: is it running? start it with npm start or pass --rpc`,
    );
    expectFailure(await cli(['account', 'ghost']), ExitCode.UnknownKey, /^error: no key named ghost in .*; see metanode-cli keys list$/);
    expectFailure(await cli(send('999999999', 'alice')), ExitCode.InsufficientFunds, /^error: insufficient funds: dev0 /);
  });
  it('docklock: deploys a job, runs it in consensus, shows it, and metanode docklock verify --rpc re-executes it: match', async () => {
    const wasm = fileURLToPath(new URL('../../../examples/jobs/sha256.wasm', import.meta.url));
    const deployed = json<{ hash: string; program: string; receipt: { status: string } }>(await cli(['docklock', 'deploy', wasm, '--key', 'dev0', '--yes', '--wait', '--json']));
    expect(deployed.receipt.status).to.equal('success');
    expect(json<{ id: string; bytes: number }>(await cli(['docklock', 'program', wasm, '--json'])).id).to.equal(deployed.program);
    const ran = json<{ hash: string; receipt: { status: string } }>(await cli(['docklock', 'run', deployed.program, '--input', '0x616263', '--fuel', '1000000', '--key', 'dev0', '--yes', '--wait', '--json']));
    expect(ran.receipt.status).to.equal('success');
    const j = json<{ output: string; receipt: { status: string; fuelUsed: number } }>(await cli(['docklock', 'job', ran.hash, '--json']));
    expect(j.output).to.equal('0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'); // SHA-256("abc")
    expect(j.receipt.status).to.equal('ok');
    const human = await cli(['docklock', 'job', ran.hash]);
    expect(human.stdout).to.match(/status +ok/);
    const verify = await runNodeOut(['docklock', 'verify', '--rpc', env.METANODE_RPC!, '--job', ran.hash]);
    expect(verify.code, verify.stderr).to.equal(0);
    expect(verify.stdout).to.match(/^match/);
  });

  it('docklock: a refused program is refused before it is sent, with the reason; a receipt signed by a node key verifies, an altered input does not', async () => {
    const simd = join(dir, 'simd.wasm');
    // (module (func (export "run") v128.const i64x2 0 0 drop)), compiled by wabt: a SIMD instruction.
    await writeFile(simd, Buffer.from('0061736d01000000010401600000030201000707010372756e00000a17011500fd0c000000000000000000000000000000001a0b', 'hex'));
    expectFailure(await cli(['docklock', 'deploy', simd, '--key', 'dev0', '--yes']), ExitCode.Usage, /SIMD/);
    const wasm = fileURLToPath(new URL('../../../examples/jobs/hostcalls.wasm', import.meta.url));
    const out = join(dir, 'receipt.json');
    const keyFile = join(dir, 'node', 'keys', 'validator.json');
    const run = await runNodeOut(['docklock', 'run', '--program', wasm, '--input', '0x0102', '--fuel', '100000', '--clock', '42', '--key', keyFile, '--out', out]);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout) as { status: string; output: string; logs: string[]; receipt: { signature: string | null; executor: string | null } };
    expect(result.status).to.equal('ok');
    expect(result.output.slice(0, 6)).to.equal('0x0201'); // the input reversed first
    expect(result.logs).to.deep.equal(['hostcalls: 2 bytes']);
    expect(result.receipt.signature).to.match(/^0x[0-9a-f]{128}$/);
    const good = await runNodeOut(['docklock', 'verify', out, '--program', wasm, '--input', '0x0102']);
    expect(good.code, good.stderr).to.equal(0);
    expect(good.stdout).to.match(/^match.*signature: valid/);
    const bad = await runNodeOut(['docklock', 'verify', out, '--program', wasm, '--input', '0x0103', '--json']);
    expect(bad.code).to.equal(1);
    expect((JSON.parse(bad.stdout) as { differences: { field: string }[] }).differences.map((d) => d.field)).to.deep.equal(['inputHash', 'outputHash']); // the witness names positions, not bytes: same length, same witness
  });

  it('a dry run (--dry-run) prints the receipt a transfer would get, asks no password and sends nothing; --nonce sets the nonce; one that would fail exits 43', async () => {
    const before = await balances('alice');
    const nonce = json<{ nonce: number }>(await cli(['account', 'dev0', '--json'])).nonce;
    const dry = json<{ dryRun: boolean; nonce: number; receipt: { status: string; events: { type: string; attributes: Record<string, string> }[] } }>(
      await cli(['transfer', '--asset', 'NEX', '0.25', 'alice', '--key', 'dev0', '--dry-run', '--json'], { METANODE_PASSWORD: '' }),
    );
    expect(dry).to.include({ dryRun: true, nonce });
    expect(dry.receipt.status).to.equal('success');
    expect(dry.receipt.events.find((e) => e.type === 'transfer')!.attributes).to.include({ amount: '250000', asset: 'NEX' });
    expect(await balances('alice'), 'nothing was sent').to.deep.equal(before);
    const ahead = json<{ nonce: number }>(await cli(['transfer', '--asset', 'NEX', '0.25', 'alice', '--key', 'dev0', '--dry-run', '--nonce', String(nonce + 3), '--json']));
    expect(ahead.nonce).to.equal(nonce + 3);
    const human = await cli(['transfer', '--asset', 'NEX', '0.25', 'alice', '--key', 'dev0', '--dry-run']);
    expectSuccess(human);
    expect(human.stdout).to.match(/it would succeed \(nothing was sent\)/);
    expect(human.stdout).to.match(/bank\/transfer .*amount=0\.25 NEX \(250000\)/);
    const aliceGen = BigInt(before.GEN?.baseUnits ?? '0');
    expectFailure(await cli(['transfer', '--asset', 'GEN', String(aliceGen + 1n), 'dev0', '--key', 'alice', '--dry-run']), ExitCode.TxFailed, /^error: the dry run failed: BANK_INSUFFICIENT_FUNDS/);
    expectFailure(await cli(['transfer', '--asset', 'NEX', '1', 'alice', '--key', 'dev0', '--dry-run', '--wait']), ExitCode.Usage, /--wait waits for a transaction that is sent/);
  });

  it('offline signing: --generate-only writes the unsigned transaction with no password, tx sign signs it with no node, tx send broadcasts it later', async () => {
    const unsigned = join(dir, 'unsigned.json');
    const signed = join(dir, 'signed.json');
    const before = BigInt((await balances('alice')).NEX!.baseUnits);
    expectSuccess(await cli(['transfer', '--asset', 'NEX', '0.5', 'alice', '--key', 'dev0', '--generate-only', unsigned], { METANODE_PASSWORD: '' }));
    // The signing machine: its own keystore holding dev0, and no node anywhere.
    const offline = { METANODE_KEYSTORE: join(dir, 'offline-keys'), METANODE_RPC: 'http://127.0.0.1:1' };
    expectSuccess(await cli(['keys', 'import', 'cold'], offline, toHex(dev0.secret) + '\n'));
    // The signing machine shows what the payload does, not what the file's summary claims.
    const file0 = JSON.parse(await readFile(unsigned, 'utf8')) as { summary: Record<string, unknown>; from: string };
    await writeFile(unsigned, JSON.stringify({ ...file0, summary: { ...file0.summary, amount: '0.000001', baseUnits: '1' } }));
    const lying = join(dir, 'lying.json');
    await writeFile(lying, JSON.stringify({ ...file0, from: devAddress2 }));
    expectFailure(await cli(['tx', 'sign', lying, '--yes'], offline), ExitCode.Usage, /its sender key is .*: the file was changed/);
    const sign = await cli(['tx', 'sign', unsigned, '--out', signed, '--yes', '--json'], offline);
    expect(sign.stderr).to.match(/amount +500000/);
    expect(sign.stderr).to.not.match(/baseUnits/);
    const { hash } = json<{ hash: string }>(sign);
    expect(hash).to.match(/^0x[0-9a-f]{64}$/);
    expect(BigInt((await balances('alice')).NEX!.baseUnits), 'signing sent nothing').to.equal(before);
    // A signed file that was changed is refused before it is sent.
    const tampered = join(dir, 'tampered.json');
    const file = JSON.parse(await readFile(signed, 'utf8')) as { raw: string };
    await writeFile(tampered, JSON.stringify({ ...file, raw: file.raw.slice(0, -2) + (file.raw.endsWith('00') ? '01' : '00') }));
    expectFailure(await cli(['tx', 'send', tampered]), ExitCode.Usage, /signature does not verify/);
    const sent = json<{ hash: string; receipt: { status: string } }>(await cli(['tx', 'send', signed, '--wait', '--json']));
    expect(sent).to.deep.include({ hash });
    expect(sent.receipt.status).to.equal('success');
    expect(BigInt((await balances('alice')).NEX!.baseUnits) - before).to.equal(500_000n);
    expectFailure(await cli(['tx', 'send', signed]), ExitCode.BadNonce, /TX_NONCE_TOO_LOW/); // committed: its nonce is used
  });

  it('account txs pages an account\'s history, newest first, by its cursor', async () => {
    const first = json<{ transactions: { hash: string; blockHeight: number }[]; next: string | null }>(await cli(['account', 'txs', 'dev0', '--limit', '2', '--json']));
    expect(first.transactions).to.have.length(2);
    expect(first.next).to.be.a('string');
    const second = json<{ transactions: { hash: string; blockHeight: number }[] }>(await cli(['account', 'txs', 'dev0', '--limit', '2', '--before', first.next!, '--json']));
    expect(second.transactions.length).to.be.at.least(1);
    expect(second.transactions.map((t) => t.hash)).to.not.include.members(first.transactions.map((t) => t.hash));
    expect(second.transactions[0]!.blockHeight).to.be.at.most(first.transactions[1]!.blockHeight);
    const human = await cli(['account', 'txs', 'dev0', '--limit', '1']);
    expect(human.stdout).to.match(/^HEIGHT +TIME +HASH +KIND +STATUS\n/);
    expect(human.stdout).to.match(/more: metanode-cli account txs dev0 --limit 1 --before \S+/);
    expectFailure(await cli(['account', 'txs', '--limit', '0']), ExitCode.Usage, /--limit "0" must be a whole number from 1 to 100/);
  });

  it('rpc calls any method with JSON or text parameters; version shows the CLI\'s and the node\'s', async () => {
    const block = json<{ height: number }>(await cli(['rpc', 'chain_getBlockByHeight', '1', 'false']));
    expect(block.height).to.equal(1);
    const account = json<{ address: string }>(await cli(['rpc', 'state_getAccount', '--params', JSON.stringify([dev0Address, 'latest'])]));
    expect(account.address).to.equal(dev0Address);
    expectFailure(await cli(['rpc', 'no_suchMethod']), ExitCode.NodeError, /does not support no_suchMethod/);
    const v = json<{ cli: string; node: { version: string } | null }>(await cli(['version', '--json']));
    expect(v.cli).to.match(/^\d+\.\d+\.\d+/);
    expect(v.node!.version).to.be.a('string');
    expect(json<{ node: null }>(await cli(['version', '--json', '--rpc', 'http://127.0.0.1:1'])).node).to.equal(null);
    expect((await cli(['transfer', '--help'])).stdout, '--help on a subcommand shows the global options').to.match(/Global Options:[\s\S]*--rpc <url>/);
  });

  it('keys rename and keys change-password: the old password stops working, the new one opens the key', async () => {
    const keys = { METANODE_KEYSTORE: join(dir, 'rename-keys') };
    expectSuccess(await cli(['keys', 'new', 'bot'], keys));
    const address = json<{ address: string }>(await cli(['keys', 'show', 'bot', '--json'], keys)).address;
    expectSuccess(await cli(['keys', 'rename', 'bot', 'bot2'], keys));
    expectFailure(await cli(['keys', 'show', 'bot'], keys), ExitCode.UnknownKey, /no key named bot/);
    expect(json<{ address: string }>(await cli(['keys', 'show', 'bot2', '--json'], keys)).address).to.equal(address);
    expectSuccess(await cli(['keys', 'change-password', 'bot2'], { ...keys, METANODE_NEW_PASSWORD: 'another-password-2' }));
    expectFailure(await cli(['keys', 'export', 'bot2', '--yes'], keys), ExitCode.WrongPassword, /wrong password/);
    expect(json<{ address: string }>(await cli(['keys', 'export', 'bot2', '--yes', '--json'], { ...keys, METANODE_PASSWORD: 'another-password-2' })).address).to.equal(address);
  });

  it('config set saves defaults that flags and env override; verify proves the head, a transaction and an account from the trusted genesis, and refuses another genesis (50)', async () => {
    const settings = { METANODE_CLI_CONFIG: join(dir, 'settings', 'config.json') };
    const genesis = json<{ hash: string }>(await cli(['block', 'get', '0', '--json'])).hash;
    expectSuccess(await cli(['config', 'set', 'rpc', env.METANODE_RPC!], settings));
    expectSuccess(await cli(['config', 'set', 'genesis-hash', genesis], settings));
    expectSuccess(await cli(['config', 'set', 'key', 'dev0'], settings));
    expectFailure(await cli(['config', 'set', 'rpc', 'localhost'], settings), ExitCode.Usage, /rpc must be an http:\/\/ or https:\/\/ URL/);
    expectFailure(await cli(['config', 'set', 'colour', 'blue'], settings), ExitCode.Usage, /unknown setting "colour"/);
    expect(json<{ settings: Record<string, string> }>(await cli(['config', 'get', '--json'], settings)).settings).to.deep.equal({ rpc: env.METANODE_RPC, 'genesis-hash': genesis, key: 'dev0' });
    // Without METANODE_RPC the saved rpc is used; the saved key too.
    const { METANODE_RPC: _rpc, ...withoutRpc } = env;
    const head = json<{ verified: boolean; height: number; hash: string }>(await runCli(['verify', 'head', '--json'], { ...withoutRpc, ...settings }));
    expect(head.verified).to.equal(true);
    const block = json<{ hash: string }>(await cli(['block', 'get', String(head.height), '--json']));
    expect(head.hash).to.equal(block.hash);
    const last = json<{ transactions: { hash: string }[] }>(await cli(['account', 'txs', 'dev0', '--limit', '1', '--json'])).transactions[0]!.hash;
    const tx = json<{ verified: boolean; from: string; receipt: { status: string; txHash: string } }>(await cli(['verify', 'tx', last, '--json'], settings));
    expect(tx).to.include({ verified: true, from: dev0Address });
    expect(tx.receipt).to.include({ status: 'success', txHash: last });
    const proved = json<{ address: string; nonce: number; balances: Record<string, string> }>(await cli(['verify', 'account', '--json'], settings));
    const told = json<{ nonce: number; balances: Record<string, { baseUnits: string }> }>(await cli(['account', 'dev0', '--json']));
    expect(proved.address).to.equal(dev0Address);
    expect(proved.nonce).to.equal(told.nonce);
    expect(proved.balances.NEX).to.equal(told.balances.NEX!.baseUnits);
    // A flag beats the saved setting: a genesis that is not this chain's is refused.
    expectFailure(await cli(['verify', 'head', '--genesis-hash', '0x' + '11'.repeat(32)], settings), ExitCode.NotVerified, /did not verify \(trust anchor\)/);
    expectFailure(await cli(['verify', 'head']), ExitCode.Usage, /needs the genesis hash you trust/);
    // From a later trusted header instead of genesis.
    const one = json<{ hash: string }>(await cli(['block', 'get', '1', '--json'])).hash;
    expect(json<{ verified: boolean }>(await cli(['verify', 'head', '--trusted', `1:${one}`, '--json'])).verified).to.equal(true);
    expectFailure(await cli(['verify', 'head', '--trusted', `2:${one}`]), ExitCode.NotVerified, /trust anchor/);
    expectFailure(await cli(['verify', 'head', '--trusted', 'one']), ExitCode.Usage, /must be HEIGHT:HASH/);
    expectSuccess(await cli(['config', 'unset', 'key'], settings));
    expect(json<{ key: string | null }>(await cli(['config', 'get', 'key', '--json'], settings)).key).to.equal(null);
  });
});
