// The explorer: hash routes → pages, search, and the live connection indicator.
import { account } from './account.js';
import { block } from './block.js';
import { executors } from './executors.js';
import { assets, h, notice, tickAges } from './format.js';
import { governance, proposal } from './governance.js';
import { blocks, home } from './home.js';
import { job, jobs } from './jobs.js';
import { Live, batch, call } from './rpc.js';
import { tx } from './tx.js';
import { validators } from './validators.js';

const routes = [
  [/^\/?$/, home, 'home'],
  [/^\/blocks(?:\/(\d+))?$/, blocks, 'blocks'],
  [/^\/block\/(\d+|0x[0-9a-fA-F]{64})$/, block, 'blocks'],
  [/^\/tx\/(0x[0-9a-fA-F]{64})$/, tx, null],
  [/^\/account\/([a-z0-9]+)$/, account, null],
  [/^\/validators$/, validators, 'validators'],
  [/^\/governance(?:\/(\d+))?$/, governance, 'governance'],
  [/^\/proposal\/(\d+)$/, proposal, 'governance'],
  [/^\/jobs(?:\/(\d+))?$/, jobs, 'jobs'],
  [/^\/job\/(0x[0-9a-fA-F]{64})$/, job, 'jobs'],
  [/^\/executors(?:\/(mn1[a-z0-9]+))?$/, executors, 'executors'],
];

const app = document.getElementById('app');
const live = new Live();
let current = { cleanups: [], dead: false };

/** What a page may do while it is shown: subscribe, register cleanups, ask to be redrawn. */
function pageContext() {
  const ctx = {
    live,
    cleanups: [],
    dead: false,
    alive: () => current === ctx && !ctx.dead,
    onCleanup: (f) => (ctx.dead ? f() : ctx.cleanups.push(f)),
    reload: () => {
      if (ctx.alive()) route();
    },
  };
  return ctx;
}

function leavePage() {
  for (const f of current.cleanups) f();
  current.dead = true;
}

async function route() {
  leavePage();
  const path = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  const match = routes.map(([re, page, nav]) => [re.exec(path), page, nav]).find(([m]) => m);
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === match?.[2]);
  const ctx = pageContext();
  current = ctx;
  if (!match) {
    app.replaceChildren(notice('Page not found', `Nothing lives at “${path}”.`, h('p', null, h('a', { href: '#/' }, 'Back to the overview'))));
    return;
  }
  if (!app.firstChild || app.dataset.path !== path) app.replaceChildren(h('div', { class: 'loading' }, 'Loading…'));
  try {
    const view = await match[1](match[0].slice(1), ctx);
    if (current !== ctx) return;
    app.dataset.path = path;
    app.replaceChildren(view);
    tickAges();
  } catch (e) {
    if (current !== ctx) return;
    app.replaceChildren(notice('Something went wrong', e.message));
  }
}

async function search(q) {
  q = q.trim();
  if (q === '') return;
  const go = (hash) => (location.hash = hash);
  if (/^\d+$/.test(q)) return go(`#/block/${Number(q)}`);
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
    // A block, else an ENC job (its id is its submit transaction's hash), else a transaction.
    const hash = q.toLowerCase();
    const [b, j] = await batch([['chain_getBlockByHash', hash], ['module_query', 'enc', 'job', { id: hash }]]).catch(() => [null, null]);
    if (b && !(b instanceof Error)) return go(`#/block/${b.height}`);
    return go(j && !(j instanceof Error) ? `#/job/${hash}` : `#/tx/${hash}`);
  }
  if (/^mn1/i.test(q)) return go(`#/account/${q.toLowerCase()}`);
  leavePage();
  app.dataset.path = '';
  app.replaceChildren(notice('Nothing found', `“${q}” is not a block height, a block or transaction hash or job id (0x and 64 hex digits) or an address (mn1…).`));
}

document.getElementById('search').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('search-input');
  search(input.value).then(() => input.blur());
});

const liveEl = document.getElementById('live');
live.onStatus((s, reconnected) => {
  liveEl.className = `live ${s === 'live' ? 'on' : s === 'down' ? 'off' : ''}`;
  liveEl.querySelector('.live-text').textContent = s === 'live' ? 'live' : s === 'down' ? 'reconnecting…' : 'connecting';
  // Notifications sent while disconnected are lost: redraw the page from the node.
  if (reconnected) route();
});

window.addEventListener('hashchange', route);
setInterval(tickAges, 1000);

(async () => {
  try {
    const [list, chainId] = await Promise.all([call('bank_getAssets'), call('chain_getChainId')]);
    for (const a of list) assets.set(a.symbol, a.decimals);
    document.getElementById('footer-chain').textContent = `Chain ${chainId}`;
  } catch (e) {
    app.replaceChildren(notice('Cannot reach the node', e.message));
    return;
  }
  await route();
})();
