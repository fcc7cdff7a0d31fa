// ENC jobs (the enc module): the list of jobs, newest first, with each one's state; and one job
// with its terms, its assignments, its disputes and their verdicts, and why it was placed where
// it was. Both follow the chain: they redraw at each new block while what they show can change.
import { amount, card, h, kv, link, notice, short, table, tinyAddr } from './format.js';
import { RpcResponseError, batch, call } from './rpc.js';

const RPC_METHOD_NOT_FOUND = -32601;
const RPC_INVALID_PARAMS = -32602;

/** A job in one of these states no longer changes. */
const FINAL = new Set(['settled', 'expired', 'unresolved']);
const STATE_CLASS = { queued: 'plain', placed: 'info', executed: 'info', disputed: 'warn', settled: 'ok', expired: 'plain', unresolved: 'bad' };
const STATE_HELP = {
  queued: 'submitted, waiting for execution nodes with room',
  placed: 'placed on its nodes, which run it and hand in their receipts',
  executed: 'its receipts are in and agree: it settles when the challenge window ends',
  disputed: 'its receipts differ or one was challenged: the chain re-executes it',
  settled: 'the receipts that stood were paid, and the rest of the escrow refunded',
  expired: 'no receipt came in by the deadline: the escrow was refunded',
  unresolved: 'its receipts differed and it is too large to re-execute on chain: nobody was paid, the client was refunded',
};
const ASSIGNMENT_CLASS = { running: 'info', submitted: 'info', missed: 'bad', lied: 'bad', paid: 'ok', unpaid: 'plain' };
const ASSIGNMENT_HELP = {
  running: 'placed: its lease runs, its receipt is not in yet',
  submitted: 'its receipt is in',
  missed: 'its lease ended without its receipt: it was slashed and the replica placed again',
  lied: 'the re-execution contradicted its receipt: it was slashed and jailed',
  paid: 'paid from escrow, and rewarded',
  unpaid: 'not paid',
};
const OUTCOME_CLASS = { open: 'warn', upheld: 'bad', rejected: 'ok', unresolved: 'plain' };
const OUTCOME_HELP = {
  open: 'waiting for the chain to re-execute the job',
  upheld: 'the re-execution proved a receipt wrong',
  rejected: 'the re-execution agreed with every receipt',
  unresolved: 'the job is over disputeFuel: it was not re-executed',
};

export function jobState(s) {
  return h('span', { class: `badge ${STATE_CLASS[s] ?? 'plain'}`, 'data-state': s, title: STATE_HELP[s] ?? '' }, s);
}

function assignmentState(s) {
  return h('span', { class: `badge ${ASSIGNMENT_CLASS[s] ?? 'plain'}`, 'data-state': s, title: ASSIGNMENT_HELP[s] ?? '' }, s);
}

function outcomeBadge(s) {
  return h('span', { class: `badge ${OUTCOME_CLASS[s] ?? 'plain'}`, 'data-outcome': s, title: OUTCOME_HELP[s] ?? '' }, s);
}

/** The error a chain without the enc module answers to its queries and methods. */
export function noEnc(e) {
  return e instanceof RpcResponseError && (e.rpcCode === RPC_METHOD_NOT_FOUND || (e.rpcCode === RPC_INVALID_PARAMS && /no module "enc"/.test(e.message)));
}

export function encDisabled() {
  return h('div', { id: 'enc-disabled' }, notice('Execution nodes are not enabled', 'This chain has no ENC module: it has no jobs and no execution nodes.', h('p', null, h('a', { href: '#/' }, 'Back to the overview'))));
}

/** A height, or a muted word when there is none (0). */
function heightOr(n, none = '–') {
  return n ? link.block(n) : h('span', { class: 'muted' }, none);
}

function count(n) {
  return Number(n).toLocaleString('en-US');
}

/** "12 blocks left" until `end`; kept current at each block by updateLeft. */
function blocksLeft(end, height) {
  return h('span', { class: 'blocks-left muted nowrap', 'data-end': end }, leftText(end, height));
}

function leftText(end, height) {
  const left = Math.max(0, end - height);
  return `${left.toLocaleString('en-US')} block${left === 1 ? '' : 's'} left`;
}

function updateLeft(root, height) {
  for (const el of root.querySelectorAll('.blocks-left[data-end]')) el.textContent = leftText(Number(el.dataset.end), height);
}

/**
 * Draws `root` from `load()` now, and again at every new block when `signature` of what it loads
 * changed (else only `update`), until `done` of it: then it stops. A failed load keeps what is shown.
 */
