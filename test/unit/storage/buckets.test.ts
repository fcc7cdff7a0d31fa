import { expect } from 'chai';
import { compareBytes } from '../../../chain/index.js';
import { Bucket, bucketKey, bucketRange, heightKey } from '../../../storage/index.js';

describe('storage/buckets', () => {
  it('bucket ids are distinct single bytes', () => {
    const ids = Object.values(Bucket);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const id of ids) expect(id).to.be.within(1, 0xfe);
  });

  it('height keys are the bucket byte then 8 bytes big-endian, so they sort by height', () => {
    expect([...heightKey(Bucket.HeaderByHeight, 0x0102)]).to.deep.equal([Bucket.HeaderByHeight, 0, 0, 0, 0, 0, 0, 1, 2]);
    const heights = [0, 1, 255, 256, 65_535, 65_536, 2 ** 32, Number.MAX_SAFE_INTEGER];
    const keys = heights.map((h) => heightKey(Bucket.BodyByHeight, h));
    const sorted = [...keys].sort(compareBytes);
    expect(sorted).to.deep.equal(keys);
  });

  it('bucketRange covers the bucket (or prefix) and nothing else', () => {
    const inside = (r: { gte: Uint8Array; lt: Uint8Array }, k: Uint8Array) => compareBytes(k, r.gte) >= 0 && compareBytes(k, r.lt) < 0;
    const whole = bucketRange(Bucket.State);
    expect(inside(whole, bucketKey(Bucket.State))).to.equal(true);
    expect(inside(whole, bucketKey(Bucket.State, Uint8Array.of(0xff, 0xff, 0xff)))).to.equal(true);
    expect(inside(whole, Uint8Array.of(Bucket.State + 1))).to.equal(false);
    expect(inside(whole, Uint8Array.of(Bucket.State - 1, 0xff))).to.equal(false);

    const pre = bucketRange(Bucket.State, Uint8Array.of(0x10, 0xff));
    expect([...pre.gte]).to.deep.equal([Bucket.State, 0x10, 0xff]);
    expect([...pre.lt]).to.deep.equal([Bucket.State, 0x11]);
    expect(inside(pre, bucketKey(Bucket.State, Uint8Array.of(0x10, 0xff, 0x00)))).to.equal(true);
    expect(inside(pre, bucketKey(Bucket.State, Uint8Array.of(0x10, 0xfe, 0xff)))).to.equal(false);
    expect(inside(pre, bucketKey(Bucket.State, Uint8Array.of(0x11)))).to.equal(false);
  });
});
