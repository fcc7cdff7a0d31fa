import { expect } from 'chai';
import { Block, BlockHeader, ChainErrorCode, decodeBlock, rlpDecode, rlpEncode, Transaction, txRoot, type RlpItem } from '../../../chain/index.js';
import { blockFixture, CHAIN_ID, edKey, encodedFields, expectChainError, headerFixture, hex, rawList, txFixture, unhex, equalPowerFixture } from './fixtures.js';

const HEADER_HEX =
  'f90116028f6d6574616e6f64652d676f6c64656e2aa0111111111111111111111111111111111111111111111111111111111111111186018bcfe568009414db125626bc4b01a0944f8213551b352a9645daa09659be6a8669733fe80bcc62aa1afb7ce10017014ff300a32b5c69988fb7af8da0947f1fdbfd7d14cbd729af53a1b7fe664849c8990be30d587fb8581d7804c8f8a02222222222222222222222222222222222222222222222222222222222222222a03333333333333333333333333333333333333333333333333333333333333333a0f2218be0461d18fd2a47318319b25821c042b8b6d896249ef8757d9f0d6e0ce0a0f2218be0461d18fd2a47318319b25821c042b8b6d896249ef8757d9f0d6e0ce0c0';
const TX_HEX =
  'f8a38f6d6574616e6f64652d676f6c64656e07a08a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c8203e88d62616e6b2e7472616e736665729ddc948de795561e1d0e53c41f8816525038c55d720163834e4558821388b84004b22b32e586fada978bbbe09b3b94de33632b4e9dd3e14a1cd76303f306ba45802c99b57581c6b7c648c315e17edf147bf339f0b51a30988402b92697816101';
const CERT_HEX =
  'f8862a80a0dccfb24806f2aa25b74d28f039e0f9481cda4a1b86acd3ff6a2260d0d34f4ed307b860892f860bbd07ac30f585c1ee069a14dbaf859c2f8db76f6eda13a7eb1740e4e64e77bef07149a4ecddb10c55e2939e9a0212464c00b3c5a341c67fcab53adcf02e75a66dab0ebdffc9056139f09aaaaa5ffd5e702707847561833ceda7ab6ab4';
/** [header, [tx as a byte string], []] */
const BLOCK_HEX = 'f901c3' + HEADER_HEX + 'f8a7b8a5' + TX_HEX + 'c0';
/** [header, [tx as a byte string], certificate] */
const BLOCK_WITH_CERT_HEX = 'f9024a' + HEADER_HEX + 'f8a7b8a5' + TX_HEX + CERT_HEX;
const BLOCK_HASH = 'dccfb24806f2aa25b74d28f039e0f9481cda4a1b86acd3ff6a2260d0d34f4ed3';
const TX_ROOT = '9659be6a8669733fe80bcc62aa1afb7ce10017014ff300a32b5c69988fb7af8d';

function blockItems(h: string): RlpItem[] {
  return rlpDecode(unhex(h), 'block') as RlpItem[];
}

