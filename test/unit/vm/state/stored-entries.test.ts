import { expect } from 'chai';
import { ENTRY_PROOF_FORMAT, fromKey, toHex, utf8, verifyVersionedStateProof, versionedProofFromJson, versionedProofToJson } from '../../../../chain/index.js';
import { TWIG_ENTRIES } from '../../../../chain/stateentry.js';
import { MemoryScratch } from '../../../../storage/scratch.js';
import { EntryStore } from '../../../../vm/state/entrystore.js';
import { StateStorageError, StateTable } from '../../../../vm/state/storage.js';
import { EntryTree, StoredState, type StoredStateOptions } from '../../../../vm/state/stored.js';
import { Disk, commit, k, pagedScan, randomWrites, rng } from './disk.js';

/** The stored state with the entry log as its commitment (what a chain whose genesis says "entry-log" runs). */

const entriesOpts = (history: number, cacheBytes = 4096): StoredStateOptions => ({ history, cacheBytes, commitment: 'entries' });

/** A bare entry log fed the same writes: the reference for roots (its own tests check it against the layout written out naively). */
class ReferenceLog {
  readonly disk = new Disk();
  readonly log = EntryStore.empty(this.disk, 1 << 20, 0);
  commit(writes: ReadonlyMap<string, Uint8Array | null>, height: number): Uint8Array {
    const s = this.log.stage(writes, height);
    this.disk.write(new Map(), s.ops);
    this.log.apply(s);
    return s.root;
  }
}

function checkHeight(state: StoredState, entries: ReadonlyMap<string, Uint8Array>, root: Uint8Array, pool: readonly string[], at: number, label: string): void {
  const reader = state.at(at)!;
  expect(reader, `${label}: height ${at} is readable`).to.not.equal(undefined);
  expect(toHex(state.rootAt(at)!), `${label}: root at ${at}`).to.equal(toHex(root));
  for (const key of pool) {
    const want = entries.get(key);
    const got = reader.getRaw(key);
    expect(got && toHex(got), `${label}: ${key} at ${at}`).to.equal(want && toHex(want));
    const p = state.proof(at, fromKey(key))!;
    expect(p.proof.format, 'the entry log proves in format 2').to.equal(ENTRY_PROOF_FORMAT);
    expect(toHex(p.root)).to.equal(toHex(root));
    expect(verifyVersionedStateProof(root, fromKey(key), want, p.proof), `${label}: proof of ${key} at ${at}`).to.equal(true);
    // Through its JSON form, as a client gets it.
    const json = JSON.parse(JSON.stringify(versionedProofToJson(p.proof))) as { proofFormat: number; proof: unknown };
    expect(verifyVersionedStateProof(root, fromKey(key), want, versionedProofFromJson(json.proofFormat, json.proof))).to.equal(true);
    expect(verifyVersionedStateProof(root, fromKey(key), want === undefined ? utf8('x') : undefined, p.proof), `${label}: the proof says only what is true`).to.equal(false);
  }
  for (const prefix of [k(''), k('a'), k('b1')]) {
    const want = [...entries.keys()].filter((x) => x.startsWith(prefix)).sort();
    const got = pagedScan(reader, prefix, 3);
    expect(got, `${label}: scan of ${JSON.stringify(prefix)} at ${at}`).to.deep.equal(want);
  }
}

