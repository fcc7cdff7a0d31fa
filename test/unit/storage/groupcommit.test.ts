import { expect } from 'chai';
import { GroupCommit } from '../../../storage/index.js';

describe('storage/groupcommit GroupCommit', () => {
  it('writes what is added during a write together in the next one, in order', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const g = new GroupCommit<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await gate;
    });
    const first = g.add(1);
    const rest = [2, 3, 4].map((i) => g.add(i)); // while the first write waits
    release();
    await Promise.all([first, ...rest]);
    expect(writes).to.deep.equal([[1], [2, 3, 4]]);
    await g.idle();
  });

  it('a failed write rejects the adds of its batch only', async () => {
    let fail = true;
    const g = new GroupCommit<string>(async () => {
      if (fail) {
        fail = false;
        throw new Error('ENOSPC');
      }
    });
    let err: Error | undefined;
    await g.add('a').catch((e: Error) => (err = e));
    expect(err?.message).to.equal('ENOSPC');
    await g.add('b'); // the next batch is written
    await g.idle();
  });
});
