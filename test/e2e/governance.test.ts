/**
 * Governance across processes, against a real 4-validator network and through metanode-cli: a
 * GEN holder bonds stake, submits proposals (`gov propose`), votes (`gov vote`), and the chain
 * tallies and executes them by itself at the end of their voting periods: a raised minimum fee
 * that the mempool and every validator apply from the next block on; a treasury spend that pays
 * out; and a parameter change that was valid when proposed but would leave staking's set invalid
 * when it comes to execute (another proposal changed a related field first), which fails with
 * its reason on chain and changes nothing. The chain is permissioned: a fifth node, outside the
 * genesis set, cannot bond until a proposal puts its organisation on the roster (with the identity
 * its operator printed with `metanode keys identity`); then it bonds and signs. Last, an upgrade
 * plan halts all five nodes before its height with `UPGRADE "v2" NEEDED at height H` and exit code
 * 5 (the same binary started again halts again), and they run on past it when restarted as a
 * release that knows v2 (fixtures/upgrade-v2.ts).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { toHex } from '../../chain/index.js';
import { expectSuccess, runCli, type CliResult } from '../unit/cli/helpers.js';
import { devAddress, devKey, rawHex, runMetanode, signTransfer, getAccount, waitFor, type BlockJson } from './harness.js';
import { Testnet } from './testnet-harness.js';

const UPGRADE_V2 = fileURLToPath(new URL('./fixtures/upgrade-v2.js', import.meta.url));

/**
 * Short periods: 200 blocks of voting is ~40 s at this network's 200 ms empty-block interval (less
 * when blocks carry transactions), room for a dozen CLI calls; 40 for an emergency.
 */
const GOV = { depositPeriodBlocks: '50', votingPeriodBlocks: '200', emergencyVotingBlocks: '40', minDeposit: '1000000000' };

interface ProposalJson {
  id: number;
  status: string;
  reason: string;
  votingEnd: number;
  endHeight: number;
  tally: Record<string, string>;
}

