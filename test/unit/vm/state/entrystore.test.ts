import { expect } from 'chai';
import { fromKey, toHex, toKey, utf8 } from '../../../../chain/index.js';
import { MAX_POSITIONS, TWIG_ENTRIES, verifyEntryProof } from '../../../../chain/stateentry.js';
import { twigOf } from '../../../../vm/state/twigs.js';
import { EntryStore } from '../../../../vm/state/entrystore.js';
import { KeyIndex } from '../../../../vm/state/keyindex.js';
import { StateStorageError, StateTable } from '../../../../vm/state/storage.js';
import { Prng } from '../../consensus/sim/prng.js';
import { Disk } from './disk.js';

const reopen = (disk: Disk, _store?: EntryStore): EntryStore => EntryStore.open(disk, disk.table(StateTable.Directory), 1 << 16);

function commit(disk: Disk, store: EntryStore, writes: Map<string, Uint8Array | null>, height: number): void {
  const s = store.stage(writes, height);
  disk.write(new Map(), s.ops);
  store.apply(s);
}

describe('EntryStore (the entry log on disk)', () => {
  it('matches a plain map over many blocks: proofs of present and absent keys, reopened at random heights with the same root', function () {
    this.timeout(120_000);
    const rng = new Prng(4242);
    const disk = new Disk();
    let store = EntryStore.empty(disk, 1 << 16);
    const model = new Map<string, Uint8Array>();
    const keySpace = Array.from({ length: 1500 }, (_, i) => toKey(utf8(`bank/${(i * 104_729) % 1500}`)));
    const byHeight: { root: string; model: Map<string, Uint8Array> }[] = [];
    for (let h = 0; h < 220; h++) {
      const writes = new Map<string, Uint8Array | null>();
      for (let n = rng.int(h === 0 ? 0 : 1, h < 6 ? 600 : 80); n > 0; n--) {
        const k = keySpace[rng.int(0, keySpace.length - 1)]!;
        writes.set(k, rng.next() < 0.2 ? null : utf8(`v${h}.${n}`));
      }
      commit(disk, store, writes, h);
      for (const [k, v] of writes) {
        if (v === null) model.delete(k);
        else model.set(k, v);
      }
      expect(store.height).to.equal(h);
      expect(store.state.active).to.equal(model.size + 1);
      for (let n = 0; n < 15; n++) {
        const k = keySpace[rng.int(0, keySpace.length - 1)]!;
        const { value, proof } = store.proof(fromKey(k));
        const v = model.get(k);
        expect(value).to.equal(v === undefined ? 'absent' : 'present');
        expect(verifyEntryProof(store.root, fromKey(k), v, proof), `height ${h}, key ${k}`).to.equal(true);
      }
      byHeight.push({ root: toHex(store.root), model: new Map(model) });
      // Recent heights: every one in the window proves its own keys against its own root.
      expect(store.oldestReadable).to.equal(Math.max(0, h - 16));
      for (let n = 0; n < 6; n++) {
        const at = rng.int(store.oldestReadable, h);
        const k = keySpace[rng.int(0, keySpace.length - 1)]!;
        const got = store.proofAt(at, fromKey(k))!;
        const v = byHeight[at]!.model.get(k);
        expect(toHex(got.root), `root at ${at}`).to.equal(byHeight[at]!.root);
        expect(got.value).to.equal(v === undefined ? 'absent' : 'present');
        expect(verifyEntryProof(got.root, fromKey(k), v, got.proof), `height ${at} of ${h}, key ${k}`).to.equal(true);
      }
      if (h > 16) expect(store.proofAt(h - 17, fromKey(keySpace[0]!))).to.equal(undefined);
      if (rng.next() < 0.15) {
        const root = toHex(store.root);
        store = reopen(disk, store);
        expect(toHex(store.root)).to.equal(root);
        expect(store.height).to.equal(h);
      }
    }
    expect(store.tree.twigCount, 'the log spans several twigs').to.be.greaterThan(2);
    expect(store.state.compactFrom, 'compaction ran').to.be.greaterThan(0);
    // Pruning: the entries behind the window's oldest cursor are gone, those after it all kept.
    const prunedTo = store.prunedTo;
    expect(prunedTo, `pruning ran (cursor ${store.state.compactFrom}, next ${store.state.next})`).to.be.greaterThan(TWIG_ENTRIES);
    const positions = disk.table(StateTable.LogEntry).map(([k]) => Number(new DataView(k.buffer, k.byteOffset + 1, 8).getBigUint64(0)));
    expect(Math.min(...positions)).to.equal(prunedTo);
    expect(positions.length).to.equal(store.state.next - prunedTo);
    const trees = disk.table(StateTable.LogTwigTree).map(([k]) => new DataView(k.buffer, k.byteOffset + 1, 4).getUint32(0));
    expect(Math.min(...trees)).to.equal(Math.floor(prunedTo / TWIG_ENTRIES));
  });

  it('a block\'s compaction reads nothing synchronously once prefetched: the entries it moves are read ahead, their keys\' records come from those entries, and its records are a cold store\'s', async () => {
    const rng = new Prng(77);
    const disk = new Disk();
    let store = EntryStore.empty(disk, 1 << 12);
    const keys = Array.from({ length: 3000 }, (_, i) => toKey(utf8(`acct/${i}`)));
    commit(disk, store, new Map(keys.map((k) => [k, utf8('0')])), 0);
    // Update until the log holds more than twice its active entries: compaction runs from then on.
    let h = 1;
    for (; store.state.compactFrom === 0; h++) {
      commit(disk, store, new Map(Array.from({ length: 300 }, () => [keys[rng.int(0, keys.length - 1)]!, utf8(`${h}`)] as [string, Uint8Array])), h);
    }
    for (let n = 0; n < 3; n++, h++) commit(disk, store, new Map(Array.from({ length: 300 }, () => [keys[rng.int(0, keys.length - 1)]!, utf8(`${h}`)] as [string, Uint8Array])), h);
    expect(store.state.compactFrom, 'compaction has run').to.be.greaterThan(0);
    const block = new Map(Array.from({ length: 300 }, () => [keys[rng.int(0, keys.length - 1)]!, utf8(`${h}.b`)] as [string, Uint8Array | null]));
    store = EntryStore.open(disk, disk.table(StateTable.Directory), 1 << 20); // reopened: nothing cached
    const read = await store.prefetch([...block.keys()], (ks) => disk.getManyAsync(ks));
    const before = store.reads;
    const staged = store.stage(block, h);
    expect(staged.plan.moved, 'the block moves entries').to.be.greaterThan(0);
    expect(read, 'records and entries read ahead').to.be.at.least(block.size + staged.plan.moved);
    expect(store.reads - before, 'records and entries read synchronously').to.equal(0);
    const cold = EntryStore.open(disk, disk.table(StateTable.Directory), 4096).stage(block, h);
    const hex = (ops: typeof staged.ops): string[] => ops.map(([k, v]) => `${toHex(k)}=${v === null ? '-' : toHex(v)}`);
    expect(hex(staged.ops)).to.deep.equal(hex(cold.ops));
    expect(toHex(staged.root)).to.equal(toHex(cold.root));
    // The next block, after this one applied (entries behind the cursor dropped from what was read
    // ahead): inserts, deletes and writes of a key's own value beside updates, the same records as a cold store's.
    disk.write(new Map(), staged.ops);
    store.apply(staged);
    h++;
    const mixed = new Map<string, Uint8Array | null>();
    for (let i = 0; i < 200; i++) mixed.set(keys[rng.int(0, keys.length - 1)]!, utf8(`${h}.m`));
    for (let i = 0; i < 20; i++) mixed.set(keys[rng.int(0, keys.length - 1)]!, null);
    for (let i = 0; i < 20; i++) mixed.set(toKey(utf8(`acct/${i}/new`)), utf8('n'));
    for (const [k] of [...block].slice(0, 20)) if (!mixed.has(k)) mixed.set(k, block.get(k)!); // its value already
    await store.prefetch([...mixed.keys()], (ks) => disk.getManyAsync(ks));
    const next = store.stage(mixed, h);
    expect(next.plan.moved, 'the next block moves entries').to.be.greaterThan(0);
    const coldNext = EntryStore.open(disk, disk.table(StateTable.Directory), 4096).stage(mixed, h);
    expect(hex(next.ops)).to.deep.equal(hex(coldNext.ops));
    expect(toHex(next.root)).to.equal(toHex(coldNext.root));
  });

  it('a commit staged but never written leaves the stored log as it was (a crash before the batch)', () => {
    const disk = new Disk();
    let store = EntryStore.empty(disk);
    commit(disk, store, new Map([[toKey(utf8('a')), utf8('1')]]), 0);
    const root = toHex(store.root);
    store.stage(new Map([[toKey(utf8('b')), utf8('2')]]), 1); // dropped: the process died before its batch
    store = reopen(disk, store);
    expect(store.height).to.equal(0);
    expect(toHex(store.root)).to.equal(root);
    commit(disk, store, new Map([[toKey(utf8('b')), utf8('2')]]), 1);
    expect(verifyEntryProof(store.root, utf8('b'), utf8('2'), store.proof(utf8('b')).proof)).to.equal(true);
  });

  it('start-up reads the meta record, one record per twig, the youngest twig\'s entries and the window\'s undo records, however many keys', () => {
    const disk = new Disk();
    let store = EntryStore.empty(disk, 1 << 16);
    for (let h = 0; h < 6; h++) {
      const writes = new Map<string, Uint8Array | null>();
      for (let i = 0; i < 2000; i++) writes.set(toKey(utf8(`k/${h}/${i}`)), utf8(`${i}`));
      commit(disk, store, writes, h);
    }
    const before = disk.recordGets;
    store = reopen(disk, store);
    const reads = disk.recordGets - before;
    const bound = 1 + store.tree.twigCount + (store.state.next % TWIG_ENTRIES) + store.history; // meta, twigs, youngest twig, the window's undo records
    expect(store.state.active).to.equal(12_001);
    expect(reads).to.be.at.most(bound);
    expect(reads, 'far fewer reads than keys').to.be.below(store.state.active / 4);
  });

  it('refuses to open records that do not give the stored root, and a height out of turn', () => {
    const disk = new Disk();
    const store = EntryStore.empty(disk);
    commit(disk, store, new Map([[toKey(utf8('a')), utf8('1')], [toKey(utf8('b')), utf8('2')]]), 0);
    expect(() => store.stage(new Map(), 5)).to.throw(StateStorageError, /height 0/);
    // Damage twig 0's bits: the rebuilt root no longer matches.
    const [k, v] = disk.table(StateTable.LogTwig)[0]!;
    const bad = v.slice();
    bad[40]! ^= 1;
    disk.write(new Map(), [[k, bad]]);
    expect(() => reopen(disk, store)).to.throw(StateStorageError, /not the stored/);
    const empty = new Disk();
    expect(() => EntryStore.open(empty, [])).to.throw(StateStorageError, /no entry log/);
  });
});

