/**
 * A validator whose disk stops taking writes (a full disk) while the network runs: once a block
 * it commits cannot be written, it must sign nothing more, while the others go on without it;
 * restarted over the same storage with the disk working, it catches up.
 */
import { expect } from 'chai';
import { Simulation } from '../sim/index.js';

describe('IBFT: a validator whose block writes fail', () => {
  it('signs nothing after the failed write, the other three keep committing, and after a restart it catches up', async () => {
    const sim = await Simulation.create({ n: 4, seed: 11 });
    expect(await sim.runUntilHeight(2, 30_000), sim.trace()).to.equal(true);
    const v = sim.nodes[1]!;
    const others = sim.nodes.filter((n) => n !== v);
    let signedBefore: number | undefined;
    let failedHeight: number | undefined;
    v.life!.chain.on('writeFailed', (f) => {
      // Synchronously, in the failing commit: every signature after this is one too many.
      signedBefore ??= v.journal.length;
      failedHeight ??= f.height;
    });
    v.disk.failWrites = true;
    const stuckAt = v.height;
    // Long enough for many round timers at the height the failed validator is stuck at.
    expect(await sim.runUntilHeight(stuckAt + 6, 120_000, others), sim.trace()).to.equal(true);
    expect(failedHeight).to.equal(stuckAt + 1);
    expect(v.height).to.equal(stuckAt);
    expect(v.life!.chain.writeFailure?.final).to.equal(true);
    expect(v.journal.length, 'signatures after the failed write').to.equal(signedBefore);
    expect(v.warnings.get('not signing: a block could not be written to disk'), 'its round timers still ran').to.be.greaterThan(0);
    expect(v.errors.some((e) => e.startsWith('writing a block failed: giving up'))).to.equal(true);

    // The process exits (bin/metanode.ts); space is freed; it starts again over the same storage.
    sim.crash(1);
    v.errors.length = 0; // the failed incarnation's expected errors
    v.disk.failWrites = false;
    await sim.restart(1);
    const target = Math.max(...sim.heights(others)) + 2;
    expect(await sim.runUntilHeight(target, 120_000), sim.trace()).to.equal(true);
    expect(v.journal.length, 'it signs again once it can write').to.be.greaterThan(signedBefore!);
    await sim.checkAll();
  });
});
