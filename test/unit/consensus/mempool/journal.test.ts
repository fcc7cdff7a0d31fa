import { expect } from 'chai';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TxJournal } from '../../../../consensus/mempool/index.js';
import { removeDir, tempDir } from '../../fixtures.js';

const raw = (i: number, n = 40): Uint8Array => new Uint8Array(n).fill(i);
const list = (xs: Uint8Array[]) => xs.map((x) => [...x.subarray(0, 1), x.length]);

describe('consensus/mempool/journal TxJournal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('metanode-txjournal-');
  });
  afterEach(async () => removeDir(dir));

  it('gives back what was appended, in order, after a reopen; concurrent appends are all kept', async () => {
    const { journal, raws } = await TxJournal.open(dir);
    expect(raws).to.deep.equal([]);
    await journal.append([raw(1), raw(2)]);
    await Promise.all([journal.append([raw(3)]), journal.append([raw(4), raw(5)]), journal.append([raw(6)])]);
    await journal.close();
    const again = await TxJournal.open(dir);
    expect(list(again.raws)).to.deep.equal([1, 2, 3, 4, 5, 6].map((i) => [i, 40]));
    await again.journal.close();
  });

  it('compaction rewrites the journal as the given transactions, deletes the older segments, and later appends follow them', async () => {
    const { journal } = await TxJournal.open(dir, { compactBytes: 200 });
    await journal.append([raw(1), raw(2), raw(3), raw(4)]);
    expect(journal.needsCompaction).to.equal(false);
    await journal.append([raw(5)]);
    expect(journal.needsCompaction).to.equal(true); // 5 × (8 + 40) = 240
    const compacted = journal.compact([raw(3), raw(5)]);
    const during = journal.append([raw(7)]); // made while compacting: after the snapshot
    await Promise.all([compacted, during]);
    expect(journal.needsCompaction).to.equal(false);
    await journal.close();
    expect((await readdir(dir)).filter((n) => n.endsWith('.rec'))).to.deep.equal(['000000000001.rec']);
    const again = await TxJournal.open(dir);
    expect(list(again.raws)).to.deep.equal([[3, 40], [5, 40], [7, 40]]);
    // An empty pool compacts to an empty journal.
    await again.journal.compact([]);
    await again.journal.close();
    expect((await TxJournal.open(dir)).raws).to.deep.equal([]);
  });

  it('a record torn by a crash (never acknowledged) is dropped at open; the rest survive', async () => {
    const { journal } = await TxJournal.open(dir);
    await journal.append([raw(1), raw(2), raw(3)]);
    await journal.close();
    const file = join(dir, '000000000000.rec');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 7));
    const again = await TxJournal.open(dir);
    expect(list(again.raws)).to.deep.equal([[1, 40], [2, 40]]);
    await again.journal.append([raw(4)]);
    await again.journal.close();
    expect(list((await TxJournal.open(dir)).raws)).to.deep.equal([[1, 40], [2, 40], [4, 40]]);
  });

  it('an append after close is refused', async () => {
    const { journal } = await TxJournal.open(dir);
    await journal.close();
    let err: Error | undefined;
    await journal.append([raw(1)]).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/closed/);
  });
});
