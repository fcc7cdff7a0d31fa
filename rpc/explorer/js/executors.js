// ENC's execution nodes (the enc module): each registered node's status, capacity, price, bond
// and record (jobs done, missed, lied, slashes), and what ENC's account holds. Follows the chain.
import { amount, card, h, kv, link, table, tinyAddr, units } from './format.js';
import { batch } from './rpc.js';
import { encDisabled, follow, noEnc } from './jobs.js';

const STATUS_CLASS = { active: 'ok', jailed: 'bad', unbonding: 'info' };

function statusBadge(s) {
  return h('span', { class: `badge ${STATUS_CLASS[s] ?? 'plain'}`, 'data-status': s }, s);
}

function count(n) {
  return Number(n).toLocaleString('en-US');
}

/** A count that is bad news (missed leases, lies) stands out when it is not 0. */
function badCount(n) {
  return n > 0 ? h('span', { class: 'badge bad' }, count(n)) : h('span', { class: 'muted' }, '0');
}

function statusCell(n) {
  const until = n.status === 'jailed' ? n.jailedUntil : n.status === 'unbonding' ? n.unbondAt : 0;
  return [statusBadge(n.status), until ? h('div', { class: 'muted nowrap' }, 'until ', link.block(until)) : null];
}

function nodeRow(n) {
  return h(
    'tr',
    { 'data-executor': n.address },
    h('td', { class: 'nowrap' }, h('div', null, link.account(n.address, tinyAddr(n.address))), h('div', { class: 'muted' }, 'since ', link.block(n.registeredAt))),
    h('td', null, statusCell(n)),
    h('td', { class: 'right nowrap' }, h('div', null, `${count(n.slotsUsed)} / ${count(n.slots)} slots`), h('div', { class: 'muted' }, `${count(n.memoryUsed)} / ${count(n.memoryKiB)} KiB`)),
    h('td', { class: 'right' }, amount(n.price, 'NEX')),
    h('td', { class: 'right' }, amount(n.bond, 'GEN')),
    h('td', { class: 'right hide-sm' }, amount(n.reserve, 'NEX')),
    h('td', { class: 'right' }, count(n.pending)),
    h('td', { class: 'right' }, count(n.done)),
    h('td', { class: 'right' }, badCount(n.missed)),
    h('td', { class: 'right' }, badCount(n.lied)),
    h('td', { class: 'right' }, BigInt(n.slashed) > 0n ? amount(n.slashed, 'GEN') : h('span', { class: 'muted' }, 'none')),
  );
}

const NODES_HEAD = [
  'Node',
  'Status',
  h('th', { class: 'right' }, 'In use'),
  h('th', { class: 'right' }, 'Price / fuel'),
  h('th', { class: 'right' }, 'Bond'),
  h('th', { class: 'right hide-sm' }, 'Reserve'),
  h('th', { class: 'right' }, 'Pending'),
  h('th', { class: 'right' }, 'Done'),
  h('th', { class: 'right' }, 'Missed'),
  h('th', { class: 'right' }, 'Lied'),
  h('th', { class: 'right' }, 'Slashed'),
];

function nodesTable(list) {
  const t = table(NODES_HEAD, list.map((n) => nodeRow(n)), 'No execution nodes registered');
  t.classList.add('compact');
  return t;
}

function stat(label, value, attrs) {
  return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value', ...attrs }, value));
}

/**
 * What ENC's account holds against its books (escrow + reserves + challenge bonds in NEX, bonds in
 * GEN). It holds at least that; more only when someone sent it a plain transfer (ENC never spends it).
 */
function booksBadge(pool) {
  const nex = BigInt(pool.balances.NEX) - (BigInt(pool.escrow) + BigInt(pool.reserves) + BigInt(pool.challengeBonds));
  const gen = BigInt(pool.balances.GEN) - BigInt(pool.bonds);
  if (nex === 0n && gen === 0n) return h('span', { class: 'badge ok', 'data-books': 'match' }, 'matches the books');
  if (nex < 0n || gen < 0n) return h('span', { class: 'badge bad', 'data-books': 'short' }, 'short of the books');
  const extra = [nex > 0n ? `${units(nex.toString(), 'NEX')} NEX` : null, gen > 0n ? `${units(gen.toString(), 'GEN')} GEN` : null].filter(Boolean).join(' and ');
  return h('span', { class: 'badge plain', 'data-books': 'excess', title: 'sent to it by plain transfers: ENC never spends it' }, `${extra} beyond the books`);
}