export function follow(ctx, root, load, { signature, draw, update, done }) {
  let last;
  let busy = false;
  let again = false;
  let stopped = false;
  const show = (d) => {
    const sig = signature(d);
    if (sig !== last) {
      last = sig;
      root.replaceChildren(...draw(d).filter(Boolean));
    } else if (update) update(root, d);
    if (done?.(d)) stop();
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
        if (!ctx.alive() || stopped) return;
        show(d);
      } while (again && !stopped);
    } catch {
      // The next block tries again.
    } finally {
      busy = false;
    }
  };
  const unsubscribe = ctx.live.subscribe('newHeads', null, () => refresh());
  const stop = () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
  };
  ctx.onCleanup(stop);
  return show;
}

// ---- The list ----

async function loadJobs(before) {
  const [page, pool] = await batch([['module_query', 'enc', 'jobs', before === undefined ? {} : { before }], ['module_query', 'enc', 'pool']]);
  if (page instanceof Error) throw page;
  return { page, pool: pool instanceof Error ? null : pool, paged: before !== undefined };
}

function nodesCell(j) {
  if (j.nodes.length === 0) return h('span', { class: 'muted' }, j.state === 'queued' ? 'waiting' : 'none');
  return j.nodes.map((n, i) => [i > 0 ? ', ' : null, link.account(n, tinyAddr(n))]);
}

function jobRow(j, fresh) {
  const final = FINAL.has(j.state);
  return h(
    'tr',
    { 'data-job': j.id, class: fresh ? 'fresh' : null },
    h('td', { class: 'muted' }, `#${j.seq}`),
    h('td', { class: 'nowrap' }, link.job(j.id, short(j.id, 4))),
    h('td', null, jobState(j.state)),
    h('td', { class: 'nowrap' }, link.account(j.client, tinyAddr(j.client))),
    h('td', { class: 'nowrap' }, h('span', { class: 'muted', title: `${j.replicas} replica${j.replicas === 1 ? '' : 's'}` }, `${j.replicas} · `), nodesCell(j)),
    h('td', { class: 'hide-sm nowrap' }, h('span', { class: 'mono muted', title: j.program }, short(j.program, 4))),
    h('td', { class: 'right' }, count(j.fuel)),
    h('td', { class: 'right' }, link.block(j.submittedAt)),
    h('td', { class: 'right nowrap' }, final ? [h('span', { class: 'muted' }, 'ended '), heightOr(j.settledAt)] : [h('span', { class: 'muted' }, 'by '), link.block(j.deadline)]),
  );
}

const JOBS_HEAD = ['#', 'Job', 'State', 'Client', 'Replicas · nodes', h('th', { class: 'hide-sm' }, 'Program'), h('th', { class: 'right' }, 'Fuel'), h('th', { class: 'right' }, 'Submitted'), h('th', { class: 'right' }, 'Ends')];

function stat(label, value, attrs) {
  return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value', ...attrs }, value));
}

/** #/jobs and #/jobs/<before> (jobs older than that sequence number). */
export async function jobs([before], ctx) {
  const b = before === undefined ? undefined : Number(before);
  const load = () => loadJobs(b);
  let first;
  try {
    first = await load();
  } catch (e) {
    if (noEnc(e)) return encDisabled();
    throw e;
  }
  // What each job was when last drawn: a job that is new, or whose state changed, is highlighted.
  let seen = null;
  const draw = (d) => {
    const list = d.page.jobs;
    const rows = list.map((j) => jobRow(j, seen !== null && seen.get(j.id) !== j.state));
    seen = new Map(list.map((j) => [j.id, j.state]));
    const foot = [
      h('span', { class: 'pager-info' }, list.length > 1 ? `Jobs #${list.at(-1).seq} – #${list[0].seq}` : list.length ? `Job #${list[0].seq}` : ''),
      d.paged ? h('a', { class: 'btn', href: '#/jobs' }, 'Newest') : null,
      d.page.next !== null ? h('a', { class: 'btn', href: `#/jobs/${d.page.next}`, 'data-older': d.page.next }, 'Older →') : h('button', { class: 'btn', disabled: true }, 'Older →'),
    ];
    return [
      h(
        'div',
        { class: 'page-head' },
        h('div', null, h('h1', null, 'Jobs'), h('p', { class: 'subtitle' }, d.paged ? 'Older jobs, newest first.' : 'Jobs submitted to the execution nodes, newest first, updating at every block.')),
        h('div', { class: 'nav-arrows' }, h('a', { class: 'btn', href: '#/executors' }, 'Execution nodes')),
      ),
      d.paged || !d.pool
        ? null
        : h(
            'div',
            { class: 'stats', id: 'jobs-stats' },
            stat('Jobs submitted', count(list[0]?.seq ?? 0), { 'data-stat': 'submitted' }),
            stat('In escrow', amount(d.pool.escrow, 'NEX'), { class: 'value small', 'data-stat': 'escrow' }),
            stat('Rewards minted', amount(d.pool.minted, 'NEX'), { class: 'value small', 'data-stat': 'minted' }),
          ),
      card(null, h('div', { class: 'scroll-x' }, table(JOBS_HEAD, rows, d.paged ? 'No older jobs' : 'No jobs yet')), { id: 'jobs', foot }),
    ];
  };
  const root = h('div', { id: 'jobs-page' });
  follow(ctx, root, load, { signature: (d) => JSON.stringify([d.page, d.pool]), draw })(first);
  return root;
}

