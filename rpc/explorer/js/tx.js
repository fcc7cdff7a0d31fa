// A transaction: what it asked for, and its receipt (status, error, events).
import { ago, amount, card, dateTime, h, kv, link, notice, short, status } from './format.js';
import { call } from './rpc.js';

const ADDRESS = /^mn1[02-9ac-hj-np-z]{20,}$/;

function attrValue(key, value, attrs) {
  if (ADDRESS.test(value)) return link.account(value, value);
  if (key === 'amount' && attrs.asset) return amount(value, attrs.asset);
  if (key === 'amount') return amount(value, 'NEX');
  return h('span', { class: 'mono' }, value);
}

function eventsView(events) {
  if (events.length === 0) return h('div', { class: 'card-body muted' }, 'No events.');
  return h(
    'div',
    { class: 'card-body events' },
    events.map((e) =>
      h(
        'div',
        { class: 'event' },
        h('div', { class: 'event-head' }, `${e.module}.${e.type}`),
        kv(Object.entries(e.attributes).map(([k, v]) => [k, attrValue(k, v, e.attributes)])),
      ),
    ),
  );
}

function argsRows(tx) {
  if (!tx.args) return [['Payload', h('span', { class: 'mono' }, tx.payload)]];
  return Object.entries(tx.args).map(([k, v]) => {
    if (k === 'amount' && tx.args.asset) return ['Amount', amount(v, tx.args.asset)];
    if (ADDRESS.test(v)) return [k === 'to' ? 'To' : k, link.account(v, v)];
    return [k === 'asset' ? 'Asset' : k, v];
  });
}

export async function tx([hash], ctx) {
  const [t, r] = await Promise.all([call('chain_getTransaction', hash.toLowerCase()), call('chain_getReceipt', hash.toLowerCase())]);
  if (!t) {
    // Maybe still in the mempool: look again at every new block.
    ctx.onCleanup(ctx.live.subscribe('newHeads', null, () => ctx.reload()));
    return notice('Transaction not found', 'No committed transaction has this hash. If it was just sent it may still be pending: this page updates when it is committed.', h('p', { class: 'mono muted' }, hash));
  }
  const header = await call('chain_getBlockByHeight', t.blockHeight, false);
  const failed = r && r.status === 'failed';
  return h(
    'div',
    null,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Transaction', status(r?.status, r?.errorCode)), h('p', { class: 'subtitle mono' }, t.hash))),
    card(
      'Overview',
      h(
        'div',
        null,
        kv([
          ['Status', h('span', { id: 'tx-status' }, status(r?.status, r?.errorCode))],
          failed ? ['Error', h('div', { class: 'error-box' }, h('strong', null, r.errorCode ?? 'failed'), r.errorMessage ? `: ${r.errorMessage}` : '')] : null,
          ['Block', [link.block(t.blockHeight), h('span', { class: 'muted' }, ` · index ${t.index} · `), link.block(t.blockHash, short(t.blockHash, 6))]],
          header ? ['Time', [dateTime(header.timestamp), ' · ', ago(header.timestamp)]] : null,
          ['From', link.account(t.from, t.from)],
          ['Kind', h('span', { class: 'kind' }, t.kind)],
          t.kind === 'enc.submit' && r?.status === 'success' ? ['Job', link.job(t.hash, t.hash)] : null,
          ...argsRows(t),
          ['Fee', amount(t.fee, 'NEX')],
          ['Nonce', String(t.nonce)],
          ['Size', `${t.size} bytes`],
          ['Chain', t.chainId],
          ['Signature', h('span', { class: 'mono muted' }, t.signature)],
        ]),
      ),
    ),
    card(`Events (${r ? r.events.length : 0})`, r ? eventsView(r.events) : h('div', { class: 'card-body muted' }, 'No receipt.'), { id: 'tx-events' }),
  );
}
