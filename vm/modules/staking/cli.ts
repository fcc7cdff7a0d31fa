/** metanode-cli stake …: the staking module's commands (vm/cli.ts describes the shape). */
import { formatAddress } from '../../../chain/index.js';
import type { CliCommand, CliEnv, CliTx, ModuleCli } from '../../cli.js';
import { encodeStaking, type StakingArgs } from './codec.js';

const PPM = 1_000_000n;

function tx(a: StakingArgs, question: string, rows: [string, string][], summary: Record<string, unknown>): CliTx {
  return { kind: `staking.${a.method}`, payload: encodeStaking(a), rows, summary, question };
}

/** "5" or "5%" or "2.5%" → parts per million. */
function percentPpm(text: string, env: CliEnv): bigint {
  const m = /^(\d{1,3})(?:\.(\d{1,4}))?%?$/.exec(text.trim());
  if (!m) throw env.usage(`--commission must be a percentage such as 5 or 2.5%, not "${text}"`);
  const ppm = BigInt(m[1]!) * 10_000n + BigInt((m[2] ?? '').padEnd(4, '0'));
  if (ppm > PPM) throw env.usage(`--commission is at most 100%, not ${text}`);
  return ppm;
}

const gen = (env: CliEnv, text: string, what: string) => env.amount(text, 'GEN', what);

const delegateLike = (method: 'delegate' | 'undelegate', description: string, verb: string, aliases: string[] = []): CliCommand => ({
  name: method,
  aliases,
  description,
  args: [
    { name: 'validator', description: 'the validator: its address (mn1…) or a key name' },
    { name: 'amount', description: 'GEN, in GEN units (e.g. 10 or 0.5)' },
  ],
  examples: [`stake ${method} mn1qv… 10 --key alice --wait`],
  async tx([v, amountText], _o, env) {
    const validator = await env.address(v!);
    const amount = await gen(env, amountText!, 'the amount');
    return tx({ method, args: { validator, amount } }, `${verb} ${amountText} GEN?`, [['validator', formatAddress(validator)], ['amount', `${amountText} GEN (${amount} base units)`]], { validator: formatAddress(validator), amount: amount.toString() });
  },
});

const byValidator = (method: 'withdraw' | 'unjail', description: string, question: string): CliCommand => ({
  name: method,
  description,
  args: [{ name: 'validator', description: 'the validator: its address (mn1…) or a key name' }],
  examples: [`stake ${method} mn1qv… --wait`],
  async tx([v], _o, env) {
    const validator = await env.address(v!);
    return tx({ method, args: { validator } }, question, [['validator', formatAddress(validator)]], { validator: formatAddress(validator) });
  },
});

export const stakingCli: ModuleCli = {
  group: 'stake',
  description: 'bond GEN: become a validator, delegate, unbond, withdraw rewards, unjail (the staking module)',
  commands: [
    {
      name: 'create-validator',
      description: "register a node's validator key as a validator, bonding GEN from the signing key (its operator); the node declares itself ready by itself once it has caught up",
      args: [],
      options: [
        { flags: '--validator-key <file>', description: "the node's keys/validator.json (encrypted: give --password-file)", required: true },
        { flags: '--self-bond <GEN>', description: 'GEN the operator bonds, in GEN units (at least the chain\'s minSelfBond)', required: true },
        { flags: '--commission <percent>', description: 'the share of its rewards the operator keeps (default 5%)' },
        { flags: '--moniker <name>', description: 'a name shown in the explorer' },
      ],
      examples: ['stake create-validator --validator-key ./node5/keys/validator.json --self-bond 2 --commission 5 --key operator --wait'],
      async tx(_a, o, env) {
        const key = await env.validatorKey(o.validatorKey!);
        const selfBond = await gen(env, o.selfBond!, '--self-bond');
        const commissionPpm = percentPpm(o.commission ?? '5', env);
        const moniker = o.moniker ?? '';
        return tx(
          { method: 'create_validator', args: { publicKey: key.publicKey, blsPublicKey: key.blsPublicKey, proofOfPossession: key.proofOfPossession, moniker, commissionPpm, selfBond } },
          'Create this validator?',
          [['validator', key.address], ['self-bond', `${o.selfBond} GEN (${selfBond} base units)`], ['commission', `${Number(commissionPpm) / 10_000}%`], ['moniker', moniker || '(none)']],
          { validator: key.address, selfBond: selfBond.toString(), commissionPpm: commissionPpm.toString(), moniker },
        );
      },
    },
    delegateLike('delegate', 'bond GEN to a validator; you hold shares of its stake, and earn its rewards less its commission', 'Delegate'),
    delegateLike('undelegate', 'unbond GEN from a validator: it returns after the unbonding period (slashable until then)', 'Undelegate', ['unbond']),
    {
      name: 'redelegate',
      description: 'move bonded GEN from one validator to another at once (slashable for the source for the unbonding period)',
      args: [
        { name: 'from', description: 'the validator it is bonded to' },
        { name: 'to', description: 'the validator to bond it to' },
        { name: 'amount', description: 'GEN, in GEN units' },
      ],
      async tx([a, b, amountText], _o, env) {
        const src = await env.address(a!);
        const dst = await env.address(b!);
        const amount = await gen(env, amountText!, 'the amount');
        return tx({ method: 'redelegate', args: { src, dst, amount } }, `Redelegate ${amountText} GEN?`, [['from', formatAddress(src)], ['to', formatAddress(dst)], ['amount', `${amountText} GEN (${amount} base units)`]], { src: formatAddress(src), dst: formatAddress(dst), amount: amount.toString() });
      },
    },
    byValidator('withdraw', "withdraw the rewards of your delegation to a validator (and its commission, for the operator)", 'Withdraw these rewards?'),
    byValidator('unjail', 'bring a jailed validator back once its jail time is over (the operator)', 'Unjail this validator?'),
    {
      name: 'rewards',
      description: 'your delegations: GEN they are worth and rewards waiting to be withdrawn (NEX base units)',
      args: [{ name: 'address', description: 'whose (default: the signing key)', optional: true }],
      async read([a], _o, env) {
        const address = a ? formatAddress(await env.address(a)) : await env.sender();
        const ds = (await env.query('staking', 'delegations', { address })) as { validator: string; tokens: string; rewards: string; commission?: string }[];
        env.print({ address, delegations: ds }, () =>
          ds.length === 0 ? `${address} has no delegations` : ds.map((d) => `${d.validator}  bonded ${d.tokens} GEN base units  rewards ${d.rewards}${d.commission ? ` + commission ${d.commission}` : ''} NEX base units`).join('\n'),
        );
      },
    },
    {
      name: 'validators',
      description: 'every registered validator: status, power, stake, commission, missed blocks',
      args: [],
      async read(_a, _o, env) {
        const vs = (await env.query('staking', 'validators')) as { address: string; moniker: string; status: string; power: string; tokens: string; commissionPpm: string; missedBlocks: number }[];
        env.print(vs, () => vs.map((v) => `${v.address}  ${v.status.padEnd(10)} power ${v.power.padStart(6)}  tokens ${v.tokens}  commission ${Number(v.commissionPpm) / 10_000}%  missed ${v.missedBlocks}${v.moniker ? `  ${v.moniker}` : ''}`).join('\n'));
      },
    },
  ],
};
