/**
 * Staking across processes: a fifth node that followed the chain becomes a validator when an
 * operator bonds GEN for its key with `metanode-cli stake create-validator` (its node declares
 * itself ready by itself, no restart), signs blocks, and stops signing once the operator unbonds
 * (`stake unbond`), while it keeps following the chain. Then a genesis validator is made to
 * equivocate with its real key (by the test, which signs a second PREPARE with that key and
 * gossips it: no switch in the node) and the running network slashes, jails and tombstones it by
 * itself: the nodes turn what their engines saw into an evidence transaction. Last, a stopped
 * validator is jailed for downtime, restarted, unjailed with `stake unjail`, and signs again; and
 * a node that syncs from genesis across all of those set changes reaches the same blocks.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { toHex } from '../../chain/index.js';
import { LightClient, MetanodeClient } from '../../client/index.js';
import { MsgType, SignedMessage, encodeEnvelope } from '../../consensus/index.js';
import { readValidatorKey } from '../../node/keyfile.js';
import { P2PNetwork, Topic, Verdict } from '../../p2p/index.js';
import { expectSuccess, runCli, type CliResult } from '../unit/cli/helpers.js';
import { devAddress, devKey, sendTransfer, waitFor, waitForReceipt, type BlockJson } from './harness.js';
import { Testnet, observerOptions } from './testnet-harness.js';

const DOWNTIME = { signedBlocksWindow: '20', minSignedPpm: '100000', downtimeJailBlocks: '10' };

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
    // A short downtime window (20 blocks, 10% signed) so that a stopped validator is jailed within seconds.
    net = await Testnet.create({ validators: 5, genesisValidators: 4, devAccounts: 2, consensus: { emptyBlockIntervalMs: 200 }, observers: 1, stakingParams: DOWNTIME });
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
  /** Whether `who` (default: the joiner) signed block `h` (its index in the set of h is among the certificate's signers). */
  async function signedBy(h: number, who = joiner().address): Promise<boolean> {
    const [block, set] = await Promise.all([rpc().call<BlockJson>('chain_getBlockByHeight', [h]), setAt(h)]);
    const i = set.validators.findIndex((v) => v.address === who);
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

  it('stake unbond (undelegate) of the whole self-bond: it leaves the set and stops signing, and its node keeps following', async () => {
    const r = await cli(['stake', 'unbond', joiner().address, '2', '--key', 'operator', '--yes', '--wait', '--json']);
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

  it('a validator that double-signs (its key signs a second PREPARE) is slashed 5%, jailed and tombstoned by the running network, with no manual step', async () => {
    const victim = net.nodes[3]!;
    // The other validators' keys pay for the evidence they send.
    for (const n of net.nodes.slice(0, 3)) await waitForReceipt(rpc(), (await sendTransfer(rpc(), { chainId: net.chainId, from: 0, to: n.address, amount: 1_000_000n })).hash);
    const before = await rpc().call<{ tokens: string }>('module_query', ['staking', 'validator', { address: victim.address }]);
    const key = await readValidatorKey(join(victim.home, 'keys', 'validator.json'));
    const forger = new P2PNetwork(observerOptions(net.chainId, net.multiaddrs), { logger: pino({ level: 'silent' }), privateKey: net.observerKeys[0]! });
    forger.subscribe(Topic.Consensus, () => Verdict.Ignore);
    await forger.start();
    try {
      const ids = net.multiaddrs.map((m) => m.slice(m.lastIndexOf('/p2p/') + 5));
      await waitFor('the forger to have a gossip stream to every validator', async () => ids.every((id) => forger.publishPeers(Topic.Consensus).includes(id)), 15_000, 50);
      const head = (await rpc().call<{ height: number }>('chain_getHead')).height;
      // PREPAREs of the victim's for the next heights (held until each starts), each conflicting with the one it signs itself.
      for (let h = head + 1; h <= head + 3; h++) {
        const body = { type: MsgType.Prepare, height: h, round: 0, digest: randomBytes(32) };
        await forger.publish(Topic.Consensus, encodeEnvelope({ message: SignedMessage.sign(net.chainId, body, key.address, key.ed25519), roundChanges: [], prepares: [] }));
      }
      const after = await waitFor('the victim tombstoned', async () => {
        const v = await rpc().call<{ status: string; tokens: string; slashes: { kind: string }[] }>('module_query', ['staking', 'validator', { address: victim.address }]);
        return v.status === 'tombstoned' ? v : undefined;
      }, 60_000, 200);
      expect(after.slashes.map((x) => x.kind)).to.deep.equal(['double_sign']);
      expect(BigInt(after.tokens)).to.equal((BigInt(before.tokens) * 95n) / 100n);
    } finally {
      await forger.stop();
    }
    const gone = await waitFor('the victim out of the set', async () => {
      const s = await setAt('latest');
      return s.validators.some((v) => v.address === victim.address) ? undefined : s.height;
    }, 30_000, 200);
    // The other three go on.
    await net.waitForHeight(gone + 3, net.nodes.slice(0, 3));
  });

  it('a stopped validator is jailed for downtime and slashed 1%; restarted and unjailed (stake unjail) after its jail time, it signs again', async () => {
    const victim = net.nodes[2]!;
    await victim.stop();
    const jailed = await waitFor('the victim jailed', async () => {
      const v = await rpc().call<{ status: string; jailedUntil: number; slashes: { kind: string }[] }>('module_query', ['staking', 'validator', { address: victim.address }]);
      return v.status === 'jailed' ? v : undefined;
    }, 60_000, 200);
    expect(jailed.slashes.map((x) => x.kind)).to.deep.equal(['downtime']);
    const left = await waitFor('the victim out of the set', async () => {
      const s = await setAt('latest');
      return s.validators.some((v) => v.address === victim.address) ? undefined : s.height;
    }, 30_000, 200);
    await victim.start();
    // A genesis validator is its own operator: its key signs the unjail, and tops its self-bond
    // back up to minSelfBond first (the slash took it under).
    const key = await readValidatorKey(join(victim.home, 'keys', 'validator.json'));
    expectSuccess(await cli(['keys', 'import', 'victim'], toHex(key.ed25519.secret) + '\n'));
    await waitForReceipt(rpc(), (await sendTransfer(rpc(), { chainId: net.chainId, from: 0, to: victim.address, asset: 'GEN', amount: 1_000_000n })).hash);
    expectSuccess(await cli(['stake', 'delegate', victim.address, '0.5', '--key', 'victim', '--yes', '--wait']));
    await net.waitForHeight(jailed.jailedUntil, net.nodes.slice(0, 2));
    expectSuccess(await cli(['stake', 'unjail', victim.address, '--key', 'victim', '--yes', '--wait']));
    const back = await waitFor('the victim back in the set', async () => {
      const s = await setAt('latest');
      return s.validators.some((v) => v.address === victim.address) ? s.height : undefined;
    }, 30_000, 200);
    expect(back).to.be.greaterThan(left);
    await waitFor('a block the victim signed again', async () => {
      const head = (await rpc().call<{ height: number }>('chain_getHead')).height;
      for (let h = back; h <= head; h++) if (await signedBy(h, victim.address)) return h;
      return undefined;
    }, 30_000, 300);
  });

  it('a node that syncs from genesis across all of those set changes verifies every certificate and reaches the same blocks', async () => {
    const n = joiner();
    await n.stop();
    await rm(join(n.home, 'data'), { recursive: true, force: true });
    await n.start();
    const target = (await rpc().call<{ height: number }>('chain_getHead')).height;
    await net.waitForHeight(target, [n], 60_000);
    const [mine, theirs] = await Promise.all([n.rpc.call<BlockJson>('chain_getBlockByHeight', [target]), rpc().call<BlockJson>('chain_getBlockByHeight', [target])]);
    expect(mine.hash).to.equal(theirs.hash);
    expect(mine.stateRoot).to.equal(theirs.stateRoot);
  });

  it('the light client follows the network from genesis across those set changes, by bisection and block by block, to the same head, and verifies a balance there', async () => {
    const url = `http://127.0.0.1:${net.nodes[0]!.rpcPort}`;
    const genesis = (await rpc().call<BlockJson>('chain_getBlockByHeight', [0])).hash;
    let fetched = 0;
    const counting: typeof fetch = async (input, init) => {
      fetched += (String(init?.body).match(/chain_getLightBlock/g) ?? []).length;
      return fetch(input, init);
    };
    const target = (await rpc().call<{ height: number }>('chain_getHead')).height;
    const [first, last] = await Promise.all([setAt(0), setAt(target)]);
    expect(last.validators.map((v) => v.address), 'the set changed on the way').to.not.deep.equal(first.validators.map((v) => v.address));
    const skipping = new LightClient(new MetanodeClient({ url, fetch: counting }), { trust: { height: 0, hash: genesis } });
    const a = await skipping.header(target);
    const bySkipping = fetched;
    fetched = 0;
    const sequential = new LightClient(new MetanodeClient({ url, fetch: counting }), { trust: { height: 0, hash: genesis }, trustingPeriodMs: 0, onExpired: 'sequential' });
    const b = await sequential.header(target);
    expect(fetched, 'sequential: every block').to.equal(target + 1);
    expect(bySkipping, `bisection fetched ${bySkipping} of ${target + 1} light blocks`).to.be.below(fetched / 4);
    const theirs = await rpc().call<BlockJson>('chain_getBlockByHeight', [target]);
    expect(toHex(a.hash)).to.equal(theirs.hash);
    expect(toHex(b.hash)).to.equal(theirs.hash);
    const account = await rpc().call<{ balances: Record<string, string> }>('state_getAccount', [devAddress(1), target]);
    expect(await skipping.balance(devAddress(1), 'GEN', target)).to.equal(BigInt(account.balances.GEN!));
  });
});