// ---- One job ----

async function loadJob(id) {
  const [job, head, placement] = await batch([['module_query', 'enc', 'job', { id }], ['chain_getHead'], ['enc_explainPlacement', id]]);
  if (job instanceof Error) throw job;
  if (head instanceof Error) throw head;
  return { job, head, placement: placement instanceof Error ? null : placement, placementError: placement instanceof Error ? placement.message : null };
}

/** What decides whether the job page is drawn again (not the blocks left: updateLeft keeps those). */
function jobSignature(d) {
  const p = d.placement;
  return JSON.stringify([d.job, p ? { rounds: p.rounds, now: d.job.state === 'queued' ? p.now : null } : d.placementError]);
}

function sum(list, key) {
  return list.reduce((s, x) => s + BigInt(x[key]), 0n).toString();
}

function overviewCard(j, height) {
  const final = FINAL.has(j.state);
  const paid = sum(j.assignments, 'paid');
  const rewards = sum(j.assignments, 'reward');
  return card(
    'Overview',
    kv([
      ['State', h('span', { id: 'job-state' }, jobState(j.state), h('span', { class: 'muted' }, ` ${STATE_HELP[j.state] ?? ''}`))],
      ['Client', link.account(j.client, j.client)],
      ['Submitted', [link.block(j.submittedAt), h('span', { class: 'muted' }, ' · '), h('a', { href: `#/tx/${j.id}` }, 'its submit transaction')]],
      ['Program', h('span', { class: 'mono' }, j.program)],
      ['Program hash', h('span', { class: 'mono muted' }, j.programHash)],
      ['Input', `${count(j.inputBytes)} bytes`],
      ['Fuel', count(j.fuel)],
      ['Max price', [amount(j.maxPrice, 'NEX'), h('span', { class: 'muted' }, ' per unit of fuel')]],
      ['Replicas', [String(j.replicas), !final && j.needed > 0 ? h('span', { class: 'muted' }, ` · ${j.needed} still to place${j.queued ? ' (queued)' : ''}`) : null]],
      ['Memory', `${count(j.memoryKiB)} KiB per replica`],
      ['Deadline', [link.block(j.deadline), !final && j.executedAt === 0 ? [h('span', { class: 'muted' }, ' · '), blocksLeft(j.deadline, height)] : null]],
      ['Escrow held', amount(j.escrow, 'NEX')],
      ['Executed', heightOr(j.executedAt, 'not yet')],
      ['Challenge window', j.settleAt ? [h('span', { class: 'muted' }, 'until '), link.block(j.settleAt), j.state === 'executed' ? [h('span', { class: 'muted' }, ' · '), blocksLeft(j.settleAt, height)] : null] : h('span', { class: 'muted' }, 'not open')],
      ['Ended', heightOr(j.settledAt, 'not yet')],
      ['Paid to nodes', amount(paid, 'NEX')],
      ['Rewards minted', amount(rewards, 'NEX')],
      ['Refunded', amount(j.refunded, 'NEX')],
    ]),
    { id: 'job-overview' },
  );
}

