import { expect } from 'chai';
import { RateLimiter, defaultRpcOptions } from '../../../rpc/index.js';

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
