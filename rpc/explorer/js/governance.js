// Governance (the court module): open proposals with their live tally and the time they have
// left, past proposals with their outcome; and one proposal with its summary, content, deposits,
// votes, tally and outcome. Both pages follow the chain: they redraw at each new block.
import { amount, card, dateTime, h, kv, link, notice, table, tinyAddr, units } from './format.js';
import { RpcResponseError, batch, call } from './rpc.js';

/** Proposals asked for per query (the most the node gives). */
const PAGE = 100;
/** Pages of proposals the overview reads at most looking for open ones. */
const MAX_PAGES = 10;
/** Past proposals listed per page. */
const PAST_ROWS = 25;
/** Blocks the block time is averaged over, for the time-left estimates. */
const BLOCK_TIME_SPAN = 100;

const OPEN = new Set(['deposit', 'voting']);
const STATUS_CLASS = { deposit: 'warn', voting: 'info', passed: 'ok', rejected: 'bad', vetoed: 'bad', failed: 'bad', expired: 'plain' };
const STATUS_TEXT = { deposit: 'deposit period', voting: 'voting' };
const OPTIONS = ['yes', 'no', 'veto', 'abstain'];
const ADDRESS = /^mn1[02-9ac-hj-np-z]{20,}$/;
const RPC_METHOD_NOT_FOUND = -32601;
const RPC_INVALID_PARAMS = -32602;

function statusBadge(s) {
  return h('span', { class: `badge ${STATUS_CLASS[s] ?? 'plain'}`, 'data-status': s }, STATUS_TEXT[s] ?? s);
}

function kindBadge(p) {
  return [h('span', { class: 'kind' }, p.kind), p.emergency ? [' ', h('span', { class: 'badge warn', 'data-emergency': '' }, 'emergency')] : null];
}

/** The error a chain without the court module answers to its queries. */
function noCourt(e) {
  return e instanceof RpcResponseError && (e.rpcCode === RPC_METHOD_NOT_FOUND || (e.rpcCode === RPC_INVALID_PARAMS && /no module "court"/.test(e.message)));
}

function disabled() {
  return h('div', { id: 'governance-disabled' }, notice('Governance is not enabled', 'This chain has no court module: it has no proposals and no votes.', h('p', null, h('a', { href: '#/' }, 'Back to the overview'))));
}

/** Parts per million as a percentage: 330000 → "33.00%". */
function ppm(v) {
  return `${(Number(v) / 10_000).toFixed(2)}%`;
}

/** part / whole (decimal strings) as a number of percent, for bar widths. */
function percentOf(part, whole) {
  const w = BigInt(whole);
  if (w === 0n) return 0;
  return Math.min(100, Number((BigInt(part) * 1_000_000n) / w) / 10_000);
}

/** part / whole (decimal strings) as the node writes shares: two decimals, rounded down ("90.90%"). */
function shareText(part, whole) {
  const w = BigInt(whole);
  if (w === 0n) return '0%';
  const bp = (BigInt(part) * 10_000n) / w;
  return `${bp / 100n}.${(bp % 100n).toString().padStart(2, '0')}%`;
}

