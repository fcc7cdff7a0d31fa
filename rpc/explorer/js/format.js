// DOM building and formatting. Everything from the node goes in as text, never as HTML.

/** h('a', {href: '#/'}, 'text', child…): an element; null/false children and attributes are skipped. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Asset decimals, filled from bank_getAssets at start. */
export const assets = new Map();

/** Base units (a decimal string) as a human amount: 1234500000 NEX with 6 decimals → 1,234.5 */
export function units(base, symbol) {
  const decimals = assets.get(symbol) ?? 0;
  let v;
  try {
    v = BigInt(base);
  } catch {
    return String(base);
  }
  const neg = v < 0n;
  if (neg) v = -v;
  const scale = 10n ** BigInt(decimals);
  const whole = (v / scale).toLocaleString('en-US');
  const frac = decimals > 0 ? (v % scale).toString().padStart(decimals, '0').replace(/0+$/, '') : '';
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
}

export function amount(base, symbol) {
  return h('span', { class: 'amount', title: `${base} base units` }, units(base, symbol), h('span', { class: 'sym' }, symbol));
}

export function short(hex, n = 8) {
  if (typeof hex !== 'string' || hex.length <= 2 * n + 3) return hex;
  return `${hex.slice(0, n + 2)}…${hex.slice(-n)}`;
}

export function shortAddr(addr) {
  if (typeof addr !== 'string' || addr.length < 20) return addr;
  return `${addr.slice(0, 10)}…${addr.slice(-6)}`;
}

/** An address cut harder, for narrow columns: mn1df4pn…cp8z */
export function tinyAddr(addr) {
  return typeof addr === 'string' && addr.length > 16 ? `${addr.slice(0, 8)}…${addr.slice(-4)}` : addr;
}

export const link = {
  block: (ref, text) => h('a', { href: `#/block/${ref}`, class: typeof ref === 'string' ? 'mono' : null }, text ?? (typeof ref === 'number' ? `#${ref.toLocaleString('en-US')}` : short(ref))),
  tx: (hash, text) => h('a', { href: `#/tx/${hash}`, class: 'mono', title: hash }, text ?? short(hash)),
  account: (addr, text) => h('a', { href: `#/account/${addr}`, class: 'mono', title: addr }, text ?? shortAddr(addr)),
  job: (id, text) => h('a', { href: `#/job/${id}`, class: 'mono', title: id }, text ?? short(id)),
};

/** "12 s ago"; elements made by `ago` are refreshed every second by tickAges. */
export function ago(ms) {
  return h('span', { class: 'ago nowrap', 'data-ts': ms, title: new Date(ms).toLocaleString() }, agoText(ms));
}

function agoText(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function tickAges() {
  for (const el of document.querySelectorAll('.ago[data-ts]')) el.textContent = agoText(Number(el.dataset.ts));
}

export function dateTime(ms) {
  const d = new Date(ms);
  return `${d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' })}`;
}

export function status(s, code) {
  if (s === 'success') return h('span', { class: 'badge ok' }, 'Success');
  if (s === 'failed') return h('span', { class: 'badge bad', title: code ?? '' }, code ? `Failed · ${code}` : 'Failed');
  return h('span', { class: 'badge plain' }, 'Pending');
}

/** What a transaction does, in one line: "→ mn1… 5 NEX" for a transfer. */
export function summary(tx) {
  const a = tx.args;
  if (a && a.to && a.amount && a.asset) return [h('span', { class: 'arrow' }, '→'), link.account(a.to), ' ', amount(a.amount, a.asset)];
  return h('span', { class: 'kind' }, tx.kind);
}

export function kv(rows) {
  return h(
    'dl',
    { class: 'kv' },
    rows.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

export function card(title, body, { right, foot, id } = {}) {
  return h('section', { class: 'card', id }, title ? h('div', { class: 'card-head' }, h('h2', null, title), right) : null, body, foot ? h('div', { class: 'card-foot' }, foot) : null);
}

export function table(head, rows, emptyText = 'Nothing here yet') {
  const tbody = h('tbody', null, rows);
  const t = h('table', null, h('thead', null, h('tr', null, head.map((c) => (typeof c === 'string' ? h('th', null, c) : c)))), tbody);
  if (rows.length === 0) tbody.append(h('tr', { class: 'empty-row' }, h('td', { colspan: head.length, class: 'empty' }, emptyText)));
  return t;
}

export function notice(title, text, extra) {
  return h('div', { class: 'notice' }, h('h1', null, title), h('p', null, text), extra);
}
