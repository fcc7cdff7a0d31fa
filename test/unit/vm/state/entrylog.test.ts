import { expect } from 'chai';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { HashTag, fromKey, taggedHash, toHex, toKey, utf8 } from '../../../../chain/index.js';
import { blake3Keyed64Into, blake3KeyWords } from '../../../../chain/blake3.js';
import { stateValueHash } from '../../../../chain/stateproof.js';
import {
  ENTRY_PROOF_FORMAT,
  NodeKind,
  TWIG_ENTRIES,
  UPPER_DEPTH,
  entryNode,
  rootOfEntryPath,
  stateEntryHash,
  verifyEntryProof,
  type EntryProof,
} from '../../../../chain/stateentry.js';
import { SENTINEL_KEY, planEntries, type EntryReader, type IndexRecord, type LogEntry, type LogState } from '../../../../vm/state/entrylog.js';
import { TwigTree, type TwigStore } from '../../../../vm/state/twigs.js';
import { Prng } from '../../consensus/sim/prng.js';

const ZERO = new Uint8Array(32);
const isZero = (h: Uint8Array): boolean => h.every((b) => b === 0);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The hashing written out naively from the layout in chain/stateentry.ts, with blake3 from @noble/hashes. */
function refNode(tag: number, l: Uint8Array, r: Uint8Array): Uint8Array {
  if (isZero(l) && isZero(r)) return ZERO;
  return nobleBlake3(new Uint8Array([...l, ...r]), { key: taggedHash(tag as never) });
}

function refLevelUp(tag: number, level: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < level.length; i += 2) out.push(refNode(tag, level[i]!, level[i + 1] ?? ZERO));
  return out;
}

/** The state root of a log (entry hashes by position, and which are active), computed from nothing but the layout. */
function referenceRoot(hashes: readonly Uint8Array[], active: readonly boolean[]): Uint8Array {
  const twigs = Math.ceil(hashes.length / TWIG_ENTRIES);
  let level: Uint8Array[] = [];
  for (let t = 0; t < twigs; t++) {
    let leaves: Uint8Array[] = [];
    for (let i = 0; i < TWIG_ENTRIES; i++) leaves.push(hashes[t * TWIG_ENTRIES + i] ?? ZERO);
    while (leaves.length > 1) leaves = refLevelUp(HashTag.StateTwigNode, leaves);
    const bits = new Uint8Array(TWIG_ENTRIES / 8);
    for (let i = 0; i < TWIG_ENTRIES; i++) if (active[t * TWIG_ENTRIES + i]) bits[i >> 3]! |= 1 << (i & 7);
    let b: Uint8Array[] = [];
    for (let i = 0; i < 8; i++) b.push(bits.slice(32 * i, 32 * i + 32));
    while (b.length > 1) b = refLevelUp(HashTag.StateBitsNode, b);
    level.push(refNode(HashTag.StateTwig, leaves[0]!, b[0]!));
  }
  if (!level.length) level = [ZERO];
  for (let l = 0; l < UPPER_DEPTH; l++) level = refLevelUp(HashTag.StateUpperNode, level);
  return level[0]!;
}

class MapStore implements TwigStore {
  readonly twigs = new Map<number, Uint8Array>();
  twigNodes(twig: number): Uint8Array | undefined {
    return this.twigs.get(twig);
  }
}

const randomHash = (rng: Prng): Uint8Array => {
  const h = new Uint8Array(32);
  for (let i = 0; i < 32; i++) h[i] = rng.int(0, 255);
  h[0] = h[0]! | 1;
  return h;
};

describe('BLAKE3 keyed hash of 64 bytes', () => {
  it('agrees with @noble/hashes keyed mode', () => {
    const rng = new Prng(7);
    for (let n = 0; n < 50; n++) {
      const key = randomHash(rng);
      const data = new Uint8Array(80);
      for (let i = 0; i < data.length; i++) data[i] = rng.int(0, 255);
      const out = new Uint8Array(40);
      blake3Keyed64Into(blake3KeyWords(key), data, 8, out, 4);
      expect(hex(out.subarray(4, 36))).to.equal(hex(nobleBlake3(data.subarray(8, 72), { key })));
    }
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => blake3KeyWords(new Uint8Array(31))).to.throw(RangeError);
  });
});

