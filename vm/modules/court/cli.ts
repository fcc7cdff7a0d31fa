/** metanode-cli gov …: the governance commands of the court module (vm/cli.ts describes the shape). */
import { addressFromPublicKey, formatAddress } from '../../../chain/index.js';
import type { CliEnv, CliTx, ModuleCli } from '../../cli.js';
import { VOTE_OPTIONS, encodeCourt, type CourtArgs, type ProposalContent, type VoteOptionName } from './codec.js';

function tx(a: CourtArgs, question: string, rows: [string, string][], summary: Record<string, unknown>): CliTx {
  return { kind: `court.${a.method}`, payload: encodeCourt(a), rows, summary, question };
}

const gen = (env: CliEnv, text: string, what: string) => env.amount(text, 'GEN', what);

function proposalId(text: string | undefined, env: CliEnv): number {
  if (!text || !/^[1-9][0-9]{0,15}$/.test(text)) throw env.usage(`the proposal id must be a positive integer, not "${text ?? ''}"`);
  return Number(text);
}

/** "--set bank.minFee=2000,staking.maxValidators=50" → the changes, grouped by module. */
function parseSet(text: string, env: CliEnv): ProposalContent {
  const byModule = new Map<string, [string, bigint][]>();
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z][a-z0-9_]*)\.([A-Za-z][A-Za-z0-9]*)=(0|[1-9][0-9]*)$/.exec(part);
    if (!m) throw env.usage(`--set takes module.parameter=integer, comma-separated (e.g. bank.minFee=2000), not "${part}"`);
    byModule.set(m[1]!, [...(byModule.get(m[1]!) ?? []), [m[2]!, BigInt(m[3]!)]]);
  }
  if (byModule.size === 0) throw env.usage('--set names no parameter');
  return { kind: 'params', changes: [...byModule].map(([module, values]) => ({ module, values })) };
}

/** "--pay mn1…:NEX:10,mn1…:GEN:0.5" → payments (amounts in the asset's units). */
async function parsePay(text: string, env: CliEnv): Promise<ProposalContent> {
  const payments = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [to, asset, amount] = part.split(':');
    if (!to || !asset || !amount) throw env.usage(`--pay takes recipient:ASSET:amount, comma-separated (e.g. mn1…:NEX:10), not "${part}"`);
    payments.push({ to: await env.address(to), asset, amount: await env.amount(amount, asset, `the amount paid to ${to}`) });
  }
  if (payments.length === 0) throw env.usage('--pay names no payment');
  return { kind: 'spend', payments };
}

interface ProposalJson {
  id: number;
  title: string;
  kind: string;
  status: string;
  emergency: boolean;
  totalDeposit: string;
  minDeposit: string;
  votingEnd: number;
  depositEnd: number;
  blocksLeft: number;
  participation: string;
  yesShare: string;
  vetoShare: string;
  reason: string;
  needed?: string;
}

const line = (p: ProposalJson) =>
  `#${p.id}  ${p.status.padEnd(8)} ${p.kind.padEnd(13)}${p.emergency ? ' emergency' : ''}  ${p.title}` +
  (p.status === 'voting' ? `  (${p.blocksLeft} blocks left; participation ${p.participation}, yes ${p.yesShare}, veto ${p.vetoShare})` : p.status === 'deposit' ? `  (deposit ${p.totalDeposit} of ${p.minDeposit} GEN base units, ${p.blocksLeft} blocks left)` : p.reason ? `  (${p.reason})` : '');

