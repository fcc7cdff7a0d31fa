// The validator set in force for the next block, and (on a chain with staking) every registered
// validator: status, stake, commission, missed blocks and slashing history.
import { amount, card, h, link, short, table } from './format.js';
import { call } from './rpc.js';

const STATUS_CLASS = { active: 'ok', jailed: 'bad', tombstoned: 'bad', unbonding: 'info', inactive: 'plain', pending: 'plain' };

function statusBadge(s) {
  return h('span', { class: `badge ${STATUS_CLASS[s] ?? 'plain'}`, 'data-status': s }, s);
}

function registered(list) {
  const rows = list.map((v) =>
    h(
      'tr',
      { 'data-candidate': v.address },
      h('td', null, link.account(v.address, v.moniker || v.address)),
      h('td', null, statusBadge(v.status)),
      h('td', { class: 'right' }, v.power),
      h('td', { class: 'right' }, amount(v.selfBond, 'GEN')),
      h('td', { class: 'right' }, amount(v.delegated, 'GEN')),
      h('td', { class: 'right' }, `${(Number(v.commissionPpm) / 10000).toFixed(2)} %`),
      h('td', { class: 'right' }, `${v.missedBlocks} / ${v.signedBlocksWindow}`),
      h('td', { class: 'hide-sm' }, v.slashes.length === 0 ? h('span', { class: 'muted' }, 'none') : v.slashes.map((x) => h('div', { class: 'small' }, `${x.kind} at #${x.height}: `, amount(x.burned, 'GEN')))),
    ),
  );
  return card(
    'Registered validators (staking)',
    table(['Validator', 'Status', h('th', { class: 'right' }, 'Power'), h('th', { class: 'right' }, 'Self-bond'), h('th', { class: 'right' }, 'Delegated'), h('th', { class: 'right' }, 'Commission'), h('th', { class: 'right' }, 'Missed'), h('th', { class: 'hide-sm' }, 'Slashes')], rows, 'No validators registered'),
    { id: 'staking-validators' },
  );
}

export async function validators() {
  const [set, head, staking] = await Promise.all([call('chain_getValidators', 'latest'), call('chain_getHead'), call('module_query', 'staking', 'params').catch(() => null)]);
  const list = staking?.enabled ? await call('module_query', 'staking', 'validators') : null;
  const total = set.validators.reduce((s, v) => s + BigInt(v.power), 0n);
  const rows = set.validators.map((v, i) =>
    h(
      'tr',
      { 'data-validator': v.address },
      h('td', { class: 'muted' }, String(i)),
      h('td', null, link.account(v.address, v.address)),
      h('td', { class: 'right' }, v.power),
      h('td', null, v.status ? statusBadge(v.status) : h('span', { class: 'muted' }, '–')),
      h('td', { class: 'right' }, total > 0n ? `${((Number(BigInt(v.power) * 10000n / total)) / 100).toFixed(2)} %` : '–'),
      h('td', { class: 'hide-sm' }, h('span', { class: 'mono muted', title: v.publicKey }, short(v.publicKey, 6))),
      h('td', { class: 'hide-sm' }, h('span', { class: 'mono muted', title: v.blsPublicKey }, short(v.blsPublicKey, 6))),
    ),
  );
  return h(
    'div',
    null,
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'Validators'), h('p', { class: 'subtitle' }, `The set that signs block #${set.height.toLocaleString('en-US')} (the head is #${head.height.toLocaleString('en-US')}).`)),
    ),
    h(
      'div',
      { class: 'stats' },
      h('div', { class: 'stat' }, h('div', { class: 'label' }, 'Validators'), h('div', { class: 'value' }, String(set.validators.length))),
      h('div', { class: 'stat' }, h('div', { class: 'label' }, 'Total power'), h('div', { class: 'value' }, total.toString())),
      h('div', { class: 'stat' }, h('div', { class: 'label' }, 'Quorum'), h('div', { class: 'value' }, String(set.quorum))),
      h('div', { class: 'stat' }, h('div', { class: 'label' }, 'Set hash'), h('div', { class: 'value small mono', title: set.hash }, short(set.hash, 8))),
    ),
    card('Validator set', table(['#', 'Address', h('th', { class: 'right' }, 'Power'), 'Status', h('th', { class: 'right' }, 'Share'), h('th', { class: 'hide-sm' }, 'Ed25519 key'), h('th', { class: 'hide-sm' }, 'BLS key')], rows, 'No validators'), { id: 'validator-set' }),
    list ? registered(list) : null,
  );
}
