// An account: balances, nonce and its transactions, newest first, paged with the node's cursors.
import { ago, amount, h, link, notice, status, summary, table, units } from './format.js';
import { call } from './rpc.js';

const PAGE = 20;

function txRows(address, txs) {
  return txs.map((t) => {
    const out = t.from === address;
    return h(
      'tr',
      { 'data-tx': t.hash },
      h('td', null, link.tx(t.hash)),
      h('td', null, link.block(t.blockHeight)),
      h('td', null, h('span', { class: `badge ${out ? 'warn' : 'ok'}` }, out ? 'OUT' : 'IN')),
      h('td', null, out ? summary(t) : [h('span', { class: 'muted' }, 'from '), link.account(t.from), t.args?.amount ? [' ', amount(t.args.amount, t.args.asset)] : null]),
      h('td', { class: 'right' }, status(t.status, t.errorCode)),
      h('td', { class: 'right' }, ago(t.timestamp)),
    );
  });
}

export async function account([address], ctx) {
  let acct;
  try {
    acct = await call('state_getAccount', address);
  } catch (e) {
    if (!e.data?.param) return notice('Not an address', e.message);
    // The node's reason, in the words the CLI uses ("bad checksum: check the address for a typo").
    const why = /is not a valid address: (.*)$/.exec(e.message)?.[1] ?? 'addresses look like mn1… (bech32m)';
    return notice('Not an address', `“${address}” is not a valid address: ${why}.`);
  }
  const validators = await call('chain_getValidators', 'latest');
  const isValidator = validators.validators.some((v) => v.address === address);

  // Page history: the cursors of the pages before this one, so "Newer" can go back.
  const cursors = [];
  let current = null;
  const body = h('div');
  const foot = h('div', { class: 'card-foot' });
  const showPage = async (before) => {
    const page = await call('chain_getAccountTransactions', address, { limit: PAGE, ...(before ? { before } : {}) });
    if (!ctx.alive()) return;
    current = before;
    body.replaceChildren(table(['Hash', 'Block', 'Dir', 'What', h('th', { class: 'right' }, 'Status'), h('th', { class: 'right' }, 'Age')], txRows(address, page.transactions), 'No transactions yet'));
    const pageNo = cursors.length + 1;
    foot.replaceChildren(
      h('span', { class: 'pager-info' }, `Page ${pageNo}`),
      h('button', { class: 'btn', disabled: cursors.length === 0, onclick: () => showPage(cursors.pop() ?? null) }, '← Newer'),
      h('button', { class: 'btn', id: 'older', disabled: page.next === null, onclick: () => (cursors.push(current), showPage(page.next)) }, 'Older →'),
    );
  };
  await showPage(null);

  const balances = h(
    'div',
    { class: 'balances', id: 'balances' },
    Object.entries(acct.balances).map(([sym, v]) => h('div', { class: 'stat', 'data-asset': sym }, h('div', { class: 'label' }, sym), h('div', { class: 'value', title: `${v} base units` }, units(v, sym)))),
  );
  const nonceEl = h('span', null, String(acct.nonce));

  // Live: balances and the first page follow this account's receipts.
  ctx.onCleanup(
    ctx.live.subscribe('receipts', { address }, async () => {
      const a = await call('state_getAccount', address);
      if (!ctx.alive()) return;
      for (const [sym, v] of Object.entries(a.balances)) {
        const el = balances.querySelector(`[data-asset="${sym}"] .value`);
        el.textContent = units(v, sym);
        el.title = `${v} base units`;
      }
      nonceEl.textContent = String(a.nonce);
      if (current === null) await showPage(null);
    }),
  );

  return h(
    'div',
    null,
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'Account', isValidator ? h('span', { class: 'badge info' }, 'Validator') : null), h('p', { class: 'subtitle mono' }, address)),
      h('div', { class: 'muted' }, 'Next nonce ', h('strong', null, nonceEl)),
    ),
    balances,
    h('section', { class: 'card', id: 'account-txs' }, h('div', { class: 'card-head' }, h('h2', null, 'Transactions')), body, foot),
  );
}