/** Milliseconds as a rough duration: "40 s", "12 min", "5 h 20 min", "2 d 3 h". */
function duration(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 24) return `${hours} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

/** The mean time between the last BLOCK_TIME_SPAN blocks (ms), or null on a chain too short to say. */
async function blockTime(head) {
  const from = Math.max(1, head.height - BLOCK_TIME_SPAN);
  if (head.height <= from) return null;
  const b = await call('chain_getBlockByHeight', from, false);
  if (!b || head.timestamp <= b.timestamp) return null;
  return (head.timestamp - b.timestamp) / (head.height - from);
}

function blockTimeText(ms) {
  return ms === null ? '–' : `≈ ${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`;
}

/** "12 blocks · ≈ 12 s": the blocks until `end`, and the time they take at the recent block time. */
function timeLeftParts(left, ms) {
  return [
    h('strong', null, `${left.toLocaleString('en-US')} block${left === 1 ? '' : 's'}`),
    ms !== null && left > 0 ? h('span', { class: 'muted', title: `around ${dateTime(Date.now() + left * ms)}` }, ` · ≈ ${duration(left * ms)}`) : null,
  ];
}

/** Time left until a proposal's period ends at `end`; kept current at each block by updateTimes. */
function timeLeft(end, height, ms) {
  const left = Math.max(0, end - height);
  return h('span', { class: 'time-left nowrap', 'data-end': end, 'data-blocks-left': left }, timeLeftParts(left, ms));
}

/** Updates, in place, what changes at every block even when the proposals do not. */
function updateTimes(root, height, ms) {
  for (const el of root.querySelectorAll('.time-left[data-end]')) {
    const left = Math.max(0, Number(el.dataset.end) - height);
    el.dataset.blocksLeft = String(left);
    el.replaceChildren(...timeLeftParts(left, ms));
  }
  for (const el of root.querySelectorAll('[data-block-time]')) el.textContent = blockTimeText(ms);
}

/** Where a period ends: the height, and whether it is the deposit or the voting period. */
function periodEnd(p) {
  return p.status === 'voting' ? p.votingEnd : p.depositEnd;
}

/** A bar of the bonded GEN: yes, no, veto and abstain as shares of it, with a mark at the quorum. */
function tallyBar(p) {
  const t = p.tally;
  const bar = h('div', {
    class: 'gov-bar',
    role: 'img',
    'aria-label': `participation ${p.participation}, quorum ${p.quorum}`,
    title: `${OPTIONS.map((o) => `${o} ${units(t[o], 'GEN')}`).join(' · ')} of ${units(t.bonded, 'GEN')} GEN bonded`,
  });
  for (const o of OPTIONS) {
    const seg = h('span', { class: `seg ${o}`, 'data-option': o });
    seg.style.width = `${percentOf(t[o], t.bonded)}%`; // CSSOM, not a style attribute: the CSP allows no inline styles
    bar.append(seg);
  }
  const mark = h('span', { class: 'mark', title: `quorum ${p.quorum}` });
  mark.style.left = p.quorum;
  bar.append(mark);
  return bar;
}

/** A bar of the deposits towards minDeposit. */
function depositBar(p) {
  const bar = h('div', { class: 'gov-bar', role: 'img', 'aria-label': `deposit ${units(p.totalDeposit, 'GEN')} of ${units(p.minDeposit, 'GEN')} GEN` });
  const seg = h('span', { class: 'seg deposit' });
  seg.style.width = `${percentOf(p.totalDeposit, p.minDeposit)}%`;
  bar.append(seg);
  return bar;
}

function figure(key, label, value, rule) {
  return h('span', { class: 'gov-fig', 'data-figure': key }, h('span', { class: 'muted' }, `${label} `), h('strong', { class: 'value' }, value), h('span', { class: 'muted' }, ` (${rule})`));
}

function figures(p) {
  return h(
    'div',
    { class: 'gov-figs' },
    figure('participation', 'Participation', p.participation, `quorum ${p.quorum}`),
    figure('yes', 'Yes', p.yesShare, `more than ${p.threshold}`),
    figure('veto', 'Veto', p.vetoShare, `vetoes above ${p.vetoThreshold}`),
  );
}

function depositFigures(p) {
  const missing = BigInt(p.minDeposit) - BigInt(p.totalDeposit);
  return h(
    'div',
    { class: 'gov-figs' },
    h('span', { class: 'gov-fig', 'data-figure': 'deposit' }, h('span', { class: 'muted' }, 'Deposit '), h('strong', { class: 'value' }, `${units(p.totalDeposit, 'GEN')} of ${units(p.minDeposit, 'GEN')} GEN`)),
    missing > 0n && p.status === 'deposit' ? h('span', { class: 'gov-fig muted' }, `${units(missing.toString(), 'GEN')} GEN more starts the vote`) : null,
  );
}

/** Whether it would pass if voting ended now, and what it still needs. */
function outlook(p) {
  if (p.status === 'deposit') {
    const missing = BigInt(p.minDeposit) - BigInt(p.totalDeposit);
    return h('div', { class: 'gov-outlook' }, h('span', { class: 'badge plain', 'data-would-pass': 'not-voting' }, 'not voted on yet'), h('div', { class: 'gov-needed', 'data-needed': '' }, `needs ${units((missing > 0n ? missing : 0n).toString(), 'GEN')} GEN more in deposits by block #${p.depositEnd.toLocaleString('en-US')}`));
  }
  return h(
    'div',
    { class: 'gov-outlook' },
    p.wouldPass ? h('span', { class: 'badge ok', 'data-would-pass': 'yes' }, 'would pass') : h('span', { class: 'badge bad', 'data-would-pass': 'no' }, 'would not pass'),
    h('div', { class: 'gov-needed', 'data-needed': '' }, p.needed),
  );
}

