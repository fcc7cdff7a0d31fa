import { expect } from 'chai';
import { fromKey, toHex, utf8, verifyStateProof, verifyVersionedStateProof } from '../../../../chain/index.js';
import { TWIG_ENTRIES } from '../../../../chain/stateentry.js';
import { EntryStore, type LogSnapshotItem } from '../../../../vm/state/entrystore.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { SnapshotError, exportSnapshot, importSnapshot } from '../../../../vm/state/snapshot.js';
import type { DiskTree } from '../../../../vm/state/disktree.js';
import { StateTable } from '../../../../vm/state/storage.js';
import { StoredState } from '../../../../vm/state/stored.js';
import { Disk, commit, k } from './disk.js';

async function* chunks(bytes: Uint8Array, size = 777): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** A state of `n` keys at height 0, then a few blocks of changes; the disk and the state. */
function chain(n: number): { disk: Disk; state: StoredState } {
  const disk = new Disk();
  const state = StoredState.empty(disk, { history: 3, cacheBytes: 64 * 1024 });
  const genesis = new Map<string, Uint8Array | null>();
  for (let i = 0; i < n; i++) genesis.set(k(`acct/${i}`), utf8(`balance ${i}`));
  commit(disk, state, genesis, 0);
  for (let h = 1; h <= 3; h++) commit(disk, state, new Map<string, Uint8Array | null>([[k(`acct/${h}`), null], [k(`new/${h}`), utf8(`n${h}`)], [k(`acct/${h + 10}`), utf8(`changed at ${h}`)]]), h);
  return { disk, state };
}

function fileOf(state: StoredState, height: number): Uint8Array {
  return Buffer.concat([...exportSnapshot(state, 'metanode-test', height)]);
}

function importer(): { disk: Disk; target: Parameters<typeof importSnapshot>[1] } {
  const disk = new Disk();
  return { disk, target: { storage: disk, ...disk.bulk } };
}

/** Imports `bytes`, which must be refused with a SnapshotError matching `pattern`, leaving no state. */
async function refused(bytes: Uint8Array, expect_: Parameters<typeof importSnapshot>[2], pattern: RegExp): Promise<void> {
  const { disk, target } = importer();
  let err: unknown;
  try {
    await importSnapshot(chunks(bytes), target, expect_);
  } catch (e) {
    err = e;
  }
  expect(err, String(pattern)).to.be.instanceOf(SnapshotError);
  expect((err as Error).message).to.match(pattern);
  expect(StoredState.exists(disk), 'no meta record').to.equal(false);
}

