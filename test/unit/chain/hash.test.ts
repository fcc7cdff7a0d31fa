import { expect } from 'chai';
import { blake3 } from '@noble/hashes/blake3.js';
import { HASH_LENGTH, HashTag, taggedHash, taggedHashInto, utf8 } from '../../../chain/index.js';

const concat = (tag: number, data: Uint8Array) => {
  const out = new Uint8Array(1 + data.length);
  out[0] = tag;
  out.set(data, 1);
  return out;
};
import { hex } from './fixtures.js';

describe('chain/hash', () => {
  it('BLAKE3 matches the official test vector for the empty input', () => {
    // BLAKE3 test_vectors.json, input_len 0 (first 32 bytes of the extended output).
    expect(hex(blake3(new Uint8Array(0)))).to.equal('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
  });

  it('BLAKE3 matches the official test vector for the one-byte input 0x00', () => {
    // BLAKE3 test_vectors.json, input_len 1 (the input is the byte pattern i % 251).
    expect(hex(blake3(Uint8Array.of(0)))).to.equal('2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213');
  });

  it('taggedHash is BLAKE3 over the tag byte followed by the parts', () => {
    const a = utf8('left');
    const b = utf8('right');
    const expected = blake3(Uint8Array.of(HashTag.Transaction, ...a, ...b));
    expect(hex(taggedHash(HashTag.Transaction, a, b))).to.equal(hex(expected));
    expect(taggedHash(HashTag.Transaction, a, b)).to.have.length(HASH_LENGTH);
  });

  it('taggedHash is right the first time its scratch buffer must grow (it once hashed the old, smaller buffer)', () => {
    // Sizes no other test reaches, so that each call here grows the module's scratch buffer.
    for (const size of [5 * 1024 * 1024 + 1, 11 * 1024 * 1024 + 2]) {
      const data = new Uint8Array(size).map((_, i) => (i * 31) % 251);
      const expected = hex(blake3(concat(HashTag.Transaction, data)));
      if (size % 2) expect(hex(taggedHash(HashTag.Transaction, data))).to.equal(expected);
      else {
        const out = new Uint8Array(32);
        taggedHashInto(out, 0, HashTag.Transaction, data);
        expect(hex(out)).to.equal(expected);
      }
    }
  });

  it('the empty Merkle root is the tagged hash of nothing under MerkleEmpty', () => {
    expect(hex(taggedHash(HashTag.MerkleEmpty))).to.equal(hex(blake3(Uint8Array.of(0x12))));
  });

  it('different tags give different hashes of the same data', () => {
    const seen = new Set(Object.values(HashTag).map((t) => hex(taggedHash(t, utf8('x')))));
    expect(seen.size).to.equal(Object.values(HashTag).length);
  });

  it('freezes the tag table: ids are unique and never renumbered', () => {
    expect({ ...HashTag }).to.deep.equal({
      Transaction: 0x01,
      TxSigning: 0x02,
      BlockHeader: 0x03,
      Receipt: 0x04,
      ValidatorSet: 0x05,
      CommitVote: 0x06,
      Address: 0x07,
      BlsPossession: 0x08,
      ModuleAccount: 0x09,
      MerkleLeaf: 0x10,
      MerkleNode: 0x11,
      MerkleEmpty: 0x12,
      StateKey: 0x20,
      StateValue: 0x21,
      StateLeaf: 0x22,
      StateNode: 0x23,
      StateEntry: 0x24,
      StateTwigNode: 0x25,
      StateBitsNode: 0x26,
      StateTwig: 0x27,
      StateUpperNode: 0x28,
      ConsensusMessage: 0x30,
      AuditRecord: 0x40,
      DocklockProgram: 0x50,
      DocklockInstrumented: 0x51,
      DocklockInput: 0x52,
      DocklockOutput: 0x53,
      DocklockWitness: 0x54,
      DocklockRandom: 0x55,
      DocklockReceipt: 0x56,
      DocklockJob: 0x57,
      EncPlacement: 0x60,
    });
    const ids = Object.values(HashTag);
    expect(new Set(ids).size).to.equal(ids.length);
  });
});