function titleCell(p) {
  return h('td', null, h('div', null, h('a', { href: `#/proposal/${p.id}`, class: 'gov-title' }, p.title || `Proposal ${p.id}`)), h('div', { class: 'gov-sub' }, kindBadge(p), h('span', { class: 'muted' }, ' by '), link.account(p.proposer, tinyAddr(p.proposer))));
}

function openRow(p, height, ms) {
  const voting = p.status === 'voting';
  return h(
    'tr',
    { 'data-proposal': p.id },
    h('td', { class: 'muted' }, `#${p.id}`),
    titleCell(p),
    h('td', null, statusBadge(p.status)),
    h('td', { class: 'gov-tally' }, voting ? [tallyBar(p), figures(p)] : [depositBar(p), depositFigures(p)]),
    h('td', null, outlook(p)),
    h('td', { class: 'right' }, timeLeft(periodEnd(p), height, ms), h('div', { class: 'gov-sub muted' }, voting ? 'voting ends ' : 'deposits close ', link.block(periodEnd(p)))),
  );
}

/** A past proposal's result in one cell: its final tally, or how far its deposits got. */
function resultCell(p) {
  if (p.status === 'expired') return h('td', { class: 'gov-tally' }, depositFigures(p));
  return h('td', { class: 'gov-tally' }, tallyBar(p), figures(p));
}

function pastRow(p) {
  return h(
    'tr',
    { 'data-proposal': p.id },
    h('td', { class: 'muted' }, `#${p.id}`),
    titleCell(p),
    h('td', null, statusBadge(p.status)),
    resultCell(p),
    h('td', { class: 'gov-reason', 'data-reason': p.reason }, p.reason || (p.status === 'passed' ? h('span', { class: 'muted' }, 'executed') : h('span', { class: 'muted' }, '–'))),
    h('td', { class: 'right' }, p.endHeight ? link.block(p.endHeight) : h('span', { class: 'muted' }, '–')),
  );
}

const OPEN_HEAD = ['#', 'Proposal', 'Status', h('th', null, 'Tally'), 'Outlook', h('th', { class: 'right' }, 'Time left')];
const PAST_HEAD = ['#', 'Proposal', 'Outcome', 'Final tally', 'Reason', h('th', { class: 'right' }, 'Ended')];

function legend() {
  return h('div', { class: 'gov-legend muted' }, OPTIONS.map((o) => h('span', null, h('span', { class: `sw ${o}` }), o)), h('span', null, h('span', { class: 'sw mark' }), 'quorum'), h('span', null, 'bars are shares of the bonded GEN'));
}

function stat(label, value, attrs) {
  return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value small', ...attrs }, value));
}

