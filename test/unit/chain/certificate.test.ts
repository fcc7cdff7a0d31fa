import { expect } from 'chai';
import {
  blsAggregateSignatures,
  ChainErrorCode,
  CommitCertificate,
  commitVoteMessage,
  decodeCertificate,
  rlpDecode,
  rlpEncode,
  uintBytes,
  utf8,
  type RlpItem,
} from '../../../chain/index.js';
import {
  certificateFixture,
  CHAIN_ID,
  commitVote,
  encodedFields,
  expectChainError,
  filled,
  HEADER_HEIGHT,
  headerFixture,
  hex,
  prefixedString,
  rawList,
  unhex,
  validatorFixture,
  equalPowerFixture,
} from './fixtures.js';

const BLOCK_HASH = 'dccfb24806f2aa25b74d28f039e0f9481cda4a1b86acd3ff6a2260d0d34f4ed3';
const VOTE_MESSAGE = 'aa8d0d6a41e9af76b0beef60f291a0e821ded22895809ed5cade47d348e11ba8';
const CERT_HEX =
  'f8862a80a0dccfb24806f2aa25b74d28f039e0f9481cda4a1b86acd3ff6a2260d0d34f4ed307b860892f860bbd07ac30f585c1ee069a14dbaf859c2f8db76f6eda13a7eb1740e4e64e77bef07149a4ecddb10c55e2939e9a0212464c00b3c5a341c67fcab53adcf02e75a66dab0ebdffc9056139f09aaaaa5ffd5e702707847561833ceda7ab6ab4';

function certItems(): RlpItem[] {
  return rlpDecode(unhex(CERT_HEX), 'cert') as RlpItem[];
}

function withField(i: number, encoded: Uint8Array): Uint8Array {
  const enc = encodedFields(certItems() as Uint8Array[]);
  enc[i] = encoded;
  return rawList(enc);
}