describe('vm/state/stored over the entry log: against a reference model', () => {
  for (const [seed, history] of [
    [1, 4],
    [2, 0],
    [3, 1],
    [4, 9],
  ] as const) {
    it(`seed ${seed}, history ${history}: roots, reads, format-2 proofs and scans of every kept height; older heights refused; undo records pruned`, () => {
      const rand = rng(seed);
      const pool = Array.from({ length: 40 }, (_, i) => k(`${i % 3 === 0 ? 'a' : 'b'}${i}`));
      const disk = new Disk();
      let state = StoredState.empty(disk, entriesOpts(history));
      expect(state.commitment).to.equal('entries');
      const ref = new ReferenceLog();
      const versions: Map<string, Uint8Array>[] = [];
      const roots: Uint8Array[] = [];
      let entries = new Map<string, Uint8Array>();
      for (let h = 0; h <= 60; h++) {
        const writes = randomWrites(rand, pool, entries, h);
        commit(disk, state, writes, h);
        entries = new Map(entries);
        for (const [key, v] of writes) {
          if (v === null) entries.delete(key);
          else entries.set(key, v);
        }
        versions.push(entries);
        roots.push(ref.commit(writes, h));
        if (h % 7 === 3) state = disk.open(entriesOpts(history)); // reopened from what is stored
        expect(state.commitment).to.equal('entries');
        expect(toHex(state.root), `root at ${h}`).to.equal(toHex(roots[h]!));
        expect(state.size, `size at ${h}`).to.equal(entries.size);
        expect(state.oldestReadable).to.equal(Math.max(0, h - history));
        for (let at = Math.max(0, h - history); at <= h; at++) checkHeight(state, versions[at]!, roots[at]!, pool, at, `head ${h}`);
        for (let at = 0; at < h - history; at++) {
          expect(state.at(at), `height ${at} at head ${h}`).to.equal(undefined);
          expect(state.rootAt(at)).to.equal(undefined);
          expect(state.proof(at, fromKey(pool[0]!))).to.equal(undefined);
        }
        expect(state.at(h + 1)).to.equal(undefined);
        // The tree's own records are never written with the entry log.
        expect(disk.table(StateTable.Node).length + disk.table(StateTable.Root).length + disk.table(StateTable.Stale).length).to.equal(0);
        expect(disk.table(StateTable.Undo).length, `value undo sets at ${h}`).to.equal(Math.min(h, history));
        expect(disk.table(StateTable.LogUndo).length, `log undo records at ${h}`).to.be.at.most(history);
      }
    });
  }

  it('the first commit is laid out as a bulk load lays it out: a genesis by blocks and one by the bulk load have the same root', async () => {
    for (const n of [0, 1, 5, TWIG_ENTRIES - 1, TWIG_ENTRIES, 3 * TWIG_ENTRIES + 17]) {
      const writes = new Map<string, Uint8Array | null>();
      for (let i = n - 1; i >= 0; i--) writes.set(k(`key${i}`), utf8(`value ${i}`)); // not in key order: the layout sorts
      writes.set(k('deleted-before-it-existed'), null);
      const byBlock = new Disk();
      const state = StoredState.empty(byBlock, entriesOpts(2, 1 << 20));
      commit(byBlock, state, writes, 0);
      const bulk = new Disk();
      const sorted = [...writes].filter((e): e is [string, Uint8Array] => e[1] !== null).sort(([a], [b]) => (a < b ? -1 : 1));
      async function* source(): AsyncIterable<[string, Uint8Array]> {
        yield* sorted;
      }
      const loaded = await StoredState.empty(bulk, entriesOpts(2, 1 << 20)).load(source(), 0, { ...bulk.bulk, index: new MemoryScratch() }, { stepKeys: 1000 });
      expect(toHex(loaded.root), `${n} keys`).to.equal(toHex(state.root));
      expect(loaded.keys).to.equal(n);
      const opened = bulk.open(entriesOpts(2, 1 << 20));
      expect(opened.commitment).to.equal('entries');
      expect(opened.size).to.equal(n);
      expect(toHex(opened.root)).to.equal(toHex(state.root));
      // Both go on alike.
      const next = new Map<string, Uint8Array | null>([[k('key0'), null], [k('new'), utf8('n')]]);
      commit(byBlock, state, next, 1);
      commit(bulk, opened, next, 1);
      expect(toHex(opened.root)).to.equal(toHex(state.root));
      const p = opened.proof(1, fromKey(k('new')))!;
      expect(verifyVersionedStateProof(state.root, fromKey(k('new')), utf8('n'), p.proof)).to.equal(true);
    }
  });

  it('a bulk load refuses a root that is not the expected one, and writes no state', async () => {
    const disk = new Disk();
    async function* source(): AsyncIterable<[string, Uint8Array]> {
      yield [k('a'), utf8('1')];
      yield [k('b'), utf8('2')];
    }
    const state = StoredState.empty(disk, entriesOpts(0));
    let error: unknown;
    try {
      await state.load(source(), 0, disk.bulk, { expectRoot: new Uint8Array(32).fill(7) });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(StateStorageError);
    expect((error as Error).message).to.match(/not the expected state root/);
    expect(StoredState.exists(disk)).to.equal(false);
    // The next load clears what that one wrote.
    const again = await StoredState.empty(disk, entriesOpts(0)).load(source(), 0, disk.bulk);
    expect(toHex(disk.open(entriesOpts(0)).root)).to.equal(toHex(again.root));
  });

  it('a commit whose batch never landed leaves the stored state as it was; one that landed is there after a restart', () => {
    const disk = new Disk();
    const opts = entriesOpts(3);
    const state = StoredState.empty(disk, opts);
    commit(disk, state, new Map([[k('a'), utf8('1')], [k('b'), utf8('2')]]), 0);
    const root0 = state.root;
    const writes = new Map([[k('a'), utf8('9')], [k('b'), null], [k('c'), utf8('3')]]);
    const before = new Map(disk.records);
    const tree = state.tree.updateRaw(writes);
    const staged = state.stage(writes, tree, 1);
    // Staged, not written: nothing changed on disk or in memory.
    expect(disk.records).to.deep.equal(before);
    expect(toHex(state.root)).to.equal(toHex(root0));
    expect(toHex(disk.open(opts).root)).to.equal(toHex(root0));
    // Staging again gives the same records (a retried write), and a tree made again the same root.
    const again = state.stage(writes, state.tree.updateRaw(writes), 1);
    expect(again.ops).to.deep.equal(staged.ops);
    // Written, then the process died before apply: the restart is at height 1, with the root the tree said.
    disk.write(writes, staged.ops);
    const reopened = disk.open(opts);
    expect(reopened.height).to.equal(1);
    expect(toHex(reopened.root)).to.equal(toHex(tree.root));
    expect(reopened.get(utf8('b'))).to.equal(undefined);
    expect(toHex(reopened.at(0)!.get(utf8('b'))!)).to.equal(toHex(utf8('2')));
    expect(verifyVersionedStateProof(root0, utf8('b'), utf8('2'), reopened.proof(0, utf8('b'))!.proof)).to.equal(true);
    expect(verifyVersionedStateProof(tree.root, utf8('b'), undefined, reopened.proof(1, utf8('b'))!.proof)).to.equal(true);
  });

  it('a crash at any point of a commit: the batch is atomic, so the restart finds the block before or the block after, each with its root', () => {
    // The batch is one atomic write (LevelDB); what a kill -9 can leave is: nothing of it, or all of it,
    // before or after apply. Each of those, for a run of blocks, against the roots the tree objects gave.
    const rand = rng(11);
    const pool = Array.from({ length: 300 }, (_, i) => k(`acct${i}`));
    const opts = entriesOpts(4);
    const disk = new Disk();
    let state = StoredState.empty(disk, opts);
    let entries = new Map<string, Uint8Array>();
    const roots: Uint8Array[] = [];
    for (let h = 0; h < 40; h++) {
      const writes = h === 0 ? new Map(pool.map((p) => [p, utf8('0')] as [string, Uint8Array | null])) : randomWrites(rand, pool, entries, h);
      const tree = state.tree.updateRaw(writes);
      const staged = state.stage(writes, tree, h);
      const crash = Math.floor(rand() * 3); // 0: before the batch; 1: after it, before apply; 2: no crash
      if (crash === 0) {
        state = h === 0 ? StoredState.empty(disk, opts) : disk.open(opts);
        expect(state.height).to.equal(h - 1);
        if (h > 0) expect(toHex(state.root)).to.equal(toHex(roots[h - 1]!));
        h--; // the block is proposed again
        continue;
      }
      disk.write(writes, staged.ops);
      if (crash === 1) state = disk.open(opts);
      else state.apply(staged);
      expect(state.height).to.equal(h);
      expect(toHex(state.root)).to.equal(toHex(tree.root));
      roots[h] = tree.root;
      entries = new Map(entries);
      for (const [key, v] of writes) {
        if (v === null) entries.delete(key);
        else entries.set(key, v);
      }
      for (const key of pool.slice(0, 20)) expect(verifyVersionedStateProof(state.root, fromKey(key), entries.get(key), state.proof(h, fromKey(key))!.proof)).to.equal(true);
    }
  });

  it('refuses a tree it did not make, one made for another height, and one built on a block not committed', () => {
    const disk = new Disk();
    const state = StoredState.empty(disk, entriesOpts(1));
    const other = StoredState.empty(new Disk(), entriesOpts(1));
    expect(() => state.stage(new Map(), other.tree.updateRaw(new Map()), 0)).to.throw(/only trees made from its own/);
    expect(() => state.stage(new Map(), state.tree, 0)).to.throw(/only trees made from its own/);
    const block = state.tree.updateRaw(new Map([[k('a'), utf8('1')]]));
    expect(() => block.updateRaw(new Map())).to.throw(/only from the committed head/);
    const head = state.tree;
    commit(disk, state, new Map([[k('a'), utf8('1')]]), 0);
    expect(() => head.updateRaw(new Map())).to.throw(/has moved on/);
    expect(() => state.stage(new Map(), block, 1)).to.throw(/made for height 0, not 1/);
    expect(() => state.proof(0, new Uint8Array(0))).to.throw(RangeError);
  });

  it('a home keeps the commitment it was made with: the meta record says which, whatever the options say', () => {
    const disk = new Disk();
    commit(disk, StoredState.empty(disk, entriesOpts(1)), new Map([[k('a'), utf8('1')]]), 0);
    expect(StoredState.storedCommitment(disk)).to.equal('entries');
    expect(disk.open({ history: 1, cacheBytes: 4096, commitment: 'tree' }).commitment).to.equal('entries');
    const tree = new Disk();
    commit(tree, StoredState.empty(tree, { history: 1, cacheBytes: 4096 }), new Map([[k('a'), utf8('1')]]), 0);
    expect(StoredState.storedCommitment(tree)).to.equal('tree');
    expect(StoredState.storedCommitment(new Disk())).to.equal(undefined);
    expect(toHex(tree.open({ history: 1, cacheBytes: 4096 }).root)).to.not.equal(toHex(disk.open(entriesOpts(1)).root));
  });

  it('a prefetch reads a block\'s values and index records off the synchronous path: the block then reads no index record, and gets the same root', async () => {
    const rand = rng(7);
    const disk = new Disk();
    const state = StoredState.empty(disk, entriesOpts(4, 8 * 1024 * 1024));
    const pool = Array.from({ length: 6000 }, (_, i) => k(`acct${i}`));
    commit(disk, state, new Map(pool.map((key) => [key, utf8(`v0-${key.length}`)])), 0);
    for (let h = 1; h <= 3; h++) commit(disk, state, randomWrites(rand, pool, new Map(), h), h);
    const opened = disk.open(entriesOpts(4, 8 * 1024 * 1024));
    const block = new Map<string, Uint8Array | null>();
    for (let i = 0; i < 400; i++) block.set(pool[Math.floor(rand() * pool.length)]!, utf8(`v4.${i}`));
    block.set(k('acct-new'), utf8('new')); // an insert: absent, remembered as absent
    const done = await opened.prefetch(block.keys());
    expect(done.values).to.equal(block.size);
    expect(done.nodes, 'index records read').to.equal(block.size);
    const readsBefore = opened.log!.reads;
    const valueGets = disk.valueGets;
    for (const key of block.keys()) opened.getRaw(key);
    const tree = opened.tree.updateRaw(block);
    expect(disk.valueGets - valueGets, 'values read synchronously').to.equal(0);
    // The planner reads only what the prefetch cannot know: predecessors of inserts and entries compaction moves.
    const compaction = (tree as EntryTree).staged!.plan.moved;
    expect(opened.log!.reads - readsBefore, 'records read synchronously').to.be.at.most(2 + 2 * compaction);
    const fresh = disk.open(entriesOpts(4, 4096));
    expect(toHex(fresh.tree.updateRaw(block).root)).to.equal(toHex(tree.root));
  });

  it('start-up reads the meta records, one record a twig, the youngest twig\'s entries and the window: no value, no index record', () => {
    const reads: { keys: number; records: number; twigs: number }[] = [];
    for (const keys of [1_000, 20_000]) {
      const disk = new Disk();
      const state = StoredState.empty(disk, entriesOpts(4, 1 << 20));
      const writes = new Map<string, Uint8Array | null>();
      for (let i = 0; i < keys; i++) writes.set(k(`acct${i}`), utf8(`${i}`));
      commit(disk, state, writes, 0);
      for (let h = 1; h <= 6; h++) commit(disk, state, new Map([[k(`acct${h}`), utf8(`new${h}`)]]), h);
      disk.recordGets = 0;
      disk.valueGets = 0;
      const opened = disk.open(entriesOpts(4, 1 << 20));
      expect(disk.valueGets).to.equal(0);
      expect(opened.log!.reads).to.equal(0);
      const twigs = opened.log!.tree.twigCount;
      reads.push({ keys, records: disk.recordGets, twigs });
      // meta (state and log) + twig records + the youngest twig's entries (< one twig) + the window's undo records (log's and values').
      expect(disk.recordGets).to.be.at.most(2 + twigs + TWIG_ENTRIES + 2 * 4);
      // A proof then reads the key's index record and entry, and a full twig's entry tree.
      const before = disk.recordGets;
      const p = opened.proof(6, utf8('acct77'))!;
      expect(verifyVersionedStateProof(opened.root, utf8('acct77'), utf8('77'), p.proof)).to.equal(true);
      expect(disk.recordGets - before).to.be.at.most(4);
    }
    // Twenty times the keys: the reads grow by the twigs' records (one per 2,048 entries), not by the keys.
    const [small, large] = reads as [(typeof reads)[0], (typeof reads)[0]];
    expect(large.records - small.records).to.be.at.most(large.twigs - small.twigs + TWIG_ENTRIES);
  });

  it('a window made smaller: the undo records below it (values\' and the log\'s) are deleted over the next commits', () => {
    const disk = new Disk();
    let state = StoredState.empty(disk, entriesOpts(12));
    for (let h = 0; h < 30; h++) commit(disk, state, new Map([[k(`x${h % 5}`), utf8(`v${h}`)]]), h);
    expect(disk.table(StateTable.LogUndo).length).to.equal(12);
    state = disk.open(entriesOpts(3));
    commit(disk, state, new Map([[k('x0'), utf8('again')]]), 30);
    expect(disk.table(StateTable.LogUndo).length, "the log's").to.equal(3);
    expect(disk.table(StateTable.Undo).length, "the values'").to.equal(3);
    expect(state.oldestReadable).to.equal(27);
    expect(verifyVersionedStateProof(state.rootAt(27)!, utf8('x2'), utf8('v27'), state.proof(27, utf8('x2'))!.proof)).to.equal(true);
    expect(state.at(26)).to.equal(undefined);
  });
});
