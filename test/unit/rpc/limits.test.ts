import { expect } from 'chai';
import { LoopBudget, RateLimiter, defaultRpcOptions } from '../../../rpc/index.js';

describe('rpc/limits RateLimiter', () => {
  const limits = { ...defaultRpcOptions.rateLimits, read: { rate: 10, burst: 20 }, write: { rate: 0, burst: 1 } };

  it('lets a burst through, then refills at the rate, and says how long to wait', () => {
    let now = 0;
    const l = new RateLimiter(limits, 100, () => now);
    for (let i = 0; i < 20; i++) expect(l.take('a', 'read', 1)).to.equal(0);
    expect(l.take('a', 'read', 1)).to.equal(100); // 1 unit at 10/s
    expect(l.take('a', 'read', 5)).to.equal(500);
    now += 250; // 2.5 units back
    expect(l.take('a', 'read', 2)).to.equal(0);
    expect(l.take('a', 'read', 1)).to.equal(50);
    now += 1_000_000;
    for (let i = 0; i < 20; i++) expect(l.take('a', 'read', 1)).to.equal(0); // never more than the burst
    expect(l.take('a', 'read', 1)).to.be.greaterThan(0);
  });

  it('keeps clients and groups apart; rate 0 is unlimited; a cost above the burst can never pass', () => {
    const now = 0;
    const l = new RateLimiter(limits, 100, () => now);
    expect(l.take('a', 'read', 20)).to.equal(0);
    expect(l.take('a', 'read', 1)).to.be.greaterThan(0);
    expect(l.take('b', 'read', 20)).to.equal(0);
    expect(l.take('a', 'subscribe', 1)).to.equal(0);
    for (let i = 0; i < 1000; i++) expect(l.take('a', 'write', 1000)).to.equal(0);
    expect(l.take('c', 'read', 21)).to.equal(Infinity);
  });

  it('tracks a bounded number of clients, forgetting the least recently active first', () => {
    const now = 0;
    const l = new RateLimiter(limits, 3, () => now);
    for (const c of ['a', 'b', 'c']) expect(l.take(c, 'read', 20)).to.equal(0);
    expect(l.take('a', 'read', 1)).to.be.greaterThan(0); // a is now the most recent
    expect(l.take('d', 'read', 1)).to.equal(0); // evicts b
    expect(l.size).to.equal(3);
    expect(l.take('b', 'read', 20)).to.equal(0); // b starts afresh (evicts c)
    expect(l.take('a', 'read', 1)).to.be.greaterThan(0); // a was kept, still empty
  });

  it('refuses nonsense limits', () => {
    expect(() => new RateLimiter({ ...limits, read: { rate: -1, burst: 1 } }, 10)).to.throw(/rate limit read/);
    expect(() => new RateLimiter({ ...limits, read: { rate: 1, burst: 0 } }, 10)).to.throw(/rate limit read/);
  });
});

describe('rpc/limits WorkGate', () => {
  it('lets maxActive in, queues the rest in order up to maxQueuedBytes, and refuses past it', async () => {
    const { WorkGate } = await import('../../../rpc/index.js');
    const gate = new WorkGate(2, 100);
    const order: string[] = [];
    expect(await gate.enter(10)).to.equal(true);
    expect(await gate.enter(10)).to.equal(true);
    const c = gate.enter(60).then((ok) => order.push(`c ${ok}`));
    const d = gate.enter(40).then((ok) => order.push(`d ${ok}`));
    expect(await gate.enter(1)).to.equal(false); // 60 + 40 queued: no room
    expect(gate.queued).to.equal(2);
    gate.release();
    await c;
    gate.release();
    await d;
    expect(order).to.deep.equal(['c true', 'd true']);
    expect(gate.queued).to.equal(0);
    gate.release();
    gate.release();
    expect(await gate.enter(1000)).to.equal(true); // nothing active: in at once, whatever its size
  });
});

describe('rpc/limits LoopBudget', () => {
  /** An event loop whose utilisation the test sets: eventLoopUtilization's shape, cumulative. */
  function fakeLoop() {
    const loop = { now: 0, active: 0, busy: 0 };
    const elu = ((a?: { active: number; idle: number }, b?: { active: number; idle: number }) => {
      if (a && b) {
        const active = a.active - b.active;
        const total = active + (a.idle - b.idle);
        return { active, idle: a.idle - b.idle, utilization: total > 0 ? active / total : 0 };
      }
      return { active: loop.active, idle: loop.now - loop.active, utilization: 0 };
    }) as typeof performance.eventLoopUtilization;
    /** `ms` pass with the loop busy `busy` of the time. */
    const pass = (ms: number, busy: number) => {
      loop.now += ms;
      loop.active += ms * busy;
    };
    return { loop, elu, pass };
  }

  it('lets read work go on while the loop is not busier than the limit, and holds it (one slice per sample) while it is', async () => {
    const { loop, elu, pass } = fakeLoop();
    const budget = new LoopBudget(0.5, 5, elu, () => loop.now);
    pass(10, 0.2);
    expect(budget.wait()).to.equal(undefined);
    expect(budget.busy).to.be.closeTo(0.2, 1e-9);
    pass(10, 0.9); // the loop is busy
    const held = [budget.wait(), budget.wait(), budget.wait()];
    expect(held.every((p) => p instanceof Promise)).to.equal(true);
    expect(budget.deferred).to.equal(3);
    const done: number[] = [];
    held.forEach((p, i) => void p!.then(() => done.push(i)));
    pass(10, 0.9); // still busy at the next sample: one goes ahead
    await new Promise((r) => setTimeout(r, 7)); // (due after the budget's sample, whatever the delay)
    expect(done).to.deep.equal([0]);
    pass(10, 0.1); // quiet again: the rest go
    await new Promise((r) => setTimeout(r, 7));
    expect(done).to.deep.equal([0, 1, 2]);
    expect(budget.wait()).to.equal(undefined);
  });

  it('a later slice queues behind the waiting ones, and 1 means no limit', () => {
    const { loop, elu, pass } = fakeLoop();
    const budget = new LoopBudget(0.5, 5, elu, () => loop.now);
    pass(10, 1);
    expect(budget.wait()).to.be.instanceOf(Promise);
    pass(10, 0); // quiet, but one is already waiting: first come, first served
    expect(budget.wait()).to.be.instanceOf(Promise);
    const free = new LoopBudget(1, 5, elu, () => loop.now);
    pass(10, 1);
    expect(free.wait()).to.equal(undefined);
    expect(() => new LoopBudget(0, 5)).to.throw(/maxLoopUtilization/);
    expect(() => new LoopBudget(1.5, 5)).to.throw(/maxLoopUtilization/);
  });
});