describe('chain/certificate', () => {
  const blockHash = unhex(BLOCK_HASH);
  const { set, keys } = validatorFixture();
  const equal = equalPowerFixture();

  describe('golden vector', () => {
    it('the fixture header hashes to the certified block hash', () => {
      expect(hex(headerFixture().hash())).to.equal(BLOCK_HASH);
    });

    it('freezes the COMMIT vote message', () => {
      expect(hex(commitVoteMessage(CHAIN_ID, HEADER_HEIGHT, 0, blockHash))).to.equal(VOTE_MESSAGE);
      expect(hex(commitVoteMessage(CHAIN_ID, HEADER_HEIGHT, 1, blockHash))).to.not.equal(VOTE_MESSAGE);
      expect(hex(commitVoteMessage('other', HEADER_HEIGHT, 0, blockHash))).to.not.equal(VOTE_MESSAGE);
    });

    it('freezes the serialization of a 3-of-4 certificate (signers bitmap 0x07)', () => {
      const cert = certificateFixture(blockHash);
      expect(hex(cert.signers)).to.equal('07');
      expect(cert.signerIndices()).to.deep.equal([0, 1, 2]);
      expect(hex(cert.serialize())).to.equal(CERT_HEX);
    });

    it('round-trips', () => {
      const cert = decodeCertificate(unhex(CERT_HEX));
      expect(cert.height).to.equal(HEADER_HEIGHT);
      expect(cert.round).to.equal(0);
      expect(hex(cert.blockHash)).to.equal(BLOCK_HASH);
      expect(hex(cert.serialize())).to.equal(CERT_HEX);
      expect(() => cert.verify(CHAIN_ID, equal, HEADER_HEIGHT, blockHash)).to.not.throw();
    });

    it('the aggregate does not depend on the order of the votes', () => {
      const votes = [2, 0, 1].map((i) => commitVote(keys, i, HEADER_HEIGHT, 0, blockHash));
      const cert = CommitCertificate.aggregate(HEADER_HEIGHT, 0, blockHash, set.size, votes);
      expect(hex(cert.serialize())).to.equal(CERT_HEX);
    });
  });

  describe('verify', () => {
    const verify = (cert: CommitCertificate, height = HEADER_HEIGHT, hash = blockHash): void => cert.verify(CHAIN_ID, equal, height, hash);
    const rejects = (cert: CommitCertificate, message: RegExp, height = HEADER_HEIGHT, hash = blockHash): void => {
      expectChainError(() => verify(cert, height, hash), ChainErrorCode.InvalidCertificate, message);
    };

    it('4 validators of power 1, quorum 3', () => {
      expect(equal.size).to.equal(4);
      expect(equal.quorumPower).to.equal(3n);
    });

    it('counts the signers\' power: with powers 10, 30, 20, 40 the three holding 60 of 100 fail; signers with 67 or more verify, even two of four', () => {
      expect(set.validators.map((v) => v.power)).to.deep.equal([10n, 30n, 20n, 40n]);
      expectChainError(() => certificateFixture(blockHash, [0, 1, 2]).verify(CHAIN_ID, set, HEADER_HEIGHT, blockHash), ChainErrorCode.InvalidCertificate, /has 3 signers with power 60, quorum is 67 of 100/);
      for (const signers of [[0, 1, 3], [0, 2, 3], [1, 2, 3], [0, 1, 2, 3]]) {
        expect(() => certificateFixture(blockHash, signers).verify(CHAIN_ID, set, HEADER_HEIGHT, blockHash), signers.join(',')).to.not.throw();
      }
      // Two validators holding 70 of 100 are a quorum by themselves.
      expect(() => certificateFixture(blockHash, [1, 3]).verify(CHAIN_ID, set, HEADER_HEIGHT, blockHash)).to.not.throw();
    });

    it('3 signers verify, whichever 3; so do all 4', () => {
      for (const signers of [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3], [0, 1, 2, 3]]) {
        expect(() => verify(certificateFixture(blockHash, signers)), signers.join(',')).to.not.throw();
      }
    });

    it('2 signers (below quorum) fail', () => {
      rejects(certificateFixture(blockHash, [0, 1]), /has 2 signers with power 2, quorum is 3 of 4/);
      rejects(certificateFixture(blockHash, [3]), /has 1 signers/);
      const good = certificateFixture(blockHash);
      rejects(new CommitCertificate({ ...good, signers: Uint8Array.of(0) }), /has 0 signers/);
    });

    it('a wrong block hash fails', () => {
      rejects(certificateFixture(blockHash), /another block/, HEADER_HEIGHT, filled(0x99));
    });

    it('a wrong height fails', () => {
      rejects(certificateFixture(blockHash), /is for height 42/, HEADER_HEIGHT + 1);
      // A certificate that claims the right height but whose votes were for another height.
      const votedAt43 = certificateFixture(blockHash, [0, 1, 2], HEADER_HEIGHT + 1);
      rejects(votedAt43, /is for height 43/);
      rejects(new CommitCertificate({ ...votedAt43, height: HEADER_HEIGHT }), /does not verify/);
    });

    it('a wrong chain id fails', () => {
      expectChainError(() => certificateFixture(blockHash).verify('other-chain', equal, HEADER_HEIGHT, blockHash), ChainErrorCode.InvalidCertificate, /does not verify/);
    });

    it('signatures over a different message fail', () => {
      const other = filled(0x77);
      const votes = [0, 1, 2].map((i) => commitVote(keys, i, HEADER_HEIGHT, 0, other));
      rejects(new CommitCertificate({ height: HEADER_HEIGHT, round: 0, blockHash, signers: Uint8Array.of(0x07), signature: blsAggregateSignatures(votes.map((v) => v.signature)) }), /does not verify/);
      // Votes from round 0 relabelled as round 1.
      const good = certificateFixture(blockHash);
      rejects(new CommitCertificate({ ...good, round: 1 }), /does not verify/);
      // One of the three signed something else.
      const mixed = [commitVote(keys, 0, HEADER_HEIGHT, 0, blockHash), commitVote(keys, 1, HEADER_HEIGHT, 0, blockHash), { index: 2, signature: keys[2]!.bls.sign(utf8('hello')) }];
      rejects(CommitCertificate.aggregate(HEADER_HEIGHT, 0, blockHash, set.size, mixed), /does not verify/);
    });

    it('a bitmap that names a signer whose signature is not in the aggregate fails', () => {
      const good = certificateFixture(blockHash);
      rejects(new CommitCertificate({ ...good, signers: Uint8Array.of(0x0f) }), /does not verify/);
      rejects(new CommitCertificate({ ...good, signers: Uint8Array.of(0x0b) }), /does not verify/);
    });

    it('bitmap bits outside the set fail', () => {
      const good = certificateFixture(blockHash);
      for (let bit = 4; bit < 8; bit++) {
        rejects(new CommitCertificate({ ...good, signers: Uint8Array.of(0x07 | (1 << bit)) }), /outside the set/);
      }
    });

    it('a bitmap of the wrong length fails', () => {
      const good = certificateFixture(blockHash);
      rejects(new CommitCertificate({ ...good, signers: Uint8Array.of(0x07, 0x00) }), /wrong length/);
      rejects(new CommitCertificate({ ...good, signers: new Uint8Array(0) }), /wrong length/);
    });

    it('a garbage aggregate signature fails', () => {
      const good = certificateFixture(blockHash);
      rejects(new CommitCertificate({ ...good, signature: new Uint8Array(96) }), /does not verify/);
      rejects(new CommitCertificate({ ...good, signature: filled(0xff, 96) }), /does not verify/);
    });
  });

  describe('strict decoding', () => {
    it('trailing bytes', () => {
      expectChainError(() => decodeCertificate(Uint8Array.of(...unhex(CERT_HEX), 0x00)), ChainErrorCode.InvalidRlp);
    });

    it('non-canonical RLP: signers 0x07 wrapped as 0x8107, height with a leading zero byte', () => {
      expectChainError(() => decodeCertificate(withField(3, prefixedString(Uint8Array.of(0x07)))), ChainErrorCode.NonCanonical);
      expectChainError(() => decodeCertificate(withField(0, rlpEncode(unhex('002a')))), ChainErrorCode.NonCanonical, /height/);
    });

    it('wrong field count', () => {
      expectChainError(() => decodeCertificate(rlpEncode(certItems().slice(0, 4))), ChainErrorCode.FieldCount, /expected 5 fields, got 4/);
    });

    it('wrong field lengths: block hash 31 bytes, signature 95 bytes', () => {
      expectChainError(() => decodeCertificate(withField(2, rlpEncode(filled(1, 31)))), ChainErrorCode.FieldLength, /blockHash/);
      expectChainError(() => decodeCertificate(withField(4, rlpEncode(filled(1, 95)))), ChainErrorCode.FieldLength, /signature/);
    });

    it('a height or round above 2^53-1', () => {
      expectChainError(() => decodeCertificate(withField(0, rlpEncode(uintBytes(2n ** 53n)))), ChainErrorCode.FieldValue);
      expectChainError(() => decodeCertificate(withField(1, rlpEncode(uintBytes(2n ** 60n)))), ChainErrorCode.FieldValue);
    });

    it('construction refuses wrong lengths', () => {
      const good = certificateFixture(blockHash);
      expectChainError(() => new CommitCertificate({ ...good, blockHash: filled(0, 31) }), ChainErrorCode.FieldLength);
      expectChainError(() => new CommitCertificate({ ...good, signature: filled(0, 95) }), ChainErrorCode.FieldLength);
    });
  });
});