describe('TwigTree (the entry log in memory) against the layout written out naively', () => {
  it('gives the reference root over many versions, across twig boundaries, and old versions stay as they were', () => {
    const rng = new Prng(21);
    const hashes: Uint8Array[] = [];
    const active: boolean[] = [];
    let tree = TwigTree.empty();
    expect(hex(tree.root)).to.equal(hex(ZERO));
    const store = new MapStore();
    const versions: { tree: TwigTree; root: string; deactivated: number[] }[] = [];
    for (let v = 0; v < 14; v++) {
      const n = v === 3 ? 2 * TWIG_ENTRIES + 5 : rng.int(0, 900);
      const appends = Array.from({ length: n }, () => randomHash(rng));
      const live = active.flatMap((a, i) => (a ? [i] : []));
      const deactivate = new Set<number>();
      for (let k = rng.int(0, Math.min(300, live.length)); k > 0; k--) deactivate.add(live[rng.int(0, live.length - 1)]!);
      const u = tree.update({ appends, deactivate });
      for (const f of u.filled) store.twigs.set(f.twig, f.nodes);
      for (const h of appends) {
        hashes.push(h);
        active.push(true);
      }
      for (const p of deactivate) active[p] = false;
      tree = u.tree;
      expect(tree.next).to.equal(hashes.length);
      expect(hex(tree.root), `version ${v}`).to.equal(hex(referenceRoot(hashes, active)));
      versions.push({ tree, root: hex(tree.root), deactivated: [...deactivate] });
      // Proofs of active positions verify; an inactive one does not.
      for (let k = 0; k < 20 && hashes.length; k++) {
        const p = rng.int(0, hashes.length - 1);
        const r = rootOfEntryPath(hashes[p]!, tree.path(p, store));
        if (active[p]) expect(hex(r!), `position ${p}`).to.equal(hex(tree.root));
        else expect(r).to.equal(undefined);
      }
    }
    for (const { tree: t, root } of versions) expect(hex(t.root)).to.equal(root);
    expect(tree.twigCount).to.be.greaterThan(2);
    // Rewound from the head with the changes since, every version gives its root and its paths again.
    for (let v = 0; v < versions.length; v++) {
      const since = versions.slice(v + 1).flatMap((x) => x.deactivated);
      const back = tree.rewind(versions[v]!.tree.next, since, store);
      expect(hex(back.root), `rewound to version ${v}`).to.equal(versions[v]!.root);
      for (let k = 0; k < 5 && back.next; k++) {
        const p = rng.int(0, back.next - 1);
        if (back.isActive(p)) expect(hex(rootOfEntryPath(hashes[p]!, back.path(p, store))!)).to.equal(versions[v]!.root);
      }
    }
    expect(() => tree.rewind(tree.next + 1, [], store)).to.throw(RangeError);
  });

  it('restores from its twig records and youngest twig to the same root, and refuses records that do not fit', () => {
    const rng = new Prng(5);
    let tree = TwigTree.empty();
    const appends = Array.from({ length: TWIG_ENTRIES + 300 }, () => randomHash(rng));
    tree = tree.update({ appends, deactivate: [] }).tree;
    tree = tree.update({ appends: [randomHash(rng)], deactivate: [1, 7, TWIG_ENTRIES + 2] }).tree;
    const records = Array.from({ length: tree.twigCount }, (_, t) => tree.twigRecord(t));
    const back = TwigTree.restore(tree.next, records, tree.tailLeaves());
    expect(hex(back.root)).to.equal(hex(tree.root));
    expect(back.isActive(7)).to.equal(false);
    expect(back.isActive(8)).to.equal(true);
    expect(() => TwigTree.restore(tree.next, records.slice(1), tree.tailLeaves())).to.throw(RangeError);
    expect(() => TwigTree.restore(tree.next, records, tree.tailLeaves().slice(1))).to.throw(RangeError);
    const leaves = tree.tailLeaves();
    leaves[0] = randomHash(rng);
    expect(() => TwigTree.restore(tree.next, records, leaves)).to.throw(RangeError, /do not hash/);
  });

  it('refuses to deactivate a position twice, or one never written, or to append a zero hash', () => {
    const t = TwigTree.empty().update({ appends: [randomHash(new Prng(1))], deactivate: [] }).tree;
    expect(() => t.update({ appends: [], deactivate: [1] })).to.throw(RangeError);
    const t2 = t.update({ appends: [], deactivate: [0] }).tree;
    expect(() => t2.update({ appends: [], deactivate: [0] })).to.throw(RangeError, /not active/);
    expect(() => t.update({ appends: [ZERO], deactivate: [] })).to.throw(RangeError);
    // The failed updates changed nothing.
    expect(t.isActive(0)).to.equal(true);
  });
});

/**
 * A state over the entry log, in memory: the key index as a sorted map, the log as an array. What
 * the stored state will do with LevelDB, kept naive so the planner and the trees can be checked
 * against a plain map of keys to values.
 */
class MemoryLog implements EntryReader {
  readonly entries: LogEntry[] = [];
  readonly index = new Map<string, IndexRecord>();
  tree = TwigTree.empty();
  readonly store = new MapStore();
  state: LogState = { next: 0, compactFrom: 0, active: 0 };