function poolCard(pool) {
  return card(
    'ENC pool',
    kv([
      ['Account', link.account(pool.account, pool.account)],
      ['Escrow', [amount(pool.escrow, 'NEX'), h('span', { class: 'muted' }, ' held for open jobs')]],
      ['Reserves', [amount(pool.reserves, 'NEX'), h('span', { class: 'muted' }, ' locked from the nodes’ payments')]],
      ['Challenge bonds', [amount(pool.challengeBonds, 'NEX'), h('span', { class: 'muted' }, ' posted by open challenges')]],
      ['Bonds', [amount(pool.bonds, 'GEN'), h('span', { class: 'muted' }, ' bonded by the nodes')]],
      ['Balances', [amount(pool.balances.NEX, 'NEX'), h('span', { class: 'muted' }, ' · '), amount(pool.balances.GEN, 'GEN'), ' ', booksBadge(pool)]],
      ['Rewards minted', amount(pool.minted, 'NEX')],
      ['Burned', [amount(pool.burnedNex, 'NEX'), h('span', { class: 'muted' }, ' · '), amount(pool.burnedGen, 'GEN'), h('span', { class: 'muted' }, ' (slashes and lost challenge bonds)')]],
    ]),
    { id: 'enc-pool' },
  );
}

async function loadExecutors(after) {
  const [page, pool, params] = await batch([['module_query', 'enc', 'nodes', after ? { after } : {}], ['module_query', 'enc', 'pool'], ['module_query', 'enc', 'params']]);
  if (page instanceof Error) throw page;
  if (pool instanceof Error) throw pool;
  return { page, pool, params: params instanceof Error ? null : params, paged: Boolean(after) };
}

function drawExecutors(d) {
  const list = d.page.nodes;
  const active = list.filter((n) => n.status === 'active');
  const slots = active.reduce((s, n) => s + n.slots, 0);
  const used = active.reduce((s, n) => s + n.slotsUsed, 0);
  const more = d.page.next !== null;
  const foot =
    d.paged || more
      ? [
          h('span', { class: 'pager-info' }, 'In address order, 100 a page.'),
          d.paged ? h('a', { class: 'btn', href: '#/executors' }, 'First') : null,
          more ? h('a', { class: 'btn', href: `#/executors/${d.page.next}`, 'data-next': d.page.next }, 'Next →') : h('button', { class: 'btn', disabled: true }, 'Next →'),
        ]
      : null;
  return [
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'Execution nodes'), h('p', { class: 'subtitle' }, 'The nodes that run ENC jobs: their capacity, price, bond and record, updating at every block.')),
      h('div', { class: 'nav-arrows' }, h('a', { class: 'btn', href: '#/jobs' }, 'Jobs')),
    ),
    h(
      'div',
      { class: 'stats', id: 'executors-stats' },
      stat(d.paged ? 'Nodes on this page' : 'Registered nodes', `${count(list.length)}${more ? '+' : ''}`, { 'data-stat': 'nodes' }),
      stat('Active', count(active.length), { 'data-stat': 'active' }),
      stat('Active slots in use', `${count(used)} of ${count(slots)}`, { 'data-stat': 'slots' }),
      stat('Bonded', amount(d.pool.bonds, 'GEN'), { class: 'value small', 'data-stat': 'bonds' }),
      d.params ? stat('Minimum bond', amount(d.params.minBond, 'GEN'), { class: 'value small', 'data-stat': 'minBond' }) : null,
    ),
    card('Execution nodes', h('div', { class: 'scroll-x' }, nodesTable(list)), { id: 'executors', foot }),
    poolCard(d.pool),
  ];
}

/** #/executors and #/executors/<after> (nodes after that address). */
export async function executors([after], ctx) {
  const load = () => loadExecutors(after);
  let first;
  try {
    first = await load();
  } catch (e) {
    if (noEnc(e)) return encDisabled();
    throw e;
  }
  const root = h('div', { id: 'executors-page' });
  follow(ctx, root, load, { signature: (d) => JSON.stringify([d.page, d.pool, d.params]), draw: drawExecutors })(first);
  return root;
}
