import { Option, type Command } from 'commander';
import { formatAddress, toHex, type Receipt } from '../../../chain/index.js';
import { MetanodeClient } from '../../../client/client.js';
import { LightClient, type VerifiedHeader } from '../../../client/light.js';
import { resolveAccountOrDefault } from '../accounts.js';
import { showAmount } from '../amount.js';
import { contextOf, type Context } from '../context.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { examples, kvTable, table } from '../output.js';
import { renderReceipt } from '../receipt.js';
import { fetchUnits, parseHash } from './tx.js';

/**
 * verify …: the light client (client/light.ts) in the CLI. Nothing is taken on the node's word:
 * headers are followed from the trusted genesis through their commit certificates, and each
 * answer is proved against a verified header (docs/client.md, "The trust model").
 */

interface VerifyOptions {
  genesisHash?: string;
  trusted?: string;
}

/** The header the light client starts from: --trusted HEIGHT:HASH, else the genesis hash. */
function trustAnchor(ctx: Context, o: VerifyOptions): { height: number; hash: string } {
  if (o.trusted === undefined) return { height: 0, hash: trustedGenesis(ctx, o) };
  const m = /^(\d+):(0x[0-9a-fA-F]{64})$/.exec(o.trusted);
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw usage(`--trusted "${o.trusted}" must be HEIGHT:HASH, e.g. 120000:0x5e0a…`);
  return { height: Number(m[1]), hash: m[2]!.toLowerCase() };
}

function trustedGenesis(ctx: Context, o: VerifyOptions): string {
  const hash = o.genesisHash ?? ctx.settings['genesis-hash'];
  if (hash === undefined) {
    throw usage('the light client needs the genesis hash you trust: pass --genesis-hash 0x… (or METANODE_GENESIS_HASH), or save it with metanode-cli config set genesis-hash 0x…; get it from someone you trust (on your own devnet: metanode-cli block get 0)');
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) throw usage(`--genesis-hash "${hash}" must be 0x followed by 64 hex digits`);
  return hash.toLowerCase();
}

/** Runs `f` with a light client over the CLI's transport; the library's errors become CLI errors. */
async function withLight<T>(ctx: Context, o: VerifyOptions, what: string, f: (light: LightClient) => Promise<T>): Promise<T> {
  const light = new LightClient(new MetanodeClient(ctx.rpc.transport), { trust: trustAnchor(ctx, o) });
  try {
    return await f(light);
  } catch (e) {
    throw ctx.rpc.toCli(what, e);
  }
}

const anchorRow = (h: VerifiedHeader): [string, string] => ['verified at', `block ${h.header.height} ${toHex(h.hash)} (committed by a quorum of its ${h.validators.size} validators)`];

function receiptJson(r: Receipt) {
  return {
    txHash: toHex(r.txHash),
    status: r.ok ? 'success' : 'failed',
    errorCode: r.errorCode || null,
    errorMessage: r.errorMessage || null,
    fee: r.fee.toString(),
    events: r.events.map((e) => ({ module: e.module, type: e.type, attributes: Object.fromEntries(e.attributes) })),
  };
}

const genesisOption = () => new Option('--genesis-hash <hash>', 'the genesis block hash you trust (default: the saved setting genesis-hash)').env('METANODE_GENESIS_HASH');
const trustedOption = () => new Option('--trusted <height:hash>', 'start from this header instead of genesis (a chain older than the 14-day trusting period needs a newer one)');

export function registerVerify(program: Command): void {
  const verify = program.command('verify').description('check what the node says with the light client: headers from the trusted genesis by their commit certificates, answers by Merkle proofs');

  verify.command('head').description('follow the chain from the trusted genesis to the node\'s head, and show it')
    .addOption(genesisOption())
    .addOption(trustedOption())
    .addHelpText('after', examples(['verify head --genesis-hash 0x5e0a…']))
    .action(async (o: VerifyOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const head = await withLight(ctx, o, 'chain_getLightBlock', (l) => l.sync());
      ctx.out.result({ verified: true, height: head.header.height, hash: toHex(head.hash), stateRoot: toHex(head.header.stateRoot), validators: head.validators.size }, () =>
        kvTable([['head', `${head.header.height} ${toHex(head.hash)}`], ['state root', toHex(head.header.stateRoot)], ['validators', String(head.validators.size)], ['verified', 'yes: every certificate from genesis checks out']]));
    });

  verify.command('tx').description('prove a committed transaction and its receipt against their verified block')
    .argument('<hash>', 'transaction hash (0x…)')
    .addOption(genesisOption())
    .addOption(trustedOption())
    .addHelpText('after', examples(['verify tx 0x3f1c…', 'verify tx 0x3f1c… --json']))
    .action(async (hashText: string, o: VerifyOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const hash = parseHash(hashText);
      const [v, units] = await Promise.all([withLight(ctx, o, 'chain_getTransactionProof', (l) => l.transaction(hash)), fetchUnits(ctx)]);
      if (!v) throw new CliError(ExitCode.NotFound, `the node has no committed transaction ${hash}: if it was just sent, wait for it with metanode-cli tx wait ${hash}`);
      const receipt = receiptJson(v.receipt);
      ctx.out.result({ verified: true, blockHeight: v.header.header.height, blockHash: toHex(v.header.hash), from: formatAddress(v.transaction.from()), kind: v.transaction.kind, receipt }, () =>
        [kvTable([anchorRow(v.header), ['from', formatAddress(v.transaction.from())], ['kind', v.transaction.kind]]), '', renderReceipt({ ...receipt, blockHeight: v.header.header.height, blockHash: toHex(v.header.hash) }, units)].join('\n'));
    });

  verify.command('account').description('prove an account\'s balances and nonce, and the assets\' decimals, against the verified head')
    .argument('[account]', 'an address (mn1…) or a key name (default: --key, or the only key)')
    .addOption(genesisOption())
    .addOption(trustedOption())
    .addHelpText('after', examples(['verify account alice', 'verify account mn1qv… --json']))
    .action(async (arg: string | undefined, o: VerifyOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const who = await resolveAccountOrDefault(ctx, arg);
      const { head, nonce, assets, balances } = await withLight(ctx, o, 'state_getProof', async (l) => {
        const h = await l.sync();
        const at = h.header.height;
        const assets = await l.assets(at); // their decimals, proved too
        const [n, ...bs] = await Promise.all([l.nonce(who.address, at), ...assets.map((a) => l.balance(who.address, a.symbol, at))]);
        return { head: h, nonce: n!, assets, balances: bs };
      });
      ctx.out.result(
        { verified: true, address: who.address, height: head.header.height, blockHash: toHex(head.hash), nonce: Number(nonce), balances: Object.fromEntries(assets.map((a, i) => [a.symbol, balances[i]!.toString()])) },
        () => [kvTable([['address', who.address], anchorRow(head), ['nonce', String(nonce)]]), '', table(['ASSET', 'BALANCE (proved)'], assets.map((a, i) => [a.symbol, showAmount(balances[i]!, a.symbol, a.decimals)]), ['l', 'l'])].join('\n'),
      );
    });
}