export const courtCli: ModuleCli = {
  group: 'gov',
  description: 'governance: propose, deposit, vote, and follow proposals (the court module)',
  commands: [
    {
      name: 'propose',
      description:
        'submit a proposal with a GEN deposit: text (a recorded decision), params (change module parameters), spend (pay from the treasury), roster-add or roster-remove (admit or remove a validator of a permissioned chain), upgrade or cancel-upgrade (a software upgrade plan)',
      args: [{ name: 'kind', description: 'text, params, spend, roster-add, roster-remove, upgrade or cancel-upgrade' }],
      options: [
        { flags: '--title <text>', description: 'a one-line title (at most 140 bytes)', required: true },
        { flags: '--summary <text>', description: 'what it is and why' },
        { flags: '--deposit <GEN>', description: 'GEN deposited with it, in GEN units (at least the minimum initial deposit)', required: true },
        { flags: '--set <changes>', description: 'params: module.parameter=integer, comma-separated (e.g. bank.minFee=2000)' },
        { flags: '--pay <payments>', description: 'spend: recipient:ASSET:amount, comma-separated (e.g. mn1…:NEX:10)' },
        { flags: '--identity <file>', description: "roster-add: the validator's identity (what `metanode keys identity` prints) or its validator key file" },
        { flags: '--organisation <name>', description: 'roster-add: the organisation that runs it (1 to 64 bytes of UTF-8)' },
        { flags: '--operator <address>', description: 'roster-add: the account that will bond it (stake create-validator); an address or a key name' },
        { flags: '--validator <address>', description: 'roster-remove: the validator to remove' },
        { flags: '--name <name>', description: 'upgrade: the name of the upgrade, as the release that carries it knows it (e.g. v2)' },
        { flags: '--height <height>', description: 'upgrade: the height every node halts before unless its binary knows the upgrade' },
        { flags: '--info <text>', description: 'upgrade: where to get the release, its checksum… (written to upgrade-info.json)' },
        { flags: '--emergency', description: 'a higher threshold and a shorter voting period' },
      ],
      examples: ['gov propose params --set bank.minFee=2000 --title "Raise the minimum fee" --deposit 1000 --key alice --wait', 'gov propose spend --pay mn1…:NEX:100 --title "Pay the auditors" --deposit 1000 --wait',
        'gov propose roster-add --identity acme-identity.json --organisation "Acme Compute" --operator mn1… --title "Admit Acme" --deposit 1000 --wait',
        'gov propose roster-remove --validator mn1… --title "Remove a validator" --deposit 1000 --wait',
        'gov propose upgrade --name v2 --height 500000 --info "metanode 2.0.0, sha256 …" --title "Upgrade to v2" --deposit 1000 --wait',
      ],
      async tx([kind], o, env) {
        let content: ProposalContent;
        if (kind === 'text') content = { kind: 'text' };
        else if (kind === 'params') {
          if (!o.set) throw env.usage('a params proposal needs --set module.parameter=value');
          content = parseSet(o.set, env);
        } else if (kind === 'spend') {
          if (!o.pay) throw env.usage('a spend proposal needs --pay recipient:ASSET:amount');
          content = await parsePay(o.pay, env);
        } else if (kind === 'roster-add') {
          if (!o.identity || !o.organisation || !o.operator) throw env.usage('a roster-add proposal needs --identity FILE, --organisation NAME and --operator ADDRESS');
          const id = await env.validatorIdentity(o.identity);
          content = { kind: 'roster_add', organisation: o.organisation, operator: await env.address(o.operator), publicKey: id.publicKey, blsPublicKey: id.blsPublicKey, proofOfPossession: id.proofOfPossession };
        } else if (kind === 'roster-remove') {
          if (!o.validator) throw env.usage('a roster-remove proposal needs --validator ADDRESS');
          content = { kind: 'roster_remove', address: await env.address(o.validator) };
        } else if (kind === 'upgrade') {
          if (!o.name || !o.height) throw env.usage('an upgrade proposal needs --name NAME and --height HEIGHT');
          if (!/^[1-9][0-9]{0,15}$/.test(o.height)) throw env.usage(`--height must be a positive integer, not "${o.height}"`);
          content = { kind: 'upgrade', name: o.name, height: Number(o.height), info: o.info ?? '' };
        } else if (kind === 'cancel-upgrade') content = { kind: 'cancel_upgrade' };
        else throw env.usage(`the kind is text, params, spend, roster-add, roster-remove, upgrade or cancel-upgrade, not "${kind ?? ''}"`);
        const deposit = await gen(env, o.deposit!, '--deposit');
        const emergency = o.emergency !== undefined;
        const rows: [string, string][] = [
          ['kind', `${content.kind}${emergency ? ' (emergency)' : ''}`],
          ['title', o.title!],
          ['deposit', `${o.deposit} GEN (${deposit} base units)`],
        ];
        if (content.kind === 'params') for (const c of content.changes) rows.push([c.module, c.values.map(([k, v]) => `${k} = ${v}`).join(', ')]);
        if (content.kind === 'spend') for (const p of content.payments) rows.push(['pay', `${p.amount} ${p.asset} base units to ${formatAddress(p.to)}`]);
        if (content.kind === 'roster_add') rows.push(['admit', `${formatAddress(addressFromPublicKey(content.publicKey))} of ${content.organisation}, bonded by ${formatAddress(content.operator)}`]);
        if (content.kind === 'roster_remove') rows.push(['remove', formatAddress(content.address)]);
        if (content.kind === 'upgrade') rows.push(['upgrade', `"${content.name}" at height ${content.height}${content.info ? ` (${content.info})` : ''}`]);
        return tx({ method: 'propose', args: { title: o.title!, summary: o.summary ?? '', content, emergency, deposit } }, 'Submit this proposal?', rows, { kind: content.kind, title: o.title, deposit: deposit.toString() });
      },
    },
    {
      name: 'deposit',
      description: "add GEN to a proposal's deposit (returned unless it is vetoed or never reaches the minimum)",
      args: [
        { name: 'id', description: 'the proposal id' },
        { name: 'amount', description: 'GEN, in GEN units' },
      ],
      async tx([idText, amountText], _o, env) {
        const id = proposalId(idText, env);
        const amount = await gen(env, amountText!, 'the amount');
        return tx({ method: 'deposit', args: { id, amount } }, `Deposit ${amountText} GEN on proposal ${id}?`, [['proposal', String(id)], ['amount', `${amountText} GEN (${amount} base units)`]], { id, amount: amount.toString() });
      },
    },
    {
      name: 'vote',
      description: 'vote on a proposal with your bonded GEN: yes, no, abstain or veto (your delegators who do not vote follow you)',
      args: [
        { name: 'id', description: 'the proposal id' },
        { name: 'option', description: 'yes, no, abstain or veto' },
      ],
      examples: ['gov vote 1 yes --key alice --wait'],
      async tx([idText, option], _o, env) {
        const id = proposalId(idText, env);
        if (!VOTE_OPTIONS.includes(option as VoteOptionName)) throw env.usage(`the option is yes, no, abstain or veto, not "${option ?? ''}"`);
        return tx({ method: 'vote', args: { id, option: option as VoteOptionName } }, `Vote ${option} on proposal ${id}?`, [['proposal', String(id)], ['vote', option!]], { id, option });
      },
    },
    {
      name: 'proposals',
      description: 'proposals, newest first, with their status and live tally',
      args: [],
      async read(_a, _o, env) {
        const r = (await env.query('court', 'proposals', { limit: 100 })) as { proposals: ProposalJson[] };
        env.print(r, () => (r.proposals.length === 0 ? 'no proposals yet' : r.proposals.map(line).join('\n')));
      },
    },
    {
      name: 'show',
      description: 'one proposal: its content, deposits, and tally (live while it is voted on: participation, yes and veto shares, what it still needs)',
      args: [{ name: 'id', description: 'the proposal id' }],
      async read([idText], _o, env) {
        const id = proposalId(idText, env);
        const p = (await env.query('court', 'proposal', { id })) as ProposalJson & { summary: string; content: unknown; tally: Record<string, string>; quorum: string; threshold: string; vetoThreshold: string };
        env.print(p, () =>
          [
            line(p),
            p.summary && `  ${p.summary}`,
            `  content: ${JSON.stringify(p.content)}`,
            `  tally (GEN base units): ${Object.entries(p.tally).map(([k, v]) => `${k} ${v}`).join(', ')}`,
            `  rules: quorum ${p.quorum}, threshold ${p.threshold}, veto ${p.vetoThreshold}`,
            p.needed && `  needed: ${p.needed}`,
          ]
            .filter(Boolean)
            .join('\n'),
        );
      },
    },
    {
      name: 'params',
      description: 'the governance parameters',
      args: [],
      async read(_a, _o, env) {
        const p = (await env.query('court', 'params')) as Record<string, string>;
        env.print(p, () => Object.entries(p).map(([k, v]) => `${k.padEnd(24)} ${v}`).join('\n'));
      },
    },
    {
      name: 'plan',
      description: 'the software upgrade plan (every node halts before its height unless its binary knows it) and the upgrades that ran',
      args: [],
      async read(_a, _o, env) {
        const r = (await env.query('court', 'plan')) as { plan: { name: string; height: number; info: string } | null; done: { name: string; height: number }[] };
        env.print(r, () =>
          [r.plan ? `plan: "${r.plan.name}" at height ${r.plan.height}${r.plan.info ? ` (${r.plan.info})` : ''}` : 'no upgrade plan', ...r.done.map((d) => `ran: "${d.name}" at height ${d.height}`)].join('\n'),
        );
      },
    },
  ],
};