function assignmentsCard(j) {
  const rows = j.assignments.map((a) =>
    h(
      'tr',
      { 'data-node': a.node },
      h('td', { class: 'nowrap' }, link.account(a.node, tinyAddr(a.node))),
      h('td', null, assignmentState(a.state)),
      h('td', { class: 'right' }, amount(a.price, 'NEX')),
      h('td', { class: 'right' }, link.block(a.placedAt)),
      h('td', { class: 'right' }, link.block(a.leaseUntil)),
      h('td', { class: 'right' }, a.receipt ? count(a.fuelUsed) : h('span', { class: 'muted' }, '–')),
      h('td', { class: 'right' }, amount(a.paid, 'NEX')),
      h('td', { class: 'right' }, amount(a.reward, 'NEX')),
      h('td', { class: 'hide-sm' }, a.receipt ? h('span', { class: 'mono muted', title: a.receipt }, short(a.receipt, 6)) : h('span', { class: 'muted' }, 'not in')),
    ),
  );
  const head = ['Node', 'State', h('th', { class: 'right' }, 'Price / fuel'), h('th', { class: 'right' }, 'Placed'), h('th', { class: 'right' }, 'Lease until'), h('th', { class: 'right' }, 'Fuel used'), h('th', { class: 'right' }, 'Paid'), h('th', { class: 'right' }, 'Reward'), h('th', { class: 'hide-sm' }, 'Receipt')];
  const empty = j.state === 'queued' ? 'Not placed yet: waiting for execution nodes with room' : 'It was never placed';
  return card(`Assignments (${j.assignments.length})`, h('div', { class: 'scroll-x' }, table(head, rows, empty)), { id: 'job-assignments' });
}

function verdictsTable(d) {
  const rows = d.verdicts.map((v) =>
    h(
      'tr',
      { 'data-node': v.node },
      h('td', { class: 'nowrap' }, link.account(v.node, tinyAddr(v.node))),
      h('td', null, h('span', { class: 'mono muted', title: v.claimed }, short(v.claimed, 6))),
      h('td', null, v.lied ? h('span', { class: 'badge bad', 'data-verdict': 'lied' }, 'lied') : h('span', { class: 'badge ok', 'data-verdict': 'honest' }, 'honest')),
      h('td', null, v.field ? h('span', { class: 'kind' }, v.field) : h('span', { class: 'muted' }, '–')),
      h('td', { class: 'right' }, amount(v.slashedGen, 'GEN')),
      h('td', { class: 'right' }, amount(v.slashedNex, 'NEX')),
    ),
  );
  const head = ['Node', 'Claimed receipt', 'Verdict', 'First differing field', h('th', { class: 'right' }, 'Slashed (bond)'), h('th', { class: 'right' }, 'Slashed (reserve)')];
  return h('div', { class: 'scroll-x' }, table(head, rows, d.outcome === 'open' ? 'Not judged yet' : 'No verdicts'));
}

function disputesCard(j) {
  const body =
    j.disputes.length === 0
      ? h('div', { class: 'card-body muted' }, 'No disputes.')
      : h(
          'div',
          { class: 'card-body events' },
          j.disputes.map((d, i) =>
            h(
              'div',
              { class: 'event', 'data-dispute': i },
              h('div', { class: 'event-head' }, `Dispute ${i + 1}`),
              kv([
                ['Outcome', [outcomeBadge(d.outcome), h('span', { class: 'muted' }, ` ${OUTCOME_HELP[d.outcome] ?? ''}`)]],
                ['Opened by', d.challenger ? [link.account(d.challenger, d.challenger), h('span', { class: 'muted' }, ' (a challenge)')] : h('span', { class: 'muted' }, 'the chain: the receipts differ')],
                d.node ? ['Against', link.account(d.node, d.node)] : null,
                d.challenger ? ['Challenge bond', amount(d.bond, 'NEX')] : null,
                ['Opened', link.block(d.openedAt)],
                ['Resolved', heightOr(d.resolvedAt, 'not yet')],
                ['Re-execution receipt', d.actual ? h('span', { class: 'mono' }, d.actual) : h('span', { class: 'muted' }, d.outcome === 'open' ? 'not re-executed yet' : 'not re-executed')],
              ]),
              verdictsTable(d),
            ),
          ),
        );
  return card(`Disputes (${j.disputes.length})`, body, { id: 'job-disputes' });
}

function score(s) {
  return h('span', { title: 'out of 10,000,000' }, BigInt(s).toLocaleString('en-US'));
}

