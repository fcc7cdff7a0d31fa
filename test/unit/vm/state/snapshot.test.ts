import { expect } from 'chai';
import { fromKey, toHex, toKey, utf8, verifyStateProof } from '../../../../chain/index.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { SnapshotError, exportSnapshot, importSnapshot } from '../../../../vm/state/snapshot.js';
import type { DiskTree } from '../../../../vm/state/disktree.js';
import { StateTable } from '../../../../vm/state/storage.js';
import { StoredState } from '../../../../vm/state/stored.js';
import { Disk, commit } from './disk.js';

const k = (s: string): string => toKey(utf8(s));

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
    const refused = async (bytes: Uint8Array, expect_: Parameters<typeof importSnapshot>[2], pattern: RegExp): Promise<void> => {
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
    };
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
});
