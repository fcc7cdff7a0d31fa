// Overview (latest blocks and transactions, updating live) and the paged list of blocks.
import { ago, amount, card, h, link, short, table, tinyAddr, units } from './format.js';
import { batch, call } from './rpc.js';

const BLOCK_ROWS = 12;
const TX_ROWS = 12;
/** Blocks searched back for the latest transactions: the page never walks the whole chain. */
const TX_LOOKBACK_BLOCKS = 200;

function blockRow(b, fresh) {
  return h(
    'tr',
    { 'data-height': b.height, class: fresh ? 'fresh' : null },
    h('td', null, link.block(b.height)),
    h('td', { class: 'hide-sm' }, link.block(b.hash, short(b.hash, 6))),
    h('td', { class: 'hide-sm' }, b.height > 0 ? link.account(b.proposer, tinyAddr(b.proposer)) : h('span', { class: 'muted' }, 'genesis')),
    h('td', { class: 'right' }, b.transactionCount > 0 ? h('span', { class: 'badge info' }, `${b.transactionCount} tx`) : h('span', { class: 'muted' }, '0')),
    h('td', { class: 'right' }, ago(b.timestamp)),
  );
}

function txRow(t, fresh) {
  const a = t.args;
  const transfer = a && a.to && a.amount && a.asset;
  return h(
    'tr',
    { 'data-tx': t.hash, class: fresh ? 'fresh' : null },
    h('td', { class: 'nowrap' }, link.tx(t.hash, short(t.hash, 4))),
    h('td', { class: 'nowrap' }, link.account(t.from, tinyAddr(t.from)), transfer ? [h('span', { class: 'arrow' }, '→'), link.account(a.to, tinyAddr(a.to))] : [' ', h('span', { class: 'kind' }, t.kind)]),
    h('td', { class: 'right' }, transfer ? amount(a.amount, a.asset) : null),
    h('td', { class: 'right' }, link.block(t.blockHeight)),
  );
}

/** Full transactions of the given blocks (newest first), flattened. */
async function transactionsOf(blocks) {
  const withTxs = blocks.filter((b) => b.transactionCount > 0);
  const full = await batch(withTxs.map((b) => ['chain_getBlockByHeight', b.height, true]));
  return full.flatMap((b) => (b && !(b instanceof Error) ? [...b.transactions].reverse() : []));
}

/** The latest transactions: from the newest blocks back, at most TX_LOOKBACK_BLOCKS of them. */
async function latestTransactions(firstPage) {
  let txs = await transactionsOf(firstPage.blocks);
  let next = firstPage.next;
  let scanned = firstPage.blocks.length;
  while (txs.length < TX_ROWS && next !== null && scanned < TX_LOOKBACK_BLOCKS) {
    const page = await call('chain_getBlocks', { limit: 100, before: next });
    txs = txs.concat(await transactionsOf(page.blocks));
    next = page.next;
    scanned += page.blocks.length;
  }
  return { txs: txs.slice(0, TX_ROWS), scanned };
}

function stat(label, value, id) {
  return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id }, value));
}