describe('KeyIndex.below (the key just below, for an insert\'s predecessor)', () => {
  it('agrees with a sorted list across split pages and after a page is emptied', () => {
    const disk = new Disk();
    const index = KeyIndex.empty(disk, 1 << 16);
    const keys = Array.from({ length: 3000 }, (_, i) => toKey(utf8(`k/${String((i * 7919) % 3000).padStart(5, '0')}`)));
    const apply = (adds: string[], dels: string[]): void => {
      const s = index.stage(adds, dels);
      disk.write(new Map(), s.ops);
      index.applyStaged(s);
    };
    apply(keys, []);
    expect(index.pageCount).to.be.greaterThan(4);
    const check = (live: string[]): void => {
      const sorted = [...live].sort();
      const probes = [...sorted.filter((_, i) => i % 37 === 0), toKey(utf8('a')), toKey(utf8('k/')), toKey(utf8('k/01000x')), toKey(utf8('z'))];
      for (const p of probes) {
        let want: string | undefined;
        for (const k of sorted) if (k < p) want = k;
        expect(index.below(p), p).to.equal(want);
      }
    };
    check(keys);
    // Remove a run of 600 keys (more than a page): the pages in between are emptied and removed.
    const sorted = [...keys].sort();
    const gone = sorted.slice(1000, 1600);
    apply([], gone);
    check(sorted.filter((k) => !gone.includes(k)));
  });
});

