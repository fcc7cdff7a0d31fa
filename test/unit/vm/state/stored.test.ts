import { expect } from 'chai';
import { fromKey, toHex, toKey, utf8, verifyVersionedStateProof } from '../../../../chain/index.js';
import { KeyIndex, PAGE_MAX } from '../../../../vm/state/keyindex.js';
import { SparseMerkleTree } from '../../../../vm/state/smt.js';
import type { DiskTree } from '../../../../vm/state/disktree.js';
import { StateStorageError, StateTable } from '../../../../vm/state/storage.js';
import { PRUNE_PER_BLOCK, StoredState } from '../../../../vm/state/stored.js';
import { Disk, commit, k, pagedScan, randomWrites, rng } from './disk.js';

/** The model: every version's entries, and the in-memory tree's roots. */
interface Model {
  versions: Map<string, Uint8Array>[];
  roots: Uint8Array[];
}

function checkVersion(state: StoredState, model: Model, pool: readonly string[], at: number, label: string): void {
  const entries = model.versions[at]!;
  const reader = state.at(at)!;
  expect(reader, `${label}: height ${at} is readable`).to.not.equal(undefined);
  const tree = state.treeAt(at)!;
  expect(toHex(tree.root), `${label}: root at ${at}`).to.equal(toHex(model.roots[at]!));
  for (const key of pool) {
    const want = entries.get(key);
    const got = reader.getRaw(key);
    expect(got && toHex(got), `${label}: ${key} at ${at}`).to.equal(want && toHex(want));
    const p = state.proof(at, fromKey(key))!;
    expect(verifyVersionedStateProof(model.roots[at]!, fromKey(key), want, p.proof), `${label}: proof of ${key} at ${at}`).to.equal(true);
    if (want === undefined) expect(verifyVersionedStateProof(model.roots[at]!, fromKey(key), utf8('x'), p.proof)).to.equal(false);
  }
  // Scans by prefix, in pages.
  for (const prefix of [k(''), k('a'), k('b1')]) {
    const want = [...entries.keys()].filter((x) => x.startsWith(prefix)).sort();
    const got = pagedScan(reader, prefix, 3);
    expect(got, `${label}: scan of ${JSON.stringify(prefix)} at ${at}`).to.deep.equal(want);
  }
}

