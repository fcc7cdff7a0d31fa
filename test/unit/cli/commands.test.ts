import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { toHex } from '../../../chain/index.js';
import { ExitCode } from '../../../bin/cli/errors.js';
import { devAddress, devKey, FakeNode } from './fake-node.js';
import { expectFailure, expectSuccess, runCli, type CliResult } from './helpers.js';

/** The whole CLI, as a child process, against a hand-written fake of the node's JSON-RPC. */
describe('cli/commands against a fake node', function () {
  this.timeout(60_000);
  let dir: string;
  let node: FakeNode;
  let env: NodeJS.ProcessEnv;
  let alice = '';
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}, input = ''): Promise<CliResult> => runCli(args, { ...env, ...extra }, input);
  const json = <T>(r: CliResult): T => {
    expectSuccess(r);
    return JSON.parse(r.stdout) as T;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metanode-cli-'));
    node = await FakeNode.start({ [devAddress(0)]: { GEN: 5_000_000n, NEX: 1_000_000_000n, AUR: 300n } });
    env = { METANODE_KEYSTORE: join(dir, 'keys'), METANODE_PASSWORD: 'test-password-1', METANODE_RPC: node.url };
    expectSuccess(await cli(['keys', 'import', 'dev0'], {}, toHex(devKey(0).secret) + '\n'));
    alice = json<{ address: string }>(await cli(['keys', 'new', 'alice', '--json'])).address;
  });
  after(async () => {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists keys, imported and new, without secrets', async () => {
    const r = await cli(['keys', 'list']);
    expectSuccess(r);
    expect(r.stdout).to.match(new RegExp(`^NAME +ADDRESS\\nalice +${alice}\\ndev0 +${devAddress(0)}\\n$`));
    expect(r.stdout + (await cli(['keys', 'show', 'dev0'])).stdout).not.to.include(toHex(devKey(0).secret).slice(2));
  });

  it('shows balances in human units, and base units in --json', async () => {
    const r = await cli(['account', 'dev0']);
    expectSuccess(r);
    expect(r.stdout).to.include(`address  ${devAddress(0)}\nkey      dev0\nnonce    0\n`);
    expect(r.stdout).to.match(/NEX +1000\n/);
    const j = json<{ nonce: number; balances: Record<string, { amount: string; baseUnits: string }> }>(await cli(['account', devAddress(0), '--json']));
    expect(j.balances.GEN).to.deep.equal({ amount: '5', baseUnits: '5000000', decimals: 6 });
    expect(j.balances.AUR).to.deep.equal({ amount: '3', baseUnits: '300', decimals: 2 });
  });

  it('transfers to a key name, waits, and both balances and the receipt agree', async () => {
    const r = await cli(['transfer', '--asset', 'nex', '1.5', 'alice', '--key', 'dev0', '--yes', '--wait', '--json']);
    const sent = json<{ hash: string; fee: string; nonce: number; receipt: { status: string; events: unknown[] } }>(r);
    expect(sent.fee).to.equal('1000');
    expect(sent.nonce).to.equal(0);
    expect(sent.receipt.status).to.equal('success');
    expect(sent.receipt.events).to.have.length(1);
    expect(r.stderr).to.equal('');
    const a = json<{ balances: Record<string, { baseUnits: string }> }>(await cli(['account', 'alice', '--json']));
    expect(a.balances.NEX!.baseUnits).to.equal('1500000');
    const d = json<{ nonce: number; balances: Record<string, { amount: string }> }>(await cli(['account', 'dev0', '--json']));
    expect(d.balances.NEX!.amount).to.equal('998.499');
    expect(d.nonce).to.equal(1);

    const got = await cli(['tx', 'get', sent.hash]);
    expectSuccess(got);
    expect(got.stdout).to.include(`1.5 NEX to ${alice}`);
    expect(got.stdout).to.match(/status +success/);
    const waited = json<{ txHash: string }>(await cli(['tx', 'wait', sent.hash, '--json']));
    expect(waited.txHash).to.equal(sent.hash);
  });

  it('shows a summary, then the hash, for a transfer to an address without --wait', async () => {
    const r = await cli(['transfer', '--asset', 'GEN', '0.25', alice, '--key', 'dev0', '--fee', '2000', '--yes']);
    expectSuccess(r);
    expect(r.stdout).to.include(`to      ${alice} (alice)`);
    expect(r.stdout).to.include('amount  0.25 GEN (250000 base units)');
    expect(r.stdout).to.include('fee     0.002 NEX (2000 base units)');
    expect(r.stdout).to.match(/sent 0x[0-9a-f]{64}\nfollow it with: metanode-cli tx wait 0x/);
  });

  it('shows blocks and the node status', async () => {
    const b = await cli(['block', 'get']);
    expectSuccess(b);
    expect(b.stdout).to.match(/^height +\d+\nhash +0x[0-9a-f]{64}\n/);
    expect(json<{ hash: string }>(await cli(['block', 'get', '1', '--json'])).hash).to.match(/^0x/);
    expectFailure(await cli(['block', 'get', '9999']), ExitCode.NotFound, /^error: no block at height 9999 yet: the head is at \d+$/);
    expectFailure(await cli(['block', 'get', 'nope']), ExitCode.Usage, /is not a block/);
    const s = await cli(['status']);
    expectSuccess(s);
    expect(s.stdout).to.match(/chain id +metanode-test\n/);
    expect(s.stdout).to.include(devAddress(9));
    expect(json<{ chainId: string }>(await cli(['status', '--json'])).chainId).to.equal('metanode-test');
  });

  it('keys new --mnemonic shows 24 words once; keys import --mnemonic of them restores the same address, --index another one', async () => {
    const made = json<{ address: string; mnemonic: string; path: string }>(await cli(['keys', 'new', 'phrase', '--mnemonic', '--json']));
    expect(made.mnemonic.split(' ')).to.have.length(24);
    expect(made.path).to.equal("m/44'/7101'/0'/0'/0'");
    expect((await cli(['keys', 'show', 'phrase'])).stdout, 'the phrase is not kept').to.not.include(made.mnemonic.split(' ')[0] + ' ' + made.mnemonic.split(' ')[1]);
    const elsewhere = { METANODE_KEYSTORE: join(dir, 'restored') };
    const restored = json<{ address: string }>(await cli(['keys', 'import', 'again', '--mnemonic', '--json'], elsewhere, made.mnemonic.toUpperCase().replace(/ /g, '  ') + '\n'));
    expect(restored.address).to.equal(made.address);
    const second = json<{ address: string }>(await cli(['keys', 'import', 'second', '--mnemonic', '--index', '1', '--json'], elsewhere, made.mnemonic + '\n'));
    expect(second.address).to.not.equal(made.address);
    // Twelve valid words whose checksum fails (BIP-39's "abandon … about" with the last word changed).
    expectFailure(await cli(['keys', 'import', 'bad', '--mnemonic'], elsewhere, 'abandon '.repeat(12).trim() + '\n'), ExitCode.Usage, /not a valid BIP-39 mnemonic/);
    expectFailure(await cli(['keys', 'import', 'bad', '--mnemonic'], elsewhere, 'hello world\n'), ExitCode.Usage, /not a valid BIP-39 mnemonic/);
  });

  it('exports a secret only with confirmation, and deletes keys', async () => {
    expectFailure(await cli(['keys', 'export', 'dev0']), ExitCode.Usage, 'error: pass --yes to print the secret of "dev0": there is no terminal to ask for confirmation');
    const r = await cli(['keys', 'export', 'dev0', '--yes']);
    expectSuccess(r);
    expect(r.stdout).to.equal(toHex(devKey(0).secret) + '\n');
    expectSuccess(await cli(['keys', 'new', 'temp']));
    expectSuccess(await cli(['keys', 'delete', 'temp', '--yes']));
    expectFailure(await cli(['keys', 'show', 'temp']), ExitCode.UnknownKey, /no key named temp/);
  });

  it('prints the receipt of a transfer that failed on chain, and exits with TxFailed (43)', async () => {
    node.failTransfers = true;
    try {
      const r = await cli(['transfer', '--asset', 'NEX', '1', 'alice', '--key', 'dev0', '--yes', '--wait', '--json']);
      expectFailure(r, ExitCode.TxFailed, /^error: transaction 0x[0-9a-f]{64} was committed but failed: BANK_INSUFFICIENT_FUNDS: not enough funds \(the fee was still charged\)$/);
      expect((JSON.parse(r.stdout) as { receipt: { status: string } }).receipt.status).to.equal('failed');
    } finally {
      node.failTransfers = false;
    }
  });

  describe('failures: one line on stderr, nothing on stdout, a distinct exit code', () => {
    const fails = async (args: string[], code: number, message: RegExp | string, extra: NodeJS.ProcessEnv = {}): Promise<void> => {
      const r = await cli(args, extra);
      expectFailure(r, code, message);
      expect(r.stdout).to.equal('');
    };
    const send = (...more: string[]): string[] => ['transfer', '--asset', 'NEX', '--key', 'dev0', '--yes', '--json', ...more];

    it('wrong password (22)', () =>
      fails(send('1', 'alice'), ExitCode.WrongPassword, /^error: wrong password for key "dev0": try again/, { METANODE_PASSWORD: 'not-the-password' }));
    it('bad address checksum (30)', () => {
      const typo = alice.slice(0, -1) + (alice.endsWith('q') ? 'p' : 'q');
      return fails(send('1', typo), ExitCode.BadAddress, `error: invalid address ${typo}: bad checksum: check the address for a typo`);
    });
    it('too many decimals (31)', () => fails(send('1.0000001', 'alice'), ExitCode.BadAmount, 'error: amount 1.0000001 has 7 decimals but NEX has 6: use at most 6 decimals'));
    it('node unreachable (10)', () =>
      fails(['status', '--rpc', 'http://127.0.0.1:9'], ExitCode.NodeUnreachable, 'error: cannot reach the node at http://127.0.0.1:9: is it running? start it with npm start or pass --rpc'));
    it('unknown key (20)', () => fails(['account', 'ghost'], ExitCode.UnknownKey, /^error: no key named ghost in .*; see metanode-cli keys list$/));
    it('insufficient funds (40)', () => fails(send('5000', 'alice'), ExitCode.InsufficientFunds, /^error: insufficient funds: dev0 \(mn1\w+\) has [\d.]+ NEX but the transfer needs 5000\.001 NEX \(amount \+ fee\)/));
    it('nonce too low, with the node\'s reason (41)', async () => {
      node.staleNonces = true;
      try {
        await fails(send('1', 'alice'), ExitCode.BadNonce, /^error: the node rejected the transaction: nonce too low: .*\(TX_NONCE_TOO_LOW: /);
      } finally {
        node.staleNonces = false;
      }
    });
    it('no confirmation possible without a terminal (2)', () => fails(['transfer', '--asset', 'NEX', '1', 'alice', '--key', 'dev0'], ExitCode.Usage, 'error: pass --yes to send the transfer: there is no terminal to ask for confirmation'));
    it('unknown asset and bad options (2)', async () => {
      await fails(['transfer', '--asset', 'BTC', '1', 'alice', '--key', 'dev0', '--yes'], ExitCode.Usage, 'error: unknown asset "BTC": this chain has GEN, NEX, FLX, AUR');
      await fails(['transfer', '1', 'alice'], ExitCode.Usage, "error: required option '--asset <symbol>' not specified; see metanode-cli transfer --help");
      await fails(['tx', 'get', '0x12'], ExitCode.Usage, /must be 0x followed by 64 hex digits/);
    });
    it('an unknown transaction (12) and a wait that times out (13)', async () => {
      const h = '0x' + 'ab'.repeat(32);
      await fails(['tx', 'get', h], ExitCode.NotFound, /^error: no committed transaction 0xabab/);
      await fails(['tx', 'wait', h, '--timeout', '0.5'], ExitCode.Timeout, /^error: transaction 0xabab\w+ was not committed within 0.5s/);
    });
  });
});