describe('chain/block', () => {
  describe('golden vectors', () => {
    it('freezes a block without a certificate', () => {
      const b = blockFixture(false);
      expect(hex(b.serialize())).to.equal(BLOCK_HEX);
      expect(hex(b.hash())).to.equal(BLOCK_HASH);
      expect(b.certificate).to.equal(undefined);
    });

    it('freezes a block with a certificate; the block hash is the header hash either way', () => {
      const b = blockFixture(true);
      expect(hex(b.serialize())).to.equal(BLOCK_WITH_CERT_HEX);
      expect(hex(b.hash())).to.equal(BLOCK_HASH);
      expect(hex(b.hash())).to.equal(hex(headerFixture().hash()));
    });

    it('freezes the tx root (Merkle root of the tx hashes)', () => {
      expect(hex(txRoot([txFixture()]))).to.equal(TX_ROOT);
      expect(hex(headerFixture().txRoot)).to.equal(TX_ROOT);
    });

    it('round-trips without a certificate', () => {
      const b = decodeBlock(unhex(BLOCK_HEX));
      expect(b.height).to.equal(42);
      expect(b.certificate).to.equal(undefined);
      expect(b.transactions.map((t) => hex(t.serialize()))).to.deep.equal([TX_HEX]);
      expect(hex(b.serialize())).to.equal(BLOCK_HEX);
      expect(hex(b.hash())).to.equal(BLOCK_HASH);
    });

    it('round-trips with a certificate, which still verifies', () => {
      const b = decodeBlock(unhex(BLOCK_WITH_CERT_HEX));
      expect(hex(b.certificate!.serialize())).to.equal(CERT_HEX);
      expect(hex(b.serialize())).to.equal(BLOCK_WITH_CERT_HEX);
      expect(hex(b.hash())).to.equal(BLOCK_HASH);
      expect(() => b.certificate!.verify(CHAIN_ID, equalPowerFixture(), b.height, b.hash())).to.not.throw(); // (signed by 0, 1, 2: a quorum of count, not of the fixture's powers)
    });

    it('withCertificate does not change the block it is called on', () => {
      const b = blockFixture(false);
      const c = b.withCertificate(blockFixture(true).certificate!);
      expect(b.certificate).to.equal(undefined);
      expect(hex(c.serialize())).to.equal(BLOCK_WITH_CERT_HEX);
    });
  });

  describe('strict decoding', () => {
    it('trailing bytes', () => {
      expectChainError(() => decodeBlock(unhex(BLOCK_HEX + '00')), ChainErrorCode.InvalidRlp);
      expectChainError(() => decodeBlock(unhex(BLOCK_WITH_CERT_HEX + 'c0')), ChainErrorCode.InvalidRlp);
    });

    it('trailing bytes inside a transaction byte string', () => {
      const items = blockItems(BLOCK_HEX);
      items[1] = [unhex(TX_HEX + '00')];
      expectChainError(() => decodeBlock(rlpEncode(items)), ChainErrorCode.InvalidRlp, /transaction/);
    });

    it('non-canonical RLP inside the header, a transaction and the certificate', () => {
      const items = blockItems(BLOCK_WITH_CERT_HEX);
      const enc = encodedFields(items as Uint8Array[]);
      // The header's version (1) wrapped as 0x8101.
      const header = encodedFields(items[0] as Uint8Array[]);
      header[0] = unhex('8101');
      expectChainError(() => decodeBlock(rawList([rawList(header), enc[1]!, enc[2]!])), ChainErrorCode.NonCanonical);
      // The certificate's round (0) written as 0x00 (an integer with a leading zero byte).
      const cert = encodedFields(items[2] as Uint8Array[]);
      cert[1] = unhex('00');
      expectChainError(() => decodeBlock(rawList([enc[0]!, enc[1]!, rawList(cert)])), ChainErrorCode.NonCanonical, /round/);
      // The tx's nonce (7) wrapped as 0x8107, inside the tx byte string.
      const tx = encodedFields(rlpDecode(unhex(TX_HEX), 'tx') as Uint8Array[]);
      tx[1] = unhex('8107');
      expectChainError(() => decodeBlock(rlpEncode([items[0]!, [rawList(tx)], items[2]!])), ChainErrorCode.NonCanonical);
    });

    it('wrong field count: block, header, certificate', () => {
      const items = blockItems(BLOCK_WITH_CERT_HEX);
      expectChainError(() => decodeBlock(rlpEncode(items.slice(0, 2))), ChainErrorCode.FieldCount, /block: expected 3/);
      expectChainError(() => decodeBlock(rlpEncode([...items, []])), ChainErrorCode.FieldCount);
      expectChainError(() => decodeBlock(rlpEncode([(items[0] as RlpItem[]).slice(1), items[1]!, items[2]!])), ChainErrorCode.FieldCount, /header/);
      expectChainError(() => decodeBlock(rlpEncode([items[0]!, items[1]!, (items[2] as RlpItem[]).slice(1)])), ChainErrorCode.FieldCount, /certificate/);
    });

    it('wrong shapes: transactions not a list, a transaction that is a list, certificate as a byte string', () => {
      const items = blockItems(BLOCK_HEX);
      expectChainError(() => decodeBlock(rlpEncode([items[0]!, unhex(TX_HEX), []])), ChainErrorCode.InvalidRlp, /transactions/);
      expectChainError(() => decodeBlock(rlpEncode([items[0]!, [rlpDecode(unhex(TX_HEX), 'tx')], []])), ChainErrorCode.InvalidRlp, /transactions\[0\]/);
      expectChainError(() => decodeBlock(rlpEncode([items[0]!, items[1]!, new Uint8Array(0)])), ChainErrorCode.InvalidRlp, /certificate/);
    });

    it('transactions that do not match header.txRoot', () => {
      const items = blockItems(BLOCK_HEX);
      expectChainError(() => decodeBlock(rlpEncode([items[0]!, [], []])), ChainErrorCode.FieldValue, /txRoot/);
      const key = edKey(2);
      const other = Transaction.sign({ chainId: CHAIN_ID, nonce: 0n, sender: key.publicKey, fee: 1n, kind: 'bank.transfer', payload: new Uint8Array(0) }, key);
      expectChainError(() => decodeBlock(rlpEncode([items[0]!, [other.serialize()], []])), ChainErrorCode.FieldValue, /txRoot/);
      expectChainError(() => decodeBlock(rlpEncode([items[0]!, [unhex(TX_HEX), unhex(TX_HEX)], []])), ChainErrorCode.FieldValue, /txRoot/);
    });

    it('an empty block round-trips with the empty Merkle root', () => {
      const h = headerFixture();
      const empty = new Block(new BlockHeader({ ...h, txRoot: txRoot([]) }), []);
      const back = decodeBlock(empty.serialize());
      expect(back.transactions).to.have.length(0);
      expect(hex(back.serialize())).to.equal(hex(empty.serialize()));
    });
  });
});
