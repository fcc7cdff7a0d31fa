/**
 * Staking across processes: a fifth node that followed the chain becomes a validator when an
 * operator bonds GEN for its key with `metanode-cli stake create-validator` (its node declares
 * itself ready by itself, no restart), signs blocks, and stops signing once the operator unbonds
 * (`stake undelegate`), while it keeps following the chain.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { toHex } from '../../chain/index.js';
import { expectSuccess, runCli, type CliResult } from '../unit/cli/helpers.js';
import { devAddress, devKey, sendTransfer, waitFor, waitForReceipt, type BlockJson } from './harness.js';
import { Testnet } from './testnet-harness.js';

interface SetJson {
  height: number;
  validators: { address: string; power: string }[];
}

describe('e2e: staking across processes (a fifth node bonds, signs, unbonds)', function () {
  this.timeout(180_000);
  let net: Testnet;
  let dir: string;
  let failed = false;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], input = ''): Promise<CliResult> => runCli(args, env, input);

  before(async () => {
    net = await Testnet.create({ validators: 5, genesisValidators: 4, devAccounts: 2, consensus: { emptyBlockIntervalMs: 200 } });
    await net.startAll();
    await net.waitForHeight(2);
    dir = await mkdtemp(join(tmpdir(), 'metanode-e2e-stake-'));
    env = { METANODE_RPC: `http://127.0.0.1:${net.nodes[0]!.rpcPort}`, METANODE_KEYSTORE: join(dir, 'keys'), METANODE_PASSWORD: 'e2e-password-1' };
    expectSuccess(await cli(['keys', 'import', 'operator'], toHex(devKey(1).secret) + '\n'));
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    if (failed && net) console.log(`      kept the testnet and its logs (node*/node.log) in ${net.dir}`);
    await net?.remove(failed);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const rpc = () => net.nodes[0]!.rpc;
  const joiner = () => net.nodes[4]!;
  const setAt = (h: number | 'latest') => rpc().call<SetJson>('chain_getValidators', [h]);
  /** Whether the joiner signed block `h` (its index in the set of h is among the certificate's signers). */
  async function signedBy(h: number): Promise<boolean> {
    const [block, set] = await Promise.all([rpc().call<BlockJson>('chain_getBlockByHeight', [h]), setAt(h)]);
    const i = set.validators.findIndex((v) => v.address === joiner().address);
    return i >= 0 && block.certificate!.signers.includes(i);
  }

  it('a node outside the genesis set follows the chain and signs nothing', async () => {
    expect((await setAt('latest')).validators.map((v) => v.address)).to.not.include(joiner().address);
    const h = await net.waitForHeight(4);
    expect(await joiner().height()).to.be.at.least(h);
  });

  it('stake create-validator for its key: its node declares itself ready by itself, joins the set (power by steps of at most a third) and signs, without a restart', async () => {
    // The node's own key pays its ready transaction's fee.
    const funded = await sendTransfer(rpc(), { chainId: net.chainId, from: 0, to: joiner().address, amount: 1_000_000n });
    await waitForReceipt(rpc(), funded.hash);
    const created = await cli(['stake', 'create-validator', '--validator-key', join(joiner().home, 'keys', 'validator.json'), '--self-bond', '2', '--commission', '5', '--moniker', 'node4', '--key', 'operator', '--yes', '--wait', '--json']);
    expectSuccess(created);
    expect((JSON.parse(created.stdout) as { receipt: { status: string } }).receipt.status).to.equal('success');
    const info = await waitFor('the joiner to be active', async () => {
      const v = await rpc().call<{ status: string; ready: boolean; power: string; operator: string; moniker: string }>('module_query', ['staking', 'validator', { address: joiner().address }]);
      return v.status === 'active' && v.power === '2' ? v : undefined;
    }, 30_000, 200);
    expect(info).to.deep.include({ ready: true, operator: devAddress(1), moniker: 'node4' });
    const set = await waitFor('the joiner in the set with power 2', async () => {
      const s = await setAt('latest');
      return s.validators.find((v) => v.address === joiner().address)?.power === '2' ? s : undefined;
    }, 30_000, 200);
    const from = set.height;
    await net.waitForHeight(from + 3);
    const signed = await waitFor('a block the joiner signed', async () => {
      const head = (await rpc().call<{ height: number }>('chain_getHead')).height;
      for (let h = from; h <= head; h++) if (await signedBy(h)) return h;
      return undefined;
    }, 30_000, 300);
    expect(signed).to.be.at.least(from);
    const out = await cli(['stake', 'validators', '--json']);
    expectSuccess(out);
    expect((JSON.parse(out.stdout) as { address: string; status: string }[]).filter((v) => v.status === 'active')).to.have.length(5);
  });

  it('stake undelegate of the whole self-bond: it leaves the set and stops signing, and its node keeps following', async () => {
    const r = await cli(['stake', 'undelegate', joiner().address, '2', '--key', 'operator', '--yes', '--wait', '--json']);
    expectSuccess(r);
    const gone = await waitFor('the joiner out of the set', async () => {
      const s = await setAt('latest');
      return s.validators.some((v) => v.address === joiner().address) ? undefined : s.height;
    }, 30_000, 200);
    const h = await net.waitForHeight(gone + 5);
    for (let x = gone; x <= h; x++) expect(await signedBy(x), `block ${x}`).to.equal(false);
    expect(await joiner().height()).to.be.at.least(h);
    const rewards = await cli(['stake', 'rewards', '--key', 'operator', '--json']);
    expectSuccess(rewards);
    const status = await rpc().call<{ status: string }>('module_query', ['staking', 'validator', { address: joiner().address }]);
    expect(status.status).to.equal('unbonding');
  });
});