describe('vm/state/stored: the state on disk against a reference model', () => {
  for (const [seed, history] of [
    [1, 4],
    [2, 0],
    [3, 1],
    [4, 9],
  ] as const) {
    it(`seed ${seed}, history ${history}: roots, reads, proofs and scans of every kept height; older heights refused; nothing leaks`, () => {
      const rand = rng(seed);
      const pool = Array.from({ length: 40 }, (_, i) => k(`${i % 3 === 0 ? 'a' : 'b'}${i}`));
      const opts = { history, cacheBytes: 4096 }; // caches far smaller than the state: reads go to the disk
      const disk = new Disk();
      let state = StoredState.empty(disk, opts);
      const model: Model = { versions: [], roots: [] };
      let ref = SparseMerkleTree.empty();
      let entries = new Map<string, Uint8Array>();
      for (let h = 0; h <= 60; h++) {
        const writes = randomWrites(rand, pool, entries, h);
        commit(disk, state, writes, h);
        entries = new Map(entries);
        for (const [key, v] of writes) {
          if (v === null) entries.delete(key);
          else entries.set(key, v);
        }
        ref = ref.updateRaw(writes);
        model.versions.push(entries);
        model.roots.push(ref.root);
        if (h % 7 === 3) state = disk.open(opts); // reopened from what is stored
        expect(toHex(state.root)).to.equal(toHex(ref.root));
        expect(state.size, `size at ${h}`).to.equal(entries.size);
        expect(state.oldestReadable).to.equal(Math.max(0, h - history));
        for (let at = Math.max(0, h - history); at <= h; at++) checkVersion(state, model, pool, at, `head ${h}`);
        for (let at = 0; at < h - history; at++) {
          expect(state.at(at), `height ${at} at head ${h}`).to.equal(undefined);
          expect(state.proof(at, fromKey(pool[0]!))).to.equal(undefined);
        }
        expect(state.at(h + 1)).to.equal(undefined);
        // Exactly the nodes of the kept heights are stored: pruning leaks none and drops none still needed.
        const reachable = new Set<string>();
        for (let at = Math.max(0, h - history); at <= h; at++) for (const id of state.treeAt(at)!.storedIds()) reachable.add(id);
        const stored = new Set(disk.table(StateTable.Node).map(([key]) => toKey(key.subarray(1))));
        expect(stored.size, `stored nodes at ${h}`).to.equal(reachable.size);
        for (const id of reachable) expect(stored.has(id)).to.equal(true);
        expect(disk.table(StateTable.Root).length, `root records at ${h}`).to.equal(Math.min(h, history) + 1);
        expect(disk.table(StateTable.Undo).length).to.equal(Math.min(h, history));
      }
    });
  }

  it('a larger state: the same roots and the same proofs, bit for bit, as the in-memory tree, for present and absent keys', () => {
    const rand = rng(5);
    const disk = new Disk();
    const state = StoredState.empty(disk, { history: 2, cacheBytes: 64 * 1024 });
    let ref = SparseMerkleTree.empty();
    const live: string[] = [];
    for (let h = 0; h < 12; h++) {
      const writes = new Map<string, Uint8Array | null>();
      for (let i = 0; i < (h === 0 ? 5000 : 400); i++) writes.set(k(`key${Math.floor(rand() * 8000)}`), utf8(`v${h}.${i}`));
      for (let i = 0; i < 100 && h > 0; i++) writes.set(live[Math.floor(rand() * live.length)]!, null);
      commit(disk, state, writes, h);
      ref = ref.updateRaw(writes);
      live.length = 0;
      for (let i = 0; i < 8000; i++) if (ref.get(fromKey(k(`key${i}`))) !== undefined) live.push(k(`key${i}`));
      expect(toHex(state.root), `root at ${h}`).to.equal(toHex(ref.root));
      for (let i = 0; i < 200; i++) {
        const key = fromKey(k(`key${Math.floor(rand() * 9000)}`));
        expect((state.tree as DiskTree).prove(key), `proof of key at ${h}`).to.deep.equal(ref.prove(key));
      }
    }
    expect(state.size).to.equal(live.length);
  });

  it('a tree not stored yet (updated twice before its commit) proves and updates like the in-memory tree, and stores the records one update of both would', () => {
    const rand = rng(11);
    const key = (i: number): string => k(`key${i}`);
    const base = new Map<string, Uint8Array | null>();
    for (let i = 0; i < 3000; i++) base.set(key(i), utf8(`v0.${i}`));
    const first = new Map<string, Uint8Array | null>();
    const second = new Map<string, Uint8Array | null>();
    for (let i = 0; i < 300; i++) first.set(key(Math.floor(rand() * 4000)), utf8(`v1.${i}`));
    for (let i = 0; i < 300; i++) second.set(key(Math.floor(rand() * 4000)), rand() < 0.2 ? null : utf8(`v2.${i}`));
    const both = new Map([...first, ...second]);
    const run = (steps: Map<string, Uint8Array | null>[]): Disk => {
      const disk = new Disk();
      const state = StoredState.empty(disk, { history: 2, cacheBytes: 16 * 1024 });
      commit(disk, state, base, 0);
      let ref = SparseMerkleTree.empty().updateRaw(base);
      let tree = state.tree;
      for (const w of steps) {
        tree = tree.updateRaw(w);
        ref = ref.updateRaw(w);
        expect(toHex(tree.root)).to.equal(toHex(ref.root));
        for (let i = 0; i < 100; i++) {
          const probe = fromKey(key(Math.floor(rand() * 4500)));
          expect((tree as DiskTree).prove(probe), 'a proof from the tree not stored').to.deep.equal(ref.prove(probe));
        }
      }
      const staged = state.stage(both, tree, 1);
      disk.write(both, staged.ops);
      state.apply(staged);
      expect(toHex(state.root)).to.equal(toHex(ref.root));
      for (let i = 0; i < 100; i++) {
        const probe = fromKey(key(Math.floor(rand() * 4500)));
        expect((state.tree as DiskTree).prove(probe), 'a proof once stored').to.deep.equal(ref.prove(probe));
      }
      return disk;
    };
    const twice = run([first, second]);
    const once = run([both]);
    const nodes = (d: Disk): string[] => d.table(StateTable.Node).map(([kk, v]) => `${toHex(kk)}=${toHex(v)}`);
    expect(nodes(twice)).to.deep.equal(nodes(once));
  });
  it('a bulk load builds, in path order, the tree commits make: same root, proofs and node count, for any size', async () => {
    const rand = rng(11);
    for (const n of [0, 1, 2, 3, 17, 300, 4_000]) {
      const entries = new Map<string, Uint8Array>();
      for (let i = 0; i < n; i++) entries.set(k(`acct/${Math.floor(rand() * 1e9)}/${i}`), utf8(`balance ${i}`));
      const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : 1));
      const ref = SparseMerkleTree.empty().updateRaw(entries);
      // The same entries committed as one block, for the node count.
      const committedDisk = new Disk();
      commit(committedDisk, StoredState.empty(committedDisk, { history: 0, cacheBytes: 64 * 1024 }), entries, 0);
      const disk = new Disk();
      async function* source(): AsyncGenerator<[string, Uint8Array]> {
        yield* sorted;
      }
      const r = await StoredState.empty(disk, { history: 0, cacheBytes: 64 * 1024 }).load(source(), 5, disk.bulk, { stepKeys: 97 });
      expect(toHex(r.root), `root of ${n}`).to.equal(toHex(ref.root));
      expect(r.keys).to.equal(n);
      expect(disk.table(StateTable.Node).length, `nodes of ${n}`).to.equal(committedDisk.table(StateTable.Node).length);
      expect(r.nodes).to.equal(disk.table(StateTable.Node).length);
      const state = disk.open({ history: 0, cacheBytes: 64 * 1024 });
      expect(state.height).to.equal(5);
      expect(state.size).to.equal(n);
      expect([...(state.tree as DiskTree).storedIds()].length).to.equal(r.nodes);
      for (let i = 0; i < 50; i++) {
        const key = i % 2 && n ? sorted[Math.floor(rand() * n)]![0] : k(`absent/${i}`);
        expect((state.tree as DiskTree).prove(fromKey(key)), `proof at ${n}`).to.deep.equal(ref.prove(fromKey(key)));
        expect(state.getRaw(key) && toHex(state.getRaw(key)!)).to.equal(entries.get(key) && toHex(entries.get(key)!));
      }
      expect(state.scan(k('acct/'), { limit: 1000 }).map(([key]) => key)).to.deep.equal(sorted.slice(0, 1000).map(([key]) => key));
      // The loaded state commits on: the next block's root is the reference's.
      const next = new Map<string, Uint8Array | null>([[k('new'), utf8('x')]]);
      if (n) next.set(sorted[0]![0], null);
      commit(disk, state, next, 6);
      expect(toHex(state.root)).to.equal(toHex(ref.updateRaw(next).root));
    }
  });

  it('a bulk load cut short at any of its writes leaves no state, and the next one loads over what it wrote', async () => {
    const entries: [string, Uint8Array][] = [];
    for (let i = 0; i < 500; i++) entries.push([k(`key/${String(i).padStart(4, '0')}`), utf8(`v${i}`)]);
    async function* source(): AsyncGenerator<[string, Uint8Array]> {
      yield* entries;
    }
    // How many writes a whole load makes, then a load cut at each of them.
    const counting = new Disk();
    let total = 0;
    await StoredState.empty(counting, { history: 0, cacheBytes: 64 * 1024 }).load(source(), 0, { ...counting.bulk, write: async (v, ops) => void (total++, counting.write(v, ops)) }, { stepKeys: 50 });
    expect(total, 'a load in many writes').to.be.greaterThan(10);
    const disk = new Disk();
    for (let failAt = 1; failAt <= total; failAt++) {
      let writes = 0;
      const failing = { ...disk.bulk, write: async (v: Parameters<Disk['write']>[0], ops: Parameters<Disk['write']>[1]) => { if (++writes === failAt) throw new Error('disk full'); disk.write(v, ops); } };
      let err: unknown;
      await StoredState.empty(disk, { history: 0, cacheBytes: 64 * 1024 }).load(source(), 0, failing, { stepKeys: 50 }).catch((e: unknown) => (err = e));
      expect((err as Error).message, `write ${failAt}`).to.equal('disk full');
      expect(StoredState.exists(disk), `no state after write ${failAt} failed`).to.equal(false);
    }
    const r = await StoredState.empty(disk, { history: 0, cacheBytes: 64 * 1024 }).load(source(), 0, disk.bulk, { stepKeys: 50 });
    expect(toHex(r.root)).to.equal(toHex(SparseMerkleTree.empty().updateRaw(new Map(entries)).root));
    const state = disk.open({ history: 0, cacheBytes: 64 * 1024 });
    expect(state.size).to.equal(500);
    expect(state.scan(k('key/'), { limit: 1000 }).length).to.equal(500);
  });

  it('a bulk load refuses keys out of order and a root that is not the expected one, writing no state', async () => {
    const disk = new Disk();
    async function* unordered(): AsyncGenerator<[string, Uint8Array]> {
      yield [k('b'), utf8('1')];
      yield [k('a'), utf8('2')];
    }
    let err: unknown;
    await StoredState.empty(disk, { history: 0, cacheBytes: 64 * 1024 }).load(unordered(), 0, disk.bulk).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(StateStorageError);
    expect((err as Error).message).to.match(/not in ascending key order/);
    async function* ordered(): AsyncGenerator<[string, Uint8Array]> {
      yield [k('a'), utf8('1')];
      yield [k('b'), utf8('2')];
    }
    err = undefined;
    await StoredState.empty(disk, { history: 0, cacheBytes: 64 * 1024 }).load(ordered(), 0, disk.bulk, { expectRoot: new Uint8Array(32) }).catch((e: unknown) => (err = e));
    expect((err as Error).message).to.match(/not the expected state root/);
    expect(StoredState.exists(disk)).to.equal(false);
  });

  it('the node cache holds the head tree\'s records, not the versions blocks replaced (still stored, for proofs at kept heights)', () => {
    const disk = new Disk();
    const state = StoredState.empty(disk, { history: 8, cacheBytes: 64 << 20 });
    const writes = new Map<string, Uint8Array | null>();
    for (let i = 0; i < 3000; i++) writes.set(k(`acct${i}`), utf8(`${i}`));
    commit(disk, state, writes, 0);
    for (let h = 1; h <= 8; h++) {
      const block = new Map<string, Uint8Array | null>();
      for (let i = 0; i < 500; i++) block.set(k(`acct${(i * 7 + h * 131) % 3000}`), utf8(`${h}.${i}`));
      commit(disk, state, block, h);
    }
    const head = new Set((state.tree as DiskTree).storedIds());
    const stored = disk.table(StateTable.Node).length;
    expect(stored, 'the replaced versions are stored for the window').to.be.greaterThan(head.size * 2);
    expect(state.cacheStats.nodes.records, 'cached: the head tree only').to.equal(head.size);
    // A proof at an older kept height reads its replaced nodes back from storage.
    const before = state.nodes.reads;
    expect(state.proof(2, fromKey(k('acct5')))!.value).to.not.equal(undefined);
    expect(state.nodes.reads).to.be.greaterThan(before);
  });

  it('a window made smaller is pruned over the next commits, at most PRUNE_PER_BLOCK blocks each', () => {
    const disk = new Disk();
    const big = { history: PRUNE_PER_BLOCK + 40, cacheBytes: 1 << 20 };
    let state = StoredState.empty(disk, big);
    for (let h = 0; h <= PRUNE_PER_BLOCK + 40; h++) commit(disk, state, new Map([[k(`x${h % 5}`), utf8(`v${h}`)]]), h);
    expect(disk.table(StateTable.Root).length).to.equal(PRUNE_PER_BLOCK + 41);
    state = disk.open({ history: 2, cacheBytes: 1 << 20 });
    expect(state.oldestReadable).to.equal(state.height - 2);
    let h = state.height + 1;
    commit(disk, state, new Map([[k('x0'), utf8('again')]]), h);
    expect(disk.table(StateTable.Root).length, 'after one commit').to.equal(PRUNE_PER_BLOCK + 42 - PRUNE_PER_BLOCK);
    commit(disk, state, new Map([[k('x1'), utf8('again')]]), ++h);
    expect(disk.table(StateTable.Root).length, 'caught up').to.equal(3);
    expect(state.proof(h - 2, fromKey(k('x0')))!.value).to.not.equal(undefined);
  });

  it('a commit whose batch never landed leaves the stored state as it was; one that landed is there after a restart', () => {
    const disk = new Disk();
    const opts = { history: 3, cacheBytes: 4096 };
    const state = StoredState.empty(disk, opts);
    commit(disk, state, new Map([[k('a'), utf8('1')], [k('b'), utf8('2')]]), 0);
    const root0 = state.root;
    // Staged but not written (the process died before the batch): nothing changed, on disk or in memory.
    const writes = new Map([[k('a'), utf8('9')], [k('b'), null]]);
    const before = new Map(disk.records);
    const staged = state.stage(writes, state.tree.updateRaw(writes), 1);
    expect(disk.records).to.deep.equal(before);
    expect(toHex(disk.open(opts).root)).to.equal(toHex(root0));
    expect(toHex(state.get(utf8('a'))!)).to.equal(toHex(utf8('1')));
    // Staging again gives the same records (a retried write).
    const again = state.stage(writes, state.tree.updateRaw(writes), 1);
    expect(again.ops).to.deep.equal(staged.ops);
    // Written, then the process died before apply: the restart sees height 1.
    disk.write(writes, staged.ops);
    const reopened = disk.open(opts);
    expect(reopened.height).to.equal(1);
    expect(toHex(reopened.root)).to.equal(toHex(SparseMerkleTree.empty().updateRaw(new Map([[k('a'), utf8('9')]])).root));
    expect(reopened.get(utf8('b'))).to.equal(undefined);
    expect(toHex(reopened.at(0)!.get(utf8('b'))!)).to.equal(toHex(utf8('2')));
  });

  it('refuses a height out of order and a tree it did not make', () => {
    const disk = new Disk();
    const state = StoredState.empty(disk, { history: 1, cacheBytes: 4096 });
    expect(() => state.stage(new Map(), state.tree, 1)).to.throw(StateStorageError, /cannot take height 1/);
    expect(() => state.stage(new Map(), SparseMerkleTree.empty(), 0)).to.throw(/only trees made from its own/);
  });

  it('opening a damaged folder is a StateStorageError that says what is missing', () => {
    const disk = new Disk();
    const state = StoredState.empty(disk, { history: 1, cacheBytes: 4096 });
    commit(disk, state, new Map([[k('a'), utf8('1')], [k('b'), utf8('2')], [k('c'), utf8('3')]]), 0);
    for (const [key] of disk.table(StateTable.Node)) disk.records.delete(toKey(key));
    const opened = disk.open({ history: 1, cacheBytes: 4096 });
    expect(() => (opened.tree as DiskTree).prove(utf8('a'))).to.throw(StateStorageError, /has no node .* the data folder is damaged/);
    disk.records.delete(toKey(Uint8Array.of(StateTable.Meta)));
    expect(() => disk.open({ history: 1, cacheBytes: 4096 })).to.throw(StateStorageError, /no meta record/);
  });

  it('a prefetch reads a block\'s values and the tree nodes on the way to its keys off the synchronous path: the block then reads nothing, and gets the same root', async () => {
    const rand = rng(7);
    const disk = new Disk();
    const state = StoredState.empty(disk, { history: 4, cacheBytes: 8 * 1024 * 1024 });
    const pool = Array.from({ length: 6000 }, (_, i) => k(`acct${i}`));
    commit(disk, state, new Map(pool.map((key) => [key, utf8(`v0-${key.length}`)])), 0);
    for (let h = 1; h <= 3; h++) commit(disk, state, randomWrites(rand, pool, new Map(), h), h);
    const block = new Map<string, Uint8Array | null>();
    for (let i = 0; i < 300; i++) block.set(pool[Math.floor(rand() * pool.length)]!, utf8(`new${i}`));
    block.set(k('a key not stored yet'), utf8('fresh'));
    block.set(pool[5]!, null);
    const keys = [...block.keys()];
    const run = async (prefetch: boolean): Promise<{ root: string; valueGets: number; recordGets: number; values: (string | undefined)[] }> => {
      const cold = disk.open({ history: 4, cacheBytes: 8 * 1024 * 1024 }); // empty caches
      if (prefetch) {
        const done = await cold.prefetch(keys);
        expect(done.values).to.equal(keys.length);
        expect(done.nodes).to.be.greaterThan(300);
      }
      const [v0, r0] = [disk.valueGets, disk.recordGets];
      const values = keys.map((key) => cold.getRaw(key)).map((v) => v && toHex(v));
      const root = toHex(cold.tree.updateRaw(block).root);
      return { root, values, valueGets: disk.valueGets - v0, recordGets: disk.recordGets - r0 };
    };
    const without = await run(false);
    const asyncBefore = disk.asyncRecordGets;
    const with_ = await run(true);
    expect(without.valueGets).to.equal(keys.length);
    expect(without.recordGets).to.be.greaterThan(300);
    expect(with_.valueGets, 'values read while the block runs').to.equal(0);
    expect(with_.recordGets, 'tree nodes read while the block updates its tree').to.equal(0);
    expect(disk.asyncRecordGets - asyncBefore).to.equal(without.recordGets);
    expect(with_.root).to.equal(without.root);
    expect(with_.values).to.deep.equal(without.values);
  });

  it('a prefetch whose reads fail rejects with the failure once every part has landed, and leaves no rejection unhandled', async () => {
    const disk = new Disk();
    const state = StoredState.empty(disk, { history: 0, cacheBytes: 64 * 1024 * 1024 });
    const pool = Array.from({ length: 20000 }, (_, i) => k(`acct${i}`));
    commit(disk, state, new Map(pool.map((key) => [key, utf8('v')])), 0);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): number => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const cold = disk.open({ history: 0, cacheBytes: 64 * 1024 * 1024 });
      disk.failRecordReadsFrom = 5; // levels 0–2 and the first of level 3's four parts land; three parts fail at once
      let caught: unknown;
      await cold.prefetch(pool.slice(0, 12000)).catch((e: unknown) => (caught = e));
      expect((caught as Error | undefined)?.message).to.equal('EIO: i/o error, read');
      await new Promise((r) => setImmediate(r));
      expect(unhandled).to.deep.equal([]);
      // The block then reads what it needs itself, and gets the same root.
      disk.failRecordReadsFrom = undefined;
      const writes = new Map(pool.slice(0, 500).map((key) => [key, utf8('w')]));
      expect(toHex(cold.tree.updateRaw(writes).root)).to.equal(toHex(state.tree.updateRaw(writes).root));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('values a prefetch read before a commit applied are dropped, not cached over what the commit wrote', async () => {
    const disk = new Disk();
    const state = StoredState.empty(disk, { history: 4, cacheBytes: 4096 * 4 }); // a values cache of 4 KiB: one key in and others out
    const pool = Array.from({ length: 200 }, (_, i) => k(`acct${i}`));
    commit(disk, state, new Map(pool.map((key) => [key, utf8('old')])), 0);
    let open!: () => void;
    disk.gate = new Promise((r) => (open = r));
    const prefetch = state.prefetch([pool[0]!, pool[1]!]);
    await Promise.resolve();
    commit(disk, state, new Map([[pool[0]!, utf8('new')]]), 1);
    for (const key of pool.slice(2)) state.getRaw(key); // pushes the commit's value out of the cache
    open();
    const done = await prefetch;
    disk.gate = undefined;
    expect(toHex(state.getRaw(pool[0]!)!), 'the value the commit wrote').to.equal(toHex(utf8('new')));
    expect(done.values, 'values dropped').to.equal(0); // the tree's nodes it read are kept: a node record never changes
  });

  it('start-up reads a bounded number of records, whatever the size of the state', () => {
    const reads: number[] = [];
    for (const keys of [1_000, 20_000]) {
      const disk = new Disk();
      const state = StoredState.empty(disk, { history: 4, cacheBytes: 1 << 20 });
      const writes = new Map<string, Uint8Array | null>();
      for (let i = 0; i < keys; i++) writes.set(k(`acct${i}`), utf8(`${i}`));
      commit(disk, state, writes, 0);
      for (let h = 1; h <= 6; h++) commit(disk, state, new Map([[k(`acct${h}`), utf8(`new${h}`)]]), h);
      disk.recordGets = 0;
      disk.valueGets = 0;
      const opened = disk.open({ history: 4, cacheBytes: 1 << 20 });
      // The meta record, the head's root and the window's undo sets; no value and no tree node.
      expect(disk.valueGets).to.equal(0);
      expect(opened.nodes.reads).to.equal(0);
      reads.push(disk.recordGets);
      // A proof after it reads about one record per four levels of the binary tree (16-ary nodes).
      const before = opened.nodes.reads;
      (opened.tree as DiskTree).prove(utf8('acct77'));
      expect(opened.nodes.reads - before).to.be.at.most(Math.ceil(Math.log(keys) / Math.log(16)) + 3);
    }
    expect(reads[0]).to.equal(reads[1]);
    expect(reads[0]).to.be.at.most(2 + 4);
  });
});

