// A block: its header, who signed its commit certificate, and its transactions.
import { ago, amount, card, dateTime, h, kv, link, notice, short, status, summary, table } from './format.js';
import { batch, call } from './rpc.js';

/** Transactions listed on a block page; a bigger block shows its first ones and says so. */
const MAX_ROWS = 250;
/** Receipts asked for per JSON-RPC batch (the node caps batches). */
const CHUNK = 125;

async function receiptsOf(txs) {
  const out = [];
  for (let i = 0; i < txs.length; i += CHUNK) out.push(...(await batch(txs.slice(i, i + CHUNK).map((t) => ['chain_getReceipt', t.hash]))));
  return out;
}

function certificateView(cert, validators) {
  if (!cert) return card('Commit certificate', h('div', { class: 'card-body muted' }, 'Genesis has no certificate: it is agreed on by every validator out of band.'));
  const signed = new Set(cert.signers);
  const vals = validators?.validators ?? [];
  const power = (pred) => vals.reduce((s, v, i) => (pred(i) ? s + BigInt(v.power) : s), 0n);
  const total = power(() => true);
  const signedPower = power((i) => signed.has(i));
  const list = h(
    'div',
    { class: 'signers', id: 'signers' },
    vals.map((v, i) =>
      h(
        'div',
        { class: `signer ${signed.has(i) ? 'yes' : 'no'}`, 'data-signed': signed.has(i) ? 'yes' : 'no' },
        h('span', { class: 'mark' }, signed.has(i) ? '✓' : '–'),
        h('div', null, h('div', null, link.account(v.address)), h('div', { class: 'muted' }, `validator ${i} · power ${v.power} · ${signed.has(i) ? 'signed' : 'did not sign'}`)),
      ),
    ),
  );
  return card(
    'Commit certificate',
    h(
      'div',
      null,
      kv([
        ['Signed by', h('span', { id: 'signed-count' }, h('strong', null, `${signed.size} of ${vals.length} validators`), h('span', { class: 'muted' }, ` · power ${signedPower} of ${total} (quorum ${validators?.quorum ?? '?'})`))],
        ['Round', String(cert.round)],
        ['Signer bitmap', h('span', { class: 'mono' }, cert.signersBitmap)],
        ['Aggregate BLS signature', h('span', { class: 'mono muted' }, short(cert.signature, 20))],
      ]),
      h('div', { class: 'card-body' }, list),
    ),
  );
}

export async function block([ref], ctx) {
  const byHash = /^0x[0-9a-fA-F]{64}$/.test(ref);
  const b = byHash ? await call('chain_getBlockByHash', ref.toLowerCase(), true) : await call('chain_getBlockByHeight', Number(ref), true);
  if (!b) {
    // A height above the head: show it once it is committed.
    if (!byHash) ctx.onCleanup(ctx.live.subscribe('newHeads', null, (head) => head.height >= Number(ref) && ctx.reload()));
    return notice('Block not found', byHash ? `No block has the hash ${ref}.` : `Block ${ref} has not been committed yet; this page will show it when it is.`);
  }
  const shown = b.transactions.slice(0, MAX_ROWS);
  const [validators, receipts] = await Promise.all([call('chain_getValidators', b.height).catch(() => null), receiptsOf(shown)]);
  const head = await call('chain_getHead');
  const rows = shown.map((t, i) => {
    const r = receipts[i] instanceof Error ? null : receipts[i];
    return h(
      'tr',
      { 'data-tx': t.hash },
      h('td', { class: 'muted' }, String(i)),
      h('td', null, link.tx(t.hash)),
      h('td', null, link.account(t.from)),
      h('td', null, summary(t)),
      h('td', { class: 'right' }, amount(t.fee, 'NEX')),
      h('td', { class: 'right' }, status(r?.status, r?.errorCode)),
    );
  });
  const nav = h(
    'div',
    { class: 'nav-arrows' },
    b.height > 0 ? h('a', { class: 'btn', href: `#/block/${b.height - 1}` }, '← Previous') : null,
    b.height < head.height ? h('a', { class: 'btn', href: `#/block/${b.height + 1}` }, 'Next →') : null,
  );
  return h(
    'div',
    null,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, `Block #${b.height.toLocaleString('en-US')}`), h('p', { class: 'subtitle mono' }, b.hash)), nav),
    card(
      'Header',
      kv([
        ['Height', String(b.height)],
        ['Hash', h('span', { class: 'mono' }, b.hash)],
        ['Parent', b.height > 0 ? link.block(b.parentHash, b.parentHash) : h('span', { class: 'mono muted' }, b.parentHash)],
        ['Time', [dateTime(b.timestamp), ' · ', ago(b.timestamp)]],
        ['Proposer', b.height > 0 ? link.account(b.proposer, b.proposer) : h('span', { class: 'muted' }, 'none (genesis)')],
        ['Transactions', String(b.transactionCount)],
        ['Transactions root', h('span', { class: 'mono' }, b.txRoot)],
        ['Receipts root', h('span', { class: 'mono' }, b.receiptsRoot)],
        ['Events root', h('span', { class: 'mono' }, b.eventsRoot)],
        ['State root', h('span', { class: 'mono' }, b.stateRoot)],
        ['Validators hash', h('span', { class: 'mono' }, b.validatorsHash)],
        ['Next validators hash', h('span', { class: 'mono' }, b.nextValidatorsHash)],
        ['Chain · version', `${b.chainId} · v${b.version}`],
      ]),
    ),
    certificateView(b.certificate, validators),
    card(`Transactions (${b.transactionCount})`, table(['#', 'Hash', 'From', 'What', h('th', { class: 'right' }, 'Fee'), h('th', { class: 'right' }, 'Status')], rows, 'This block has no transactions'), {
      id: 'block-txs',
      foot: shown.length < b.transactions.length ? h('span', { class: 'pager-info' }, `Showing the first ${shown.length} of ${b.transactions.length} transactions.`) : null,
    }),
  );
}