function roundView(r) {
  const chosen = new Set(r.chosen);
  const rows = r.ranked.map((x, i) =>
    h(
      'tr',
      { 'data-node': x.node, 'data-chosen': chosen.has(x.node) ? 'yes' : 'no' },
      h('td', { class: 'muted' }, String(i + 1)),
      h('td', { class: 'nowrap' }, link.account(x.node, tinyAddr(x.node))),
      h('td', { class: 'right' }, score(x.score)),
      h('td', { class: 'hide-sm' }, h('span', { class: 'mono muted', title: x.tiebreak }, short(x.tiebreak, 6))),
      h('td', null, chosen.has(x.node) ? h('span', { class: 'badge ok' }, 'chosen') : h('span', { class: 'muted' }, '–')),
    ),
  );
  return h(
    'div',
    { class: 'event', 'data-round': r.height },
    h('div', { class: 'event-head' }, 'Block ', link.block(r.height), ` · ${r.candidates} candidate${r.candidates === 1 ? '' : 's'} · ${r.chosen.length} chosen`),
    h('div', { class: 'scroll-x' }, table(['Rank', 'Node', h('th', { class: 'right' }, 'Score'), h('th', { class: 'hide-sm' }, 'Tie-break'), 'Chosen'], rows, 'No node passed the filter')),
  );
}

function nowView(now) {
  const rows = now.map((c) =>
    h(
      'tr',
      { 'data-node': c.node },
      h('td', { class: 'nowrap' }, link.account(c.node, tinyAddr(c.node))),
      h('td', null, h('span', { class: 'badge plain', 'data-status': c.status }, c.status)),
      h('td', { class: 'right' }, amount(c.price, 'NEX')),
      h('td', { class: 'right' }, String(c.freeSlots)),
      h('td', { class: 'right' }, score(c.score)),
    ),
  );
  return h(
    'div',
    { class: 'event', id: 'job-placement-now' },
    h('div', { class: 'event-head' }, 'The registry now'),
    h('div', { class: 'scroll-x' }, table(['Node', 'Status', h('th', { class: 'right' }, 'Price / fuel'), h('th', { class: 'right' }, 'Free slots'), h('th', { class: 'right' }, 'Score')], rows, 'No execution node can take it now')),
  );
}

function placementCard(d) {
  const p = d.placement;
  if (!p) return card('Placement', h('div', { class: 'card-body muted' }, `This node does not explain placements (${d.placementError}).`), { id: 'job-placement' });
  const rounds = [...p.rounds].reverse();
  return card(
    `Placement (${p.rounds.length} round${p.rounds.length === 1 ? '' : 's'})`,
    h(
      'div',
      null,
      h('div', { class: 'card-body muted', id: 'job-placement-rule' }, p.rule),
      h(
        'div',
        { class: 'card-body events' },
        rounds.length === 0 ? h('p', { class: 'muted' }, 'Not placed yet: no round has found room for it.') : rounds.map((r) => roundView(r)),
        d.job.state === 'queued' && Array.isArray(p.now) ? nowView(p.now) : null,
      ),
    ),
    { id: 'job-placement' },
  );
}

function drawJob(d) {
  const j = d.job;
  return [
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'Job', jobState(j.state)), h('p', { class: 'subtitle mono break' }, j.id)),
      h('div', { class: 'nav-arrows' }, h('a', { class: 'btn', href: '#/jobs' }, 'All jobs'), h('a', { class: 'btn', href: '#/executors' }, 'Executors')),
    ),
    overviewCard(j, d.head.height),
    assignmentsCard(j),
    disputesCard(j),
    placementCard(d),
  ];
}

/** #/job/<id> */
export async function job([idText], ctx) {
  const id = idText.toLowerCase();
  const load = () => loadJob(id);
  let first;
  try {
    first = await load();
  } catch (e) {
    if (noEnc(e)) return encDisabled();
    if (e instanceof RpcResponseError && e.rpcCode === RPC_INVALID_PARAMS && /no job .* was submitted/.test(e.message)) {
      // Maybe its submit transaction is not committed yet: look again at every new block.
      ctx.onCleanup(ctx.live.subscribe('newHeads', null, () => call('module_query', 'enc', 'job', { id }).then(() => ctx.reload(), () => undefined)));
      return notice('Job not found', 'No job has this id yet (a job’s id is the hash of its enc.submit transaction); this page will show it when there is one.', h('p', { class: 'mono muted' }, id));
    }
    throw e;
  }
  const root = h('div', { id: 'job', 'data-job': id });
  // A settled, expired or unresolved job no longer changes; any other is followed block by block.
  if (FINAL.has(first.job.state)) root.replaceChildren(...drawJob(first).filter(Boolean));
  else follow(ctx, root, load, { signature: jobSignature, draw: drawJob, update: (r, d) => updateLeft(r, d.head.height), done: (d) => FINAL.has(d.job.state) })(first);
  return root;
}