describe('vm/state/keyindex: sorted key pages against a sorted array', () => {
  it('range, split and removed pages, and a reopen from the directory, over many batches', () => {
    const rand = rng(11);
    const disk = new Disk();
    let index = KeyIndex.empty(disk, 8192);
    const model = new Set<string>();
    for (let batch = 0; batch < 80; batch++) {
      const adds: string[] = [];
      const dels: string[] = [];
      const n = batch < 30 ? 200 : 60;
      for (let i = 0; i < n; i++) {
        const key = k(`${'abc'[Math.floor(rand() * 3)]}${Math.floor(rand() * 5000)}`);
        const remove = batch >= 30 && rand() < 0.7;
        if (remove && model.has(key) && !dels.includes(key)) dels.push(key);
        else if (!remove && !model.has(key) && !adds.includes(key)) adds.push(key);
      }
      const staged = index.stage(adds, dels);
      disk.write(new Map(), staged.ops);
      index.applyStaged(staged);
      for (const a of adds) model.add(a);
      for (const d of dels) model.delete(d);
      if (batch % 10 === 9) index = KeyIndex.fromDirectory(disk, disk.table(StateTable.Directory), index.nextPageId, 8192);
      const sorted = [...model].sort();
      expect([...index.all()]).to.deep.equal(sorted);
      for (const prefix of ['', 'a', 'b1', 'c49']) {
        const p = k(prefix);
        const after = sorted[Math.floor(rand() * sorted.length)];
        const want = sorted.filter((x) => x.startsWith(p) && (after === undefined || x > after)).slice(0, 50);
        expect(index.range(p, after, 50), `range ${prefix} after ${after}`).to.deep.equal(want);
      }
    }
    expect(index.pageCount, 'pages split as the keys grew').to.be.greaterThan(Math.floor(model.size / PAGE_MAX));
    expect(disk.table(StateTable.Page).length).to.equal(index.pageCount);
  });
});
