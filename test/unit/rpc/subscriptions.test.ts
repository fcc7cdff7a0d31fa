import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { formatAddress, type Block, type Event } from '../../../chain/index.js';
import type { CommittedBlock } from '../../../consensus/index.js';
import { noopRpcMetrics, SubscriptionHub, type RpcBackend } from '../../../rpc/index.js';
import { blockFixture } from '../chain/fixtures.js';
import { silentLogger, validatorKey } from '../fixtures.js';

/** What the hub reads of the node: the chain's 'committed' event, and the mempool's (unused here). */
function hub(): { hub: SubscriptionHub; chain: EventEmitter } {
  const chain = new EventEmitter();
  const backend = { chain, mempool: { onAdded: () => undefined } } as unknown as RpcBackend;
  const h = new SubscriptionHub({ backend, metrics: noopRpcMetrics, logger: silentLogger() });
  h.start();
  return { hub: h, chain };
}

describe('rpc/subscriptions blockEvents', () => {
  const named = validatorKey(1).address;
  const events: Event[] = [
    { module: 'staking', type: 'reward', attributes: [['validator', formatAddress(named)], ['amount', '7']] },
    { module: 'vm', type: 'hook_failed', attributes: [['module', 'staking'], ['hook', 'endBlock'], ['code', 'VM_MODULE_FAULT']] },
  ];

  it("sends each subscription the block's hook events its filter matches (module, or an account an event names), nothing when none does", async () => {
    const { hub: h, chain } = hub();
    const got = new Map<string, unknown[]>();
    const subscriber = { notify: (id: string, json: string) => void got.set(id, [...(got.get(id) ?? []), JSON.parse(json)]) };
    const all = h.add(subscriber, 'blockEvents', {});
    const vm = h.add(subscriber, 'blockEvents', { module: 'vm' });
    const byAccount = h.add(subscriber, 'blockEvents', { address: named });
    const none = h.add(subscriber, 'blockEvents', { module: 'court' });
    const block: Block = blockFixture(false);
    chain.emit('committed', { block, receipts: [], blockEvents: events } satisfies CommittedBlock);
    chain.emit('committed', { block, receipts: [], blockEvents: [] } satisfies CommittedBlock); // a block without hook events: nothing
    await new Promise((r) => setImmediate(r));
    const json = (e: Event) => ({ module: e.module, type: e.type, attributes: Object.fromEntries(e.attributes) });
    const hash = Buffer.from(block.hash()).toString('hex');
    expect(got.get(all)).to.deep.equal([{ height: block.height, hash: `0x${hash}`, events: events.map(json) }]);
    expect(got.get(vm)).to.deep.equal([{ height: block.height, hash: `0x${hash}`, events: [json(events[1]!)] }]);
    expect(got.get(byAccount)).to.deep.equal([{ height: block.height, hash: `0x${hash}`, events: [json(events[0]!)] }]);
    expect(got.has(none)).to.equal(false);
    h.stop();
  });
});