  constructor() {
    const sentinel: LogEntry = { key: SENTINEL_KEY, valueHash: stateValueHash(new Uint8Array(0)), next: SENTINEL_KEY };
    this.commitPlan({ appends: [sentinel], deactivate: [], index: new Map([[SENTINEL_KEY, { position: 0, valueHash: sentinel.valueHash, next: SENTINEL_KEY }]]), state: { next: 1, compactFrom: 0, active: 1 } });
  }

  record(key: string): IndexRecord | undefined {
    return this.index.get(key);
  }

  below(key: string): readonly [string, IndexRecord] {
    let best = SENTINEL_KEY;
    for (const k of this.index.keys()) if (k < key && k > best) best = k;
    return [best, this.index.get(best)!];
  }

  entryAt(position: number): LogEntry {
    return this.entries[position]!;
  }

  isActive(position: number): boolean {
    return this.tree.isActive(position);
  }

  write(writes: Map<string, Uint8Array | null>): ReturnType<typeof planEntries> {
    const hashed = new Map([...writes].map(([k, v]) => [k, v === null ? null : stateValueHash(v)] as const));
    const plan = planEntries(this, this.state, hashed);
    this.commitPlan(plan);
    return plan;
  }

  private commitPlan(plan: Pick<ReturnType<typeof planEntries>, 'appends' | 'deactivate' | 'index' | 'state'>): void {
    const u = this.tree.update({
      appends: plan.appends.map((e) => stateEntryHash({ key: fromKey(e.key), valueHash: e.valueHash, next: fromKey(e.next) })),
      deactivate: plan.deactivate,
    });
    for (const f of u.filled) this.store.twigs.set(f.twig, f.nodes);
    this.tree = u.tree;
    this.entries.push(...plan.appends);
    for (const [k, r] of plan.index) {
      if (r === null) this.index.delete(k);
      else this.index.set(k, r);
    }
    this.state = plan.state;
  }

  prove(key: string): EntryProof {
    const r = this.index.get(key) ?? this.below(key)[1];
    const e = this.entries[r.position]!;
    return { entry: { key: fromKey(e.key), valueHash: e.valueHash, next: fromKey(e.next) }, ...this.tree.path(r.position, this.store) };
  }
}

describe('the entry log (planner, trees and proofs) against a plain map', () => {
  it('keeps a sorted list of the keys, proves every key present and absent, over many blocks with compaction', function () {
    this.timeout(120_000);
    const rng = new Prng(99);
    const log = new MemoryLog();
    const model = new Map<string, Uint8Array>();
    const keySpace = Array.from({ length: 600 }, (_, i) => toKey(utf8(`k/${(i * 7919) % 600}`)));
    let moved = 0;
    const roots: { root: Uint8Array; tree: TwigTree; model: Map<string, Uint8Array> }[] = [];
    for (let block = 0; block < 160; block++) {
      const writes = new Map<string, Uint8Array | null>();
      for (let n = rng.int(1, block < 5 ? 300 : 60); n > 0; n--) {
        const k = keySpace[rng.int(0, keySpace.length - 1)]!;
        const r = rng.next();
        writes.set(k, r < 0.25 ? null : r < 0.3 && model.has(k) ? model.get(k)! : utf8(`v${block}.${n}`));
      }
      const plan = log.write(writes);
      moved += plan.moved;
      for (const [k, v] of writes) {
        if (v === null) model.delete(k);
        else model.set(k, v);
      }
      // The list: the active entries, followed from the sentinel, are the model's keys in order.
      const listed: string[] = [];
      for (let k = log.index.get(SENTINEL_KEY)!.next; k !== SENTINEL_KEY; k = log.index.get(k)!.next) listed.push(k);
      expect(listed).to.deep.equal([...model.keys()].sort());
      expect(log.state.active).to.equal(model.size + 1);
      // Every index record points at an active entry that says the same.
      for (const [k, r] of log.index) {
        expect(log.tree.isActive(r.position)).to.equal(true);
        expect(log.entries[r.position]!.key).to.equal(k);
      }
      // The root is the layout's, from the whole log.
      const hashes = log.entries.map((e) => stateEntryHash({ key: fromKey(e.key), valueHash: e.valueHash, next: fromKey(e.next) }));
      const active = hashes.map((_, p) => log.tree.isActive(p));
      expect(active.filter(Boolean).length).to.equal(model.size + 1);
      if (block % 40 === 39) expect(hex(log.tree.root)).to.equal(hex(referenceRoot(hashes, active)));
      // Proofs: present keys hold their values, absent ones are absent; neither passes for the other.
      const root = log.tree.root;
      for (let n = 0; n < 25; n++) {
        const k = keySpace[rng.int(0, keySpace.length - 1)]!;
        const key = fromKey(k);
        const proof = log.prove(k);
        const v = model.get(k);
        expect(verifyEntryProof(root, key, v, proof), `block ${block} key ${k}`).to.equal(true);
        expect(verifyEntryProof(root, key, v === undefined ? utf8('x') : undefined, proof)).to.equal(false);
        if (v !== undefined) expect(verifyEntryProof(root, key, utf8('not it'), proof)).to.equal(false);
      }
      // A key beyond every other, and one below every other.
      expect(verifyEntryProof(root, utf8('z'), undefined, log.prove(toKey(utf8('z'))))).to.equal(true);
      expect(verifyEntryProof(root, utf8('a'), undefined, log.prove(toKey(utf8('a'))))).to.equal(true);
      roots.push({ root, tree: log.tree, model: new Map(model) });
      // Compaction keeps the live span within twice the active entries and a twig.
      expect(log.state.next - log.state.compactFrom).to.be.at.most(2 * log.state.active + TWIG_ENTRIES + 2 * 300 + 64);
      for (let p = 0; p < log.state.compactFrom; p++) expect(log.tree.isActive(p), `position ${p} behind compaction`).to.equal(false);
    }
    expect(moved, 'compaction moved entries').to.be.greaterThan(0);
    expect(log.state.compactFrom, "a whole twig compacted away").to.be.greaterThan(TWIG_ENTRIES);
    // Older trees still give their roots (they are never changed).
    for (const r of roots) expect(hex(r.tree.root)).to.equal(hex(r.root));
  });

  it('changes nothing for a write of the value a key already holds, or a delete of an absent key', () => {
    const log = new MemoryLog();
    log.write(new Map([[toKey(utf8('a')), utf8('1')]]));
    const root = toHex(log.tree.root);
    const plan = log.write(new Map<string, Uint8Array | null>([[toKey(utf8('a')), utf8('1')], [toKey(utf8('b')), null]]));
    expect(plan.appends).to.have.length(0);
    expect(toHex(log.tree.root)).to.equal(root);
  });

  it('refuses a write to the sentinel key', () => {
    const log = new MemoryLog();
    expect(() => log.write(new Map([[SENTINEL_KEY, utf8('x')]]))).to.throw(RangeError, /sentinel/);
  });
});