export async function home(_params, ctx) {
  const [status, first, validators, assets] = await batch([['node_status'], ['chain_getBlocks', { limit: BLOCK_ROWS }], ['chain_getValidators', 'latest'], ['bank_getAssets']]);
  const { txs, scanned } = await latestTransactions(first);

  const blocksBody = h('tbody', null, first.blocks.map((b) => blockRow(b)));
  const txBody = h('tbody', null, txs.map((t) => txRow(t)));
  const noTx = h('tr', { class: 'empty-row' }, h('td', { colspan: 4, class: 'empty' }, `No transactions in the latest ${scanned.toLocaleString('en-US')} blocks`));
  if (txs.length === 0) txBody.append(noTx);
  const nex = assets instanceof Error ? undefined : assets.find((a) => a.symbol === 'NEX');

  const heightEl = stat('Block height', status.head.height.toLocaleString('en-US'), 'stat-height');
  const mempoolEl = stat('Pending transactions', String(status.mempool.size), 'stat-mempool');
  const view = h(
    'div',
    null,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Overview'), h('p', { class: 'subtitle' }, 'Blocks and transactions appear here as the chain commits them.'))),
    h(
      'div',
      { class: 'stats' },
      heightEl,
      stat('Chain', h('span', { class: 'small mono' }, status.chainId)),
      stat('Validators', String(validators.validators.length)),
      mempoolEl,
      nex ? stat('NEX supply', h('span', { class: 'small' }, units(nex.supply, 'NEX'))) : null,
    ),
    h(
      'div',
      { class: 'grid-2' },
      card('Latest blocks', h('table', { id: 'latest-blocks', class: 'compact' }, h('thead', null, h('tr', null, h('th', null, 'Height'), h('th', { class: 'hide-sm' }, 'Hash'), h('th', { class: 'hide-sm' }, 'Proposer'), h('th', { class: 'right' }, 'Txs'), h('th', { class: 'right' }, 'Age'))), blocksBody), {
        right: h('a', { href: '#/blocks' }, 'All blocks →'),
      }),
      card('Latest transactions', h('div', { class: 'scroll-x' }, h('table', { id: 'latest-txs', class: 'compact' }, h('thead', null, h('tr', null, h('th', null, 'Hash'), h('th', null, 'From → to'), h('th', { class: 'right' }, 'Amount'), h('th', { class: 'right' }, 'Block'))), txBody))),
    ),
  );

  const setHeight = (n) => (heightEl.querySelector('.value').textContent = n.toLocaleString('en-US'));
  // Heads arrive in order; each one is shown at once, its transactions once fetched.
  let chain = Promise.resolve();
  ctx.onCleanup(
    ctx.live.subscribe('newHeads', null, (head) => {
      setHeight(head.height);
      if (blocksBody.querySelector(`tr[data-height="${head.height}"]`)) return;
      blocksBody.prepend(blockRow(head, true));
      while (blocksBody.children.length > BLOCK_ROWS) blocksBody.lastElementChild.remove();
      if (head.transactionCount === 0) return;
      chain = chain.then(async () => {
        const b = await call('chain_getBlockByHeight', head.height, true);
        if (!b || !ctx.alive()) return;
        noTx.remove();
        for (const t of b.transactions) if (!txBody.querySelector(`tr[data-tx="${t.hash}"]`)) txBody.prepend(txRow(t, true));
        while (txBody.children.length > TX_ROWS) txBody.lastElementChild.remove();
      }).catch(() => undefined);
    }),
  );
  ctx.onCleanup(ctx.live.subscribe('pendingTransactions', null, () => refreshMempool()));
  const refreshMempool = debounce(async () => {
    const s = await call('node_status');
    if (ctx.alive()) mempoolEl.querySelector('.value').textContent = String(s.mempool.size);
  }, 300);
  const timer = setInterval(refreshMempool, 3000);
  ctx.onCleanup(() => clearInterval(timer));
  return view;
}

function debounce(f, ms) {
  let t;
  return () => {
    clearTimeout(t);
    t = setTimeout(() => f().catch(() => undefined), ms);
  };
}

/** #/blocks and #/blocks/<before>: every block, newest first, 25 a page. */
export async function blocks([before]) {
  const page = await call('chain_getBlocks', { limit: 25, ...(before !== undefined ? { before: Number(before) } : {}) });
  const rows = page.blocks.map((b) => blockRow(b));
  const top = page.blocks[0]?.height;
  const foot = [
    h('span', { class: 'pager-info' }, top !== undefined ? `Blocks ${page.blocks.at(-1).height.toLocaleString('en-US')} – ${top.toLocaleString('en-US')}` : ''),
    h('a', { class: 'btn', href: '#/blocks' }, 'Newest'),
    page.next !== null ? h('a', { class: 'btn', href: `#/blocks/${page.next}` }, 'Older →') : h('button', { class: 'btn', disabled: true }, 'Older →'),
  ];
  return h(
    'div',
    null,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Blocks'), h('p', { class: 'subtitle' }, 'Newest first.'))),
    card(null, table(['Height', h('th', { class: 'hide-sm' }, 'Hash'), h('th', { class: 'hide-sm' }, 'Proposer'), h('th', { class: 'right' }, 'Txs'), h('th', { class: 'right' }, 'Age')], rows, 'No blocks'), { foot }),
  );
}