/** Proposals (newest first) until none older can still be open, and what the node says of the chain. */
async function loadOverview(before) {
  const [params, head, staking] = await batch([['module_query', 'court', 'params'], ['chain_getHead'], ['module_query', 'staking', 'params']]);
  if (params instanceof Error) throw params;
  if (head instanceof Error) throw head;
  const ms = await blockTime(head).catch(() => null);
  const horizon = Number(params.depositPeriodBlocks) + Number(params.votingPeriodBlocks);
  const all = [];
  let next = before ?? null;
  let complete = false;
  for (let i = 0; i < (before === undefined ? MAX_PAGES : 1); i++) {
    const page = await call('module_query', 'court', 'proposals', { limit: before === undefined ? PAGE : PAST_ROWS, ...(next !== null ? { before: next } : {}) });
    all.push(...page.proposals);
    next = page.next;
    const oldest = page.proposals.at(-1);
    // A proposal submitted more than a deposit and a voting period ago has ended, and so have the older ones.
    if (next === null || !oldest || oldest.submitHeight + horizon < head.height) {
      complete = true;
      break;
    }
  }
  // Open proposals by when their period ends, the soonest first.
  const open = before === undefined ? all.filter((p) => OPEN.has(p.status)).sort((a, b) => periodEnd(a) - periodEnd(b) || a.id - b.id) : [];
  const closed = all.filter((p) => !OPEN.has(p.status));
  const past = closed.slice(0, PAST_ROWS);
  // Older past proposals: below the last one shown, if the node has more.
  const older = closed.length > PAST_ROWS || next !== null ? (past.at(-1)?.id ?? next) : null;
  return { params, head, ms, stakingOff: !(staking instanceof Error) && staking.enabled === false, open, past, older, complete, paged: before !== undefined };
}

/** What decides whether the overview is drawn again (not the blocks left: updateTimes keeps those). */
function overviewSignature(d) {
  const strip = (p) => ({ ...p, blocksLeft: undefined });
  return JSON.stringify([d.params, d.stakingOff, d.open.map(strip), d.past.map(strip), d.older, d.complete]);
}

function drawOverview(d) {
  const { params, head, ms } = d;
  const votingMs = ms === null ? null : Number(params.votingPeriodBlocks) * ms;
  const foot = [
    h('span', { class: 'pager-info' }, d.past.length > 1 ? `Proposals #${d.past.at(-1).id} – #${d.past[0].id}` : d.past.length ? `Proposal #${d.past[0].id}` : ''),
    d.paged ? h('a', { class: 'btn', href: '#/governance' }, 'Newest') : null,
    d.older !== null ? h('a', { class: 'btn', href: `#/governance/${d.older}`, 'data-older': d.older }, 'Older →') : h('button', { class: 'btn', disabled: true }, 'Older →'),
  ];
  return [
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', null, 'Governance'),
        h('p', { class: 'subtitle' }, d.paged ? 'Past proposals, newest first.' : 'Proposals and their tally by bonded GEN, updating at every block.', d.stakingOff ? h('span', { class: 'gov-warn' }, ' This chain has no staking: there is no bonded GEN to vote with, and proposals are refused.') : null),
      ),
    ),
    d.paged
      ? null
      : h(
          'div',
          { class: 'stats', id: 'gov-params' },
          stat('Open proposals', `${d.open.length} of at most ${params.maxActiveProposals}`, { 'data-param': 'open' }),
          stat('Minimum deposit', amount(params.minDeposit, 'GEN'), { 'data-param': 'minDeposit' }),
          stat('Voting period', [`${Number(params.votingPeriodBlocks).toLocaleString('en-US')} blocks`, votingMs !== null ? h('span', { class: 'muted' }, ` · ≈ ${duration(votingMs)}`) : null], { 'data-param': 'votingPeriodBlocks' }),
          stat('Quorum · threshold · veto', `${ppm(params.quorumPpm)} · ${ppm(params.thresholdPpm)} · ${ppm(params.vetoThresholdPpm)}`, { 'data-param': 'rules' }),
          stat('Block time', blockTimeText(ms), { 'data-block-time': '', title: `mean of the last ${BLOCK_TIME_SPAN} blocks: time-left estimates use it` }),
        ),
    d.paged
      ? null
      : card('Open proposals', h('div', { class: 'scroll-x' }, table(OPEN_HEAD, d.open.map((p) => openRow(p, head.height, ms)), 'No proposal is open: none is collecting deposits or being voted on')), {
          id: 'open-proposals',
          right: d.open.some((p) => p.status === 'voting') ? legend() : null,
          foot: d.complete ? null : h('span', { class: 'pager-info' }, `Showing the open proposals among the newest ${(PAGE * MAX_PAGES).toLocaleString('en-US')}.`),
        }),
    card('Past proposals', h('div', { class: 'scroll-x' }, table(PAST_HEAD, d.past.map((p) => pastRow(p)), d.paged ? 'No older proposals' : 'No proposal has ended yet')), { id: 'past-proposals', foot }),
  ];
}