describe('verifyEntryProof on malformed proofs', () => {
  const log = new MemoryLog();
  log.write(new Map([[toKey(utf8('a')), utf8('1')], [toKey(utf8('c')), utf8('3')]]));
  const root = log.tree.root;
  const good = log.prove(toKey(utf8('a')));

  it('is false, never a throw, for anything malformed', () => {
    expect(verifyEntryProof(root, utf8('a'), utf8('1'), good)).to.equal(true);
    const bad: unknown[] = [
      null,
      {},
      { ...good, twigPath: good.twigPath.slice(1) },
      { ...good, upperPath: [...good.upperPath, ZERO] },
      { ...good, bitsLeaf: new Uint8Array(31) },
      { ...good, position: -1 },
      { ...good, position: 1.5 },
      { ...good, position: good.position + 1 },
      { ...good, entry: { ...good.entry, next: 'x' } },
      { ...good, entry: null },
      { ...good, bitsPath: [ZERO, ZERO, 'x'] },
    ];
    for (const p of bad) expect(verifyEntryProof(root, utf8('a'), utf8('1'), p as EntryProof)).to.equal(false);
    expect(verifyEntryProof(new Uint8Array(31), utf8('a'), utf8('1'), good)).to.equal(false);
    expect(verifyEntryProof(root, new Uint8Array(0), undefined, good)).to.equal(false);
  });

  it("a proof with the entry's bit cleared does not verify", () => {
    const leaf = good.bitsLeaf.slice();
    leaf[(good.position % 256) >> 3]! &= ~(1 << (good.position % 8));
    expect(verifyEntryProof(root, utf8('a'), utf8('1'), { ...good, bitsLeaf: leaf })).to.equal(false);
  });

  it('an absent key cannot be proven with the predecessor of another gap', () => {
    // 'b' lies between 'a' and 'c'; the proof of 'a' (next 'c') proves 'b' absent, but not 'd'.
    expect(verifyEntryProof(root, utf8('b'), undefined, good)).to.equal(true);
    expect(verifyEntryProof(root, utf8('d'), undefined, good)).to.equal(false);
  });

  it('node kinds hash apart, and the format is versioned', () => {
    const a = new Uint8Array(32).fill(1);
    const kinds = [NodeKind.Twig, NodeKind.Bits, NodeKind.TwigRoot, NodeKind.Upper].map((k) => hex(entryNode(k, a, a)));
    expect(new Set(kinds).size).to.equal(4);
    expect(hex(entryNode(NodeKind.Upper, ZERO, ZERO))).to.equal(hex(ZERO));
    expect(ENTRY_PROOF_FORMAT).to.equal(2);
  });
});