describe('e2e: governance across processes (proposals executed by the chain)', function () {
  this.timeout(240_000);
  let net: Testnet;
  let dir: string;
  let failed = false;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], input = ''): Promise<CliResult> => runCli(args, env, input);
  const rpc = () => net.nodes[0]!.rpc;
  const proposal = (id: number) => rpc().call<ProposalJson>('module_query', ['court', 'proposal', { id }]);
  const ended = (id: number) => waitFor(`proposal ${id} to end`, async () => {
    const p = await proposal(id);
    return p.status !== 'voting' && p.status !== 'deposit' ? p : undefined;
  }, 90_000, 250);
  const ids: Record<string, number> = {};
  let spent = 0n;
  let recipientBefore = 0n;

  before(async () => {
    net = await Testnet.create({ validators: 5, genesisValidators: 4, permissioned: true, devAccounts: 3, consensus: { emptyBlockIntervalMs: 200 }, courtParams: GOV });
    await net.startAll();
    await net.waitForHeight(2);
    dir = await mkdtemp(join(tmpdir(), 'metanode-e2e-gov-'));
    env = { METANODE_RPC: `http://127.0.0.1:${net.nodes[0]!.rpcPort}`, METANODE_KEYSTORE: join(dir, 'keys'), METANODE_PASSWORD: 'e2e-password-1' };
    expectSuccess(await cli(['keys', 'import', 'alice'], toHex(devKey(0).secret) + '\n'));
    expectSuccess(await cli(['keys', 'import', 'acme'], toHex(devKey(1).secret) + '\n'));
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    if (failed && net) console.log(`      kept the testnet and its logs (node*/node.log) in ${net.dir}`);
    await net?.remove(failed);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const submitted = (r: CliResult): number => {
    expectSuccess(r);
    const out = JSON.parse(r.stdout) as { receipt: { status: string; events: { module: string; type: string; attributes: Record<string, string> | [string, string][] }[] } };
    expect(out.receipt.status).to.equal('success');
    const e = out.receipt.events.find((x) => x.module === 'court' && x.type === 'proposal_submitted')!;
    const attrs = Array.isArray(e.attributes) ? Object.fromEntries(e.attributes) : e.attributes;
    return Number(attrs.id);
  };

  it('gov propose: four proposals with their deposits, voting at once (the deposit reaches the minimum)', async () => {
    // Alice bonds 1,000 GEN to validator 0 (each genesis validator bonds 1): her vote alone is past quorum and threshold.
    expectSuccess(await cli(['stake', 'delegate', net.nodes[0]!.address, '1000', '--key', 'alice', '--yes', '--wait']));
    const propose = (kind: string, extra: string[], title: string) => cli(['gov', 'propose', kind, ...extra, '--title', title, '--deposit', '1000', '--key', 'alice', '--yes', '--wait', '--json']);
    ids.fee = submitted(await propose('params', ['--set', 'bank.minFee=2000'], 'Raise the minimum fee'));
    ids.validators = submitted(await propose('params', ['--set', 'staking.maxValidators=200'], 'More validators'));
    ids.candidates = submitted(await propose('params', ['--set', 'staking.maxCandidates=150'], 'Fewer candidates'));
    const treasury = (await rpc().call<{ module: string; address: string }[]>('module_query', ['bank', 'module_accounts'])).find((a) => a.module === 'treasury')!.address;
    spent = BigInt((await getAccount(rpc(), treasury)).balances.NEX!);
    expect(spent > 0n, 'the treasury has received its community tax').to.equal(true);
    recipientBefore = BigInt((await getAccount(rpc(), devAddress(2))).balances.NEX!);
    ids.spend = submitted(await propose('spend', ['--pay', `${devAddress(2)}:NEX:${(Number(spent) / 1e6).toFixed(6)}`], 'Pay the auditors'));
    for (const id of Object.values(ids)) expect((await proposal(id)).status).to.equal('voting');
    const list = await cli(['gov', 'proposals']);
    expectSuccess(list);
    expect(list.stdout).to.match(new RegExp(`#${ids.fee}\\s+voting\\s+params\\s+Raise the minimum fee`));
  });

  it('gov vote: alice votes yes on all four; gov show has the live tally', async () => {
    for (const id of Object.values(ids)) expectSuccess(await cli(['gov', 'vote', String(id), 'yes', '--key', 'alice', '--yes', '--wait']));
    const show = await cli(['gov', 'show', String(ids.fee), '--json']);
    expectSuccess(show);
    expect(JSON.parse(show.stdout)).to.deep.include({ status: 'voting', wouldPass: true });
  });

  it('a passed parameter change is executed in its end-block: from the next block the mempool refuses the old minimum fee', async () => {
    const p = await ended(ids.fee!);
    expect(p).to.include({ status: 'passed', reason: '' });
    expect(p.endHeight).to.equal(p.votingEnd);
    expect(await rpc().call('module_query', ['bank', 'params'])).to.deep.include({ minFee: '2000' });
    // The state of the block before still had the old fee (read at a recent height).
    expect(await rpc().call('module_query', ['bank', 'params', {}, p.endHeight - 1])).to.deep.include({ minFee: '1000' });
    for (const node of net.nodes) expect(await node.rpc.call('module_query', ['bank', 'params'])).to.deep.include({ minFee: '2000' });
    const cheap = signTransfer({ chainId: net.chainId, from: 1, to: 2, amount: 1n, nonce: (await getAccount(rpc(), devAddress(1))).nonce, fee: 1000n });
    const e = await rpc().callError('tx_send', [rawHex(cheap)]);
    expect(e).to.deep.include({ code: -32001 });
    expect(e.data).to.deep.include({ reason: 'TX_FEE_TOO_LOW' });
    // metanode-cli reads the new minimum and pays it.
    expectSuccess(await cli(['transfer', '--asset', 'NEX', '1', devAddress(2), '--key', 'alice', '--yes', '--wait']));
  });

  it('a change that would leave the set invalid when it executes fails with its reason on chain and changes nothing', async () => {
    expect((await ended(ids.validators!)).status).to.equal('passed');
    const p = await ended(ids.candidates!);
    expect(p.status).to.equal('failed');
    expect(p.reason).to.match(/^COURT_INVALID_PARAMS: the parameters of staking would be invalid: maxValidators must not exceed maxCandidates$/);
    expect(await rpc().call('module_query', ['staking', 'params'])).to.deep.include({ maxValidators: '200', maxCandidates: '300' });
    const events = await rpc().call<{ events: { module: string; type: string; attributes: Record<string, string> | [string, string][] }[] }>('chain_getBlockEvents', [p.endHeight]);
    const endedEvent = events.events.find((x) => x.module === 'court' && x.type === 'proposal_ended')!;
    expect(JSON.stringify(endedEvent.attributes)).to.include('failed');
  });

  it('a treasury spend pays its recipient', async () => {
    const p = await ended(ids.spend!);
    expect(p.status, `the spend ended ${p.status}: ${p.reason} (tally ${JSON.stringify(p.tally)})`).to.equal('passed');
    const after = BigInt((await getAccount(rpc(), devAddress(2))).balances.NEX!);
    // The recipient also got 1 NEX from alice's transfer above.
    expect(after - recipientBefore).to.equal(spent + 1_000_000n);
  });

  it('a permissioned chain admits a fifth organisation by proposal: before, it cannot bond; after, it bonds and signs', async () => {
    const joiner = net.nodes[4]!;
    const identity = await runMetanode(['keys', 'identity', '--home', joiner.home]);
    expect(identity.code, identity.stderr).to.equal(0);
    const identityFile = join(dir, 'acme-identity.json');
    await writeFile(identityFile, identity.stdout);
    expect(JSON.parse(identity.stdout)).to.include({ address: joiner.address });
    // The node's own key pays its ready transaction's fee.
    expectSuccess(await cli(['transfer', '--asset', 'NEX', '1', joiner.address, '--key', 'alice', '--yes', '--wait']));
    const create = ['stake', 'create-validator', '--validator-key', join(joiner.home, 'keys', 'validator.json'), '--self-bond', '2', '--moniker', 'acme', '--key', 'acme', '--yes', '--wait', '--json'];
    const refused = await cli(create);
    expect(refused.stdout + refused.stderr).to.include('STAKING_NOT_ON_ROSTER');

    const id = submitted(await cli(['gov', 'propose', 'roster-add', '--identity', identityFile, '--organisation', 'Acme Compute', '--operator', 'acme', '--title', 'Admit Acme', '--deposit', '1000', '--key', 'alice', '--yes', '--wait', '--json']));
    expectSuccess(await cli(['gov', 'vote', String(id), 'yes', '--key', 'alice', '--yes', '--wait']));
    expect(await ended(id)).to.include({ status: 'passed', reason: '' });
    const roster = await rpc().call<{ permissioned: boolean; roster: { address: string; organisation: string; registered: boolean }[] }>('module_query', ['staking', 'roster']);
    expect(roster.permissioned).to.equal(true);
    expect(roster.roster.find((r) => r.address === joiner.address)).to.deep.include({ organisation: 'Acme Compute', registered: false });

    const created = await cli(create);
    expectSuccess(created);
    expect((JSON.parse(created.stdout) as { receipt: { status: string } }).receipt.status).to.equal('success');
    const set = await waitFor('the fifth organisation in the set', async () => {
      const s = await rpc().call<{ height: number; validators: { address: string }[] }>('chain_getValidators', ['latest']);
      return s.validators.some((v) => v.address === joiner.address) ? s : undefined;
    }, 60_000, 200);
    // Alice unbonds her 1,000 GEN from validator 0 (her votes are done): the set's powers become 1, 1, 1, 1 and the joiner's 2, so no quorum forms without the joiner.
    expectSuccess(await cli(['stake', 'undelegate', net.nodes[0]!.address, '1000', '--key', 'alice', '--yes', '--wait']));
    let next = set.height;
    const signed = await waitFor('a block the fifth validator signed', async () => {
      const head = (await rpc().call<{ height: number }>('chain_getHead')).height;
      for (; next <= head; next++) {
        const [block, s] = await Promise.all([rpc().call<BlockJson>('chain_getBlockByHeight', [next]), rpc().call<{ validators: { address: string }[] }>('chain_getValidators', [next])]);
        const i = s.validators.findIndex((v) => v.address === joiner.address);
        if (i >= 0 && block.certificate!.signers.includes(i)) return next;
      }
      return undefined;
    }, 60_000, 300);
    expect(signed).to.be.at.least(set.height);
  });

  it('an upgrade plan halts every node before its height with the message and exit code 5; restarted as a release that knows it, they run on past it', async () => {
    // Alice bonds again (her first 1,000 GEN are unbonding) and carries an emergency vote alone.
    expectSuccess(await cli(['stake', 'delegate', net.nodes[1]!.address, '1000', '--key', 'alice', '--yes', '--wait']));
    const head = (await rpc().call<{ height: number }>('chain_getHead')).height;
    const height = head + 90;
    const id = submitted(await cli(['gov', 'propose', 'upgrade', '--name', 'v2', '--height', String(height), '--info', 'metanode v2 (test fixture)', '--emergency', '--title', 'Upgrade to v2', '--deposit', '1000', '--key', 'alice', '--yes', '--wait', '--json']));
    const exits = net.nodes.map((n) => n.expectExit());
    expectSuccess(await cli(['gov', 'vote', String(id), 'yes', '--key', 'alice', '--yes', '--wait']));
    expect(await ended(id)).to.include({ status: 'passed' });
    const planned = await cli(['gov', 'plan']);
    expectSuccess(planned);
    expect(planned.stdout).to.include(`plan: "v2" at height ${height} (metanode v2 (test fixture))`);
    // Every node stops by itself before the plan's height.
    const codes = await Promise.race([Promise.all(exits), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the nodes did not halt')), 90_000))]);
    expect(codes).to.deep.equal([5, 5, 5, 5, 5]);
    for (const n of net.nodes) {
      const log = await readFile(n.logFile, 'utf8');
      // The log line (JSON, its quotes escaped) and the line on stderr.
      expect(log).to.include(`"msg":${JSON.stringify(`UPGRADE "v2" NEEDED at height ${height}`)}`);
      expect(log).to.include(`UPGRADE "v2" NEEDED at height ${height}: restart this node with a metanode release that carries "v2"`);
      expect(JSON.parse(await readFile(join(n.home, 'upgrade-info.json'), 'utf8'))).to.deep.equal({ name: 'v2', height, info: 'metanode v2 (test fixture)' });
      // No node committed the plan's height.
      expect(log).to.not.match(new RegExp(`"height":${height},[^\n]*"committed block"`));
    }
    // The same binary, started again, halts again at once: its head is H − 1 and H is the plan's.
    const again = await runMetanode(['start', '--home', net.nodes[0]!.home, '--log-level', 'warn'], 60_000);
    expect(again.code, again.stderr).to.equal(5);
    expect(again.stderr).to.include(`UPGRADE "v2" NEEDED at height ${height}`);
    // Restarted as the release that carries v2, they run the upgrade at its height and go on.
    for (const n of net.nodes) n.launch = { env: { NODE_OPTIONS: `--import ${UPGRADE_V2}` } };
    await Promise.all(net.nodes.map((n) => n.start()));
    await net.waitForHeight(height + 3, net.running, 60_000);
    const events = await rpc().call<{ events: { module: string; type: string }[] }>('chain_getBlockEvents', [height]);
    expect(events.events.filter((e) => e.module === 'court').map((e) => e.type)).to.include.members(['v2_migrated', 'upgrade_applied']);
    expect(await rpc().call('module_query', ['court', 'plan'])).to.deep.equal({ plan: null, done: [{ name: 'v2', height }] });
  });
});