/**
 * Draws `root` from `load()` now, and again at every new block: whole when `signature` of what
 * it loads changed, else only the time left (updateTimes). A failed load keeps what is shown.
 */
function follow(ctx, root, load, signature, draw) {
  let last;
  let busy = false;
  let again = false;
  const show = (d) => {
    const sig = signature(d);
    if (sig !== last) {
      last = sig;
      root.replaceChildren(...draw(d).filter(Boolean));
    } else updateTimes(root, d.head.height, d.ms);
  };
  const refresh = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const d = await load();
        if (!ctx.alive()) return;
        show(d);
      } while (again);
    } catch {
      // The next block tries again.
    } finally {
      busy = false;
    }
  };
  ctx.onCleanup(ctx.live.subscribe('newHeads', null, () => refresh()));
  return show;
}

/** #/governance and #/governance/<before> (past proposals older than that id). */
export async function governance([before], ctx) {
  const b = before === undefined ? undefined : Number(before);
  const load = () => loadOverview(b);
  let first;
  try {
    first = await load();
  } catch (e) {
    if (noCourt(e)) return disabled();
    throw e;
  }
  const root = h('div', { id: 'governance' });
  follow(ctx, root, load, overviewSignature, drawOverview)(first);
  return root;
}

// ---- One proposal ----

/** What a proposal would do, by kind; kinds this page does not know are shown field by field. */
function contentView(c) {
  if (!c || c.kind === 'text') return h('div', { class: 'card-body muted' }, 'A text proposal: a decision on record. Passing it changes nothing on chain.');
  if (c.kind === 'params' && Array.isArray(c.changes)) {
    const rows = c.changes.flatMap((m) => Object.entries(m.values ?? {}).map(([k, v]) => h('tr', { 'data-param': `${m.module}.${k}` }, h('td', null, h('span', { class: 'kind' }, m.module)), h('td', { class: 'mono' }, k), h('td', { class: 'right mono' }, v))));
    return table(['Module', 'Parameter', h('th', { class: 'right' }, 'New value')], rows, 'No changes');
  }
  if (c.kind === 'spend' && Array.isArray(c.payments)) {
    const rows = c.payments.map((p) => h('tr', null, h('td', null, link.account(p.to, p.to)), h('td', { class: 'right' }, amount(p.amount, p.asset))));
    return table(['Paid from the treasury to', h('th', { class: 'right' }, 'Amount')], rows, 'No payments');
  }
  const fields = Object.entries(c).filter(([k]) => k !== 'kind');
  if (fields.length === 0) return h('div', { class: 'card-body muted' }, `A ${c.kind} proposal.`);
  return kv(fields.map(([k, v]) => [k, typeof v === 'string' ? (ADDRESS.test(v) ? link.account(v, v) : h('span', { class: 'mono' }, v)) : typeof v === 'object' && v !== null ? h('pre', { class: 'gov-json inline' }, JSON.stringify(v, null, 2)) : h('span', { class: 'mono' }, String(v))]));
}

function tallyTable(p) {
  const t = p.tally;
  const voted = OPTIONS.reduce((s, o) => s + BigInt(t[o]), 0n).toString();
  const rows = OPTIONS.map((o) =>
    h(
      'tr',
      { 'data-option': o },
      h('td', null, h('span', { class: `sw ${o}` }), o),
      h('td', { class: 'right' }, amount(t[o], 'GEN')),
      h('td', { class: 'right' }, shareText(t[o], voted)),
      h('td', { class: 'right' }, shareText(t[o], t.bonded)),
    ),
  );
  rows.push(h('tr', { class: 'gov-total' }, h('td', null, 'bonded'), h('td', { class: 'right' }, amount(t.bonded, 'GEN')), h('td', null), h('td', { class: 'right' }, '100.00%')));
  return table(['Vote', h('th', { class: 'right' }, 'GEN'), h('th', { class: 'right' }, 'Of the votes'), h('th', { class: 'right' }, 'Of the bonded GEN')], rows);
}