describe('vm/state/snapshot: export and verified import', () => {
  it('a snapshot of the head and of a kept height imports to the same root, entries and proofs, in bounded steps', async () => {
    const { state } = chain(2_500);
    for (const height of [3, 1]) {
      const file = fileOf(state, height);
      const { disk, target } = importer();
      const header = await importSnapshot(chunks(file), target, { stateRoot: state.treeAt(height)!.root, chainId: 'metanode-test' });
      expect(header).to.deep.include({ chainId: 'metanode-test', height, keys: 2_500 });
      const imported = StoredState.open(disk, disk.table(StateTable.Directory), { history: 0, cacheBytes: 64 * 1024 });
      expect(imported.height).to.equal(height);
      expect(toHex(imported.root)).to.equal(toHex(state.treeAt(height)!.root));
      expect(imported.size).to.equal(2_500);
      const old = state.at(height)!;
      for (const key of [k('acct/1'), k('acct/2'), k('acct/13'), k('new/1'), k('new/3'), k('acct/2499'), k('absent')]) {
        const want = old.getRaw(key);
        expect(imported.getRaw(key) && toHex(imported.getRaw(key)!), key).to.equal(want && toHex(want));
        expect(verifyStateProof(imported.root, fromKey(key), want, (imported.tree as DiskTree).prove(fromKey(key)))).to.equal(true);
      }
      // Scans see every key, in order.
      expect(imported.scan(k('new/'), { limit: 10 }).map(([key]) => key)).to.deep.equal(old.scan(k('new/'), { limit: 10 }).map(([key]) => key));
      // No node left over from the import's steps: exactly the tree's nodes are stored.
      expect(disk.table(StateTable.Node).length).to.equal([...(imported.tree as DiskTree).storedIds()].length);
    }
  });

  it('a height not kept is refused at export', () => {
    const { state } = chain(10);
    expect(() => fileOf(state, 4)).to.throw(SnapshotError, /not kept/);
  });

  it('refuses a damaged, cut, reordered or unexpected snapshot, and writes no state for it', async () => {
    const { state } = chain(300);
    const file = fileOf(state, 3);
    const flipped = new Uint8Array(file); // a copy (Buffer.slice would be a view)
    flipped[file.length - 100]! ^= 1; // a byte of the last entries
    await refused(flipped, {}, /digest does not match|cannot be read|not above the one before/);
    await refused(file.subarray(0, file.length - 10), {}, /cut short/);
    await refused(file, { stateRoot: new Uint8Array(32) }, /not the expected/);
    await refused(file, { chainId: 'other' }, /of chain "metanode-test", not "other"/);
    await refused(utf8('{"not": "a snapshot"}'), {}, /not a state snapshot/);
    // Entries of another state under this state's header, with the digest made again: framing and
    // digest pass, the rebuilt root does not.
    const lying = fileOf(chain(301).state, 3);
    const headerLength = 8 + 4 + new DataView(file.buffer, file.byteOffset + 8, 4).getUint32(0);
    const forged = Buffer.concat([file.subarray(0, headerLength), lying.subarray(headerLength, lying.length - 32)]);
    await refused(Buffer.concat([forged, sha256(forged)]), {}, /does not verify: the loaded entries hash to .* not the expected state root/);
  });

  describe('of a state on the entry log (the log itself, as written)', () => {
    /** A state on the entry log with compaction and pruning under way: few keys, written often. */
    function logChain(blocks: number, history = 2): { disk: Disk; state: StoredState; writes: Map<string, Uint8Array | null>[] } {
      const disk = new Disk();
      const state = StoredState.empty(disk, { history, cacheBytes: 64 * 1024, commitment: 'entries' });
      const writes: Map<string, Uint8Array | null>[] = [];
      let x = 12345;
      const rand = (n: number): number => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return x % n;
      };
      for (let h = 0; h < blocks; h++) {
        const w = new Map<string, Uint8Array | null>();
        for (let i = 0; i < (h === 0 ? 60 : 12); i++) w.set(k(`acct/${rand(60)}`), rand(9) === 0 ? null : utf8(`v${h}.${i}`));
        writes.push(w);
        commit(disk, state, w, h);
      }
      return { disk, state, writes };
    }

    it('imports to the same root, values and proofs, and the imported node goes on making the chain\'s roots', async () => {
      const { state, disk: source } = logChain(700);
      const log = state.log!;
      expect(log.prunedTo, 'pruning is under way').to.be.greaterThan(TWIG_ENTRIES);
      expect(log.state.compactFrom).to.be.greaterThan(log.prunedTo);
      for (const height of [698, 699]) {
        const file = fileOf(state, height);
        const { disk, target } = importer();
        const root = state.rootAt(height)!;
        const header = await importSnapshot(chunks(file, 4096), target, { stateRoot: root, chainId: 'metanode-test' });
        expect(header).to.deep.include({ chainId: 'metanode-test', height, commitment: 'entries' });
        const imported = disk.open({ history: 2, cacheBytes: 64 * 1024 });
        expect(imported.commitment).to.equal('entries');
        expect(imported.height).to.equal(height);
        expect(toHex(imported.root)).to.equal(toHex(root));
        const old = state.at(height)!;
        const all = old.scan('', { limit: 1000 });
        expect(imported.size).to.equal(all.length);
        expect(header.keys).to.equal(all.length);
        expect(imported.scan('', { limit: 1000 })).to.deep.equal(all);
        for (const key of [k('acct/1'), k('acct/59'), k('absent')]) {
          const p = imported.proof(height, fromKey(key))!;
          expect(verifyVersionedStateProof(root, fromKey(key), old.getRaw(key), p.proof)).to.equal(true);
        }
        // The imported node takes the chain's next blocks and gets the chain's roots (its compaction
        // cursor and positions are the chain's), and the records it holds are the chain's, bit for bit.
        if (height === 699) {
          const entriesOf = (d: Disk) => d.table(StateTable.LogEntry).map(([key, v]) => `${toHex(key)}=${toHex(v)}`);
          const theirs = new Set(entriesOf(source));
          for (const e of entriesOf(disk)) expect(theirs.has(e)).to.equal(true);
          const more = logChain(760);
          let a = imported;
          for (let h = 700; h < 760; h++) {
            commit(disk, a, more.writes[h]!, h);
            commit(source, state, more.writes[h]!, h);
            expect(toHex(a.root), `root at ${h}`).to.equal(toHex(state.root));
            if (h % 20 === 0) a = disk.open({ history: 2, cacheBytes: 64 * 1024 });
          }
        }
      }
    });

    it('refuses a damaged, cut or lying snapshot of the log, and writes no state for it', async () => {
      const { state } = logChain(400);
      const file = fileOf(state, 399);
      const flipped = new Uint8Array(file);
      flipped[file.length - 100]! ^= 1;
      await refused(flipped, {}, /digest does not match|cannot be read|does not verify/);
      await refused(file.subarray(0, file.length - 10), {}, /cut short/);
      await refused(file, { stateRoot: new Uint8Array(32) }, /not the expected/);
      // Another state's log under this state's header, the digest made again: the root differs.
      const lying = fileOf(logChain(401).state, 400);
      const headerLength = 8 + 4 + new DataView(file.buffer, file.byteOffset + 8, 4).getUint32(0);
      const lyingHeader = 8 + 4 + new DataView(lying.buffer, lying.byteOffset + 8, 4).getUint32(0);
      const forged = Buffer.concat([file.subarray(0, headerLength), lying.subarray(lyingHeader, lying.length - 32)]);
      await refused(Buffer.concat([forged, sha256(forged)]), {}, /does not verify: the snapshot's entry log hashes to .* not the expected state root/);
    });

    it('the import checks each record: a value that does not hash to its entry, an active entry below the cursor, a count of positions that is off', async () => {
      const { state } = logChain(400);
      const snap = (): { head: NonNullable<ReturnType<EntryStore['snapshotAt']>>['head']; items: LogSnapshotItem[] } => {
        const s = state.log!.snapshotAt(399, (key) => state.getRaw(key))!;
        return { head: s.head, items: [...s.items] };
      };
      const attempt = async (head: ReturnType<typeof snap>['head'], items: LogSnapshotItem[]): Promise<string> => {
        const disk = new Disk();
        async function* source(): AsyncIterable<LogSnapshotItem> {
          yield* items;
        }
        try {
          await EntryStore.importSnapshot(disk, 399, head, source(), async (values, ops) => disk.write(values, ops), { expectRoot: state.root });
        } catch (e) {
          return (e as Error).message;
        }
        return 'imported';
      };
      const good = snap();
      expect(await attempt(good.head, good.items)).to.equal('imported');
      const lastActive = good.items.map((i) => i.kind).lastIndexOf('active');
      const changed = [...good.items];
      changed[lastActive] = { ...(changed[lastActive] as Extract<LogSnapshotItem, { kind: 'active' }>), value: utf8('another value') };
      expect(await attempt(good.head, changed)).to.match(/value does not hash to the entry's value hash/);
      expect(await attempt(good.head, good.items.slice(0, -1))).to.match(/ends at position/);
      expect(await attempt({ ...good.head, compactFrom: good.head.next - 1 }, good.items)).to.match(/below its compaction cursor/);
      expect(await attempt({ ...good.head, from: good.head.from + 1 }, good.items)).to.match(/head is inconsistent/);
      // Without a root to check against, the list itself is checked: an entry that links past the key after it.
      const unchecked = async (items: LogSnapshotItem[]): Promise<string> => {
        const disk = new Disk();
        async function* source(): AsyncIterable<LogSnapshotItem> {
          yield* items;
        }
        try {
          await EntryStore.importSnapshot(disk, 399, good.head, source(), async (values, ops) => disk.write(values, ops));
        } catch (e) {
          return (e as Error).message;
        }
        return 'imported';
      };
      expect(await unchecked(good.items)).to.equal('imported');
      const relinked = [...good.items];
      const first = relinked.findIndex((i) => i.kind === 'active' && i.record[0] === 0 && i.record[1] > 0);
      const rec = (relinked[first] as Extract<LogSnapshotItem, { kind: 'active' }>).record;
      const keyLength = (rec[0]! << 8) | rec[1]!;
      const skipping = new Uint8Array([...rec.subarray(0, 2 + keyLength + 32), ...utf8('acct/~')]); // a next key beyond every key
      relinked[first] = { ...(relinked[first] as Extract<LogSnapshotItem, { kind: 'active' }>), record: skipping };
      expect(await unchecked(relinked)).to.match(/links .* where the next key is|links its last key/);
      // Inactive entries said to be active: the bits differ, and so does the root.
      const firstInactive = good.items.findIndex((i) => i.kind === 'inactive');
      const flippedActive = [...good.items];
      const inactive = flippedActive[firstInactive] as Extract<LogSnapshotItem, { kind: 'inactive' }>;
      expect(firstInactive).to.be.greaterThan(-1);
      flippedActive[firstInactive] = { kind: 'hash', hash: new Uint8Array(32).fill(1) };
      expect(await attempt(good.head, flippedActive)).to.match(/pruned position|not the expected state root/);
      expect(inactive.record.length).to.be.greaterThan(32);
    });
  });
});