describe('EntryStore.load (a bulk fill in key order)', () => {
  async function* sorted(n: number): AsyncGenerator<readonly [string, Uint8Array]> {
    for (let i = 0; i < n; i++) yield [toKey(utf8(`acct/${String(i).padStart(6, '0')}`)), utf8(`${i * 3}`)];
  }

  it('builds the log by appends, proves its keys, reopens to the same root and takes blocks after it', async () => {
    const disk = new Disk();
    const write = async (ops: [Uint8Array, Uint8Array | null][]): Promise<void> => disk.write(new Map(), ops);
    let store = await EntryStore.load(disk, sorted(5000), 7, write, { stepKeys: 700 });
    expect(store.height).to.equal(7);
    expect(store.state.next).to.equal(5001);
    expect(store.state.active).to.equal(5001);
    for (const i of [0, 1, 2047, 2048, 4999]) {
      const k = utf8(`acct/${String(i).padStart(6, '0')}`);
      expect(verifyEntryProof(store.root, k, utf8(`${i * 3}`), store.proof(k).proof), `key ${i}`).to.equal(true);
    }
    for (const absent of ['acct/', 'acct/0000005', 'zzz', 'a']) expect(verifyEntryProof(store.root, utf8(absent), undefined, store.proof(utf8(absent)).proof), absent).to.equal(true);
    const root = toHex(store.root);
    store = reopen(disk, store);
    expect(toHex(store.root)).to.equal(root);
    commit(disk, store, new Map<string, Uint8Array | null>([[toKey(utf8('acct/000010')), null], [toKey(utf8('acct/0000105')), utf8('new')], [toKey(utf8('acct/004000')), utf8('changed')]]), 8);
    expect(verifyEntryProof(store.root, utf8('acct/000010'), undefined, store.proof(utf8('acct/000010')).proof)).to.equal(true);
    expect(verifyEntryProof(store.root, utf8('acct/0000105'), utf8('new'), store.proof(utf8('acct/0000105')).proof)).to.equal(true);
    expect(verifyEntryProof(store.root, utf8('acct/004000'), utf8('changed'), store.proof(utf8('acct/004000')).proof)).to.equal(true);
    const at7 = store.proofAt(7, utf8('acct/000010'))!;
    expect(toHex(at7.root)).to.equal(root);
    expect(verifyEntryProof(at7.root, utf8('acct/000010'), utf8('30'), at7.proof)).to.equal(true);
  });

  it('refuses entries out of order, and a load cut short leaves no log', async () => {
    const disk = new Disk();
    async function* bad(): AsyncGenerator<readonly [string, Uint8Array]> {
      yield [toKey(utf8('b')), utf8('1')];
      yield [toKey(utf8('a')), utf8('2')];
    }
    let err: unknown;
    try {
      await EntryStore.load(disk, bad(), 0, async (ops) => disk.write(new Map(), ops), { stepKeys: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(StateStorageError);
    expect(() => EntryStore.open(disk, disk.table(StateTable.Directory))).to.throw(StateStorageError, /no entry log/);
  });
});

describe('the entry log at its limits', () => {
  it('numbers twigs right past 2^31 positions (where a shift by 11 turns negative)', () => {
    expect(twigOf(2 ** 31 - 1)).to.equal(2 ** 20 - 1);
    expect(twigOf(2 ** 31)).to.equal(2 ** 20);
    expect(twigOf(2 ** 32 + 5)).to.equal(2 ** 21);
    expect(twigOf(MAX_POSITIONS - 1)).to.equal(2 ** 24 - 1);
  });

  it('takes keys and next keys of up to 65,535 bytes through a commit, its undo record and a reopen', () => {
    const disk = new Disk();
    let store = EntryStore.empty(disk);
    const long = toKey(utf8('b'.repeat(65_500)));
    commit(disk, store, new Map([[toKey(utf8('a')), utf8('1')]]), 0);
    commit(disk, store, new Map([[long, utf8('2')]]), 1);
    commit(disk, store, new Map([[toKey(utf8('a')), utf8('3')]]), 2); // 'a' now links to the long key: its undo record holds it
    store = reopen(disk);
    expect(verifyEntryProof(store.root, utf8('a'), utf8('3'), store.proof(utf8('a')).proof)).to.equal(true);
    expect(verifyEntryProof(store.root, fromKey(long), utf8('2'), store.proof(fromKey(long)).proof)).to.equal(true);
    const at1 = store.proofAt(1, utf8('a'))!;
    expect(verifyEntryProof(at1.root, utf8('a'), utf8('1'), at1.proof)).to.equal(true);
  });

  it('a bulk load refuses a storage that already holds a log', async () => {
    const disk = new Disk();
    commit(disk, EntryStore.empty(disk), new Map([[toKey(utf8('a')), utf8('1')]]), 0);
    async function* one(): AsyncGenerator<readonly [string, Uint8Array]> {
      yield [toKey(utf8('b')), utf8('2')];
    }
    let err: unknown;
    try {
      await EntryStore.load(disk, one(), 0, async (ops) => disk.write(new Map(), ops));
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/holds no entry log/);
  });
});