function tallyCard(p) {
  if (p.status === 'deposit') {
    return card('Tally', h('div', { class: 'card-body' }, depositBar(p), depositFigures(p), h('p', { class: 'muted' }, `Voting starts once the deposits reach ${units(p.minDeposit, 'GEN')} GEN; they have until block #${p.depositEnd.toLocaleString('en-US')}.`)), { id: 'proposal-tally' });
  }
  if (p.status === 'expired') return card('Tally', h('div', { class: 'card-body muted' }, 'Never voted on: the deposits did not reach the minimum in time.'), { id: 'proposal-tally' });
  return card(
    p.status === 'voting' ? 'Tally (live: the bonded stake as it stands now)' : 'Final tally',
    h('div', null, h('div', { class: 'card-body' }, tallyBar(p), figures(p)), tallyTable(p)),
    { id: 'proposal-tally', right: legend() },
  );
}

const SETTLED = { passed: 'refunded', rejected: 'refunded', failed: 'refunded', vetoed: 'burned', expired: 'burned' };

function outcomeCard(p, d) {
  let body;
  if (p.status === 'voting') {
    body = kv([
      ['If voting ended now', p.wouldPass ? h('span', { class: 'badge ok', 'data-would-pass': 'yes' }, 'it would pass') : h('span', { class: 'badge bad', 'data-would-pass': 'no' }, 'it would not pass')],
      ['Still needed', h('span', { id: 'proposal-needed' }, p.needed)],
      ['Voting ends', [link.block(p.votingEnd), ' · in ', timeLeft(p.votingEnd, d.head.height, d.ms)]],
    ]);
  } else if (p.status === 'deposit') {
    body = kv([
      ['Voting', h('span', { class: 'badge plain', 'data-would-pass': 'not-voting' }, 'not started')],
      ['Still needed', h('span', { id: 'proposal-needed' }, `${units((BigInt(p.minDeposit) > BigInt(p.totalDeposit) ? BigInt(p.minDeposit) - BigInt(p.totalDeposit) : 0n).toString(), 'GEN')} GEN more in deposits`)],
      ['Deposits close', [link.block(p.depositEnd), ' · in ', timeLeft(p.depositEnd, d.head.height, d.ms)]],
    ]);
  } else {
    body = kv([
      ['Outcome', statusBadge(p.status)],
      ['Reason', p.reason ? h('span', { id: 'proposal-reason' }, p.reason) : h('span', { id: 'proposal-reason', class: 'muted' }, p.status === 'passed' ? 'none: it passed and was executed' : 'none given')],
      ['Ended', p.endHeight ? link.block(p.endHeight) : '–'],
      ['Deposits', `${SETTLED[p.status] ?? 'settled'} (${units(p.totalDeposit, 'GEN')} GEN)`],
    ]);
  }
  return card('Outcome', body, { id: 'proposal-outcome' });
}

function depositsCard(p) {
  const rows = p.deposits.map((x) => h('tr', { 'data-depositor': x.depositor }, h('td', null, link.account(x.depositor, x.depositor)), h('td', { class: 'right' }, amount(x.amount, 'GEN'))));
  const empty = SETTLED[p.status] ? `The deposits were ${SETTLED[p.status]} when the proposal ended.` : 'No deposits';
  return card(`Deposits (${units(p.totalDeposit, 'GEN')} of ${units(p.minDeposit, 'GEN')} GEN)`, table(['Depositor', h('th', { class: 'right' }, 'Amount')], rows, empty), { id: 'proposal-deposits' });
}

function votesCard(d) {
  if (!d.votes) return null;
  const rows = d.votes.votes.map((v) => h('tr', { 'data-voter': v.voter }, h('td', null, link.account(v.voter, v.voter)), h('td', null, h('span', { class: `badge ${v.option === 'yes' ? 'ok' : v.option === 'abstain' ? 'plain' : 'bad'}` }, v.option))));
  return card(`Votes (${d.proposal.voters})`, table(['Voter', 'Vote'], rows, 'No votes yet. Delegators who do not vote follow their validator’s operator.'), {
    id: 'proposal-votes',
    foot: d.votes.next !== null ? h('span', { class: 'pager-info' }, `Showing the first ${d.votes.votes.length} voters.`) : null,
  });
}

async function loadProposal(id) {
  const [p, head] = await batch([['module_query', 'court', 'proposal', { id }], ['chain_getHead']]);
  if (p instanceof Error) throw p;
  if (head instanceof Error) throw head;
  const [ms, votes] = await Promise.all([blockTime(head).catch(() => null), p.status === 'voting' ? call('module_query', 'court', 'votes', { id }).catch(() => null) : null]);
  return { proposal: p, head, ms, votes };
}

function proposalSignature(d) {
  return JSON.stringify([{ ...d.proposal, blocksLeft: undefined }, d.votes]);
}

function drawProposal(d) {
  const p = d.proposal;
  const open = OPEN.has(p.status);
  return [
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, `Proposal #${p.id}`, statusBadge(p.status)), h('p', { class: 'subtitle', id: 'proposal-title' }, p.title)),
      h('div', { class: 'nav-arrows' }, p.id > 1 ? h('a', { class: 'btn', href: `#/proposal/${p.id - 1}` }, '← Previous') : null, h('a', { class: 'btn', href: '#/governance' }, 'All proposals'), h('a', { class: 'btn', href: `#/proposal/${p.id + 1}` }, 'Next →')),
    ),
    card(
      'Overview',
      kv([
        ['Title', p.title],
        ['Kind', kindBadge(p)],
        ['Status', statusBadge(p.status)],
        ['Proposer', link.account(p.proposer, p.proposer)],
        ['Submitted', link.block(p.submitHeight)],
        ['Deposit period', p.votingStart ? ['ended at ', link.block(p.votingStart), ' (the minimum was reached)'] : ['until ', link.block(p.depositEnd)]],
        ['Voting period', p.votingStart ? [link.block(p.votingStart), ' – ', link.block(p.votingEnd)] : h('span', { class: 'muted' }, 'not started')],
        open ? ['Time left', timeLeft(periodEnd(p), d.head.height, d.ms)] : ['Ended', p.endHeight ? link.block(p.endHeight) : '–'],
        ['Voters', String(p.voters)],
        ['Rules', `quorum ${p.quorum} · threshold ${p.threshold} · veto ${p.vetoThreshold}${p.emergency ? ' (emergency threshold)' : ''}`],
      ]),
      { id: 'proposal-overview' },
    ),
    card('Summary', h('div', { class: 'card-body gov-summary', id: 'proposal-summary' }, p.summary || h('span', { class: 'muted' }, 'No summary.'))),
    card('Content', h('div', null, contentView(p.content), h('details', { class: 'gov-raw' }, h('summary', null, 'As JSON'), h('pre', { class: 'gov-json' }, JSON.stringify(p.content, null, 2)))), { id: 'proposal-content', right: kindBadge(p) }),
    tallyCard(p),
    outcomeCard(p, d),
    depositsCard(p),
    votesCard(d),
  ];
}

/** #/proposal/<id> */
export async function proposal([idText], ctx) {
  const id = Number(idText);
  const load = () => loadProposal(id);
  let first;
  try {
    first = await load();
  } catch (e) {
    if (noCourt(e)) return disabled();
    if (e instanceof RpcResponseError && e.rpcCode === RPC_INVALID_PARAMS && /there is no proposal/.test(e.message)) {
      // Maybe not submitted yet: look again at every new block.
      ctx.onCleanup(ctx.live.subscribe('newHeads', null, () => call('module_query', 'court', 'proposal', { id }).then(() => ctx.reload(), () => undefined)));
      return notice('Proposal not found', `There is no proposal #${id} yet; this page will show it when there is.`, h('p', null, h('a', { href: '#/governance' }, 'All proposals')));
    }
    throw e;
  }
  const root = h('div', { id: 'proposal', 'data-proposal': id });
  // An ended proposal no longer changes; an open one is followed block by block.
  if (OPEN.has(first.proposal.status)) follow(ctx, root, load, proposalSignature, drawProposal)(first);
  else root.replaceChildren(...drawProposal(first).filter(Boolean));
  return root;
}
