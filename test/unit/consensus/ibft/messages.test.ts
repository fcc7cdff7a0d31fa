/**
 * Consensus message encodings: round trips, golden vectors, what the signature covers (every
 * field, the type, the chain id, the sender), and strict decoding of malformed envelopes.
 */
import { expect } from 'chai';
import {
  Block,
  BlockHeader,
  ChainError,
  ChainErrorCode,
  HEADER_VERSION,
  ValidatorSet,
  commitVoteMessage,
  rlpDecode,
  rlpEncode,
  toHex,
  txRoot,
  uintBytes,
  type RlpInput,
  type RlpItem,
} from '../../../../chain/index.js';
import {
  MAX_JUSTIFICATION,
  MsgType,
  SignedMessage,
  decodeEnvelope,
  encodeEnvelope,
  signedMessageFromRlp,
  type Envelope,
  type MessageBody,
} from '../../../../consensus/ibft/index.js';
import type { ValidatorKey } from '../../../../consensus/keys.js';
import { simValidatorKey } from '../sim/index.js';

const CHAIN = 'metanode-msg-test';
const K = [0, 1, 2, 3].map(simValidatorKey);
const VALSET = new ValidatorSet(K.map((k) => ({ address: k.address, publicKey: k.ed25519.publicKey, blsPublicKey: k.bls.publicKey, power: 1n })));
const OUTSIDER = simValidatorKey(9);
const D1 = new Uint8Array(32).fill(0xd1);
const D2 = new Uint8Array(32).fill(0xd2);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

function sign(body: MessageBody, key: ValidatorKey = K[0]!, chainId = CHAIN): SignedMessage {
  return SignedMessage.sign(chainId, body, key.address, key.ed25519);
}

function seal(height: number, round: number, digest: Uint8Array, key: ValidatorKey = K[0]!): Uint8Array {
  return key.bls.sign(commitVoteMessage(CHAIN, height, round, digest));
}

const BODIES: Record<string, MessageBody> = {
  PROPOSAL: { type: MsgType.Proposal, height: 7, round: 0, digest: D1 },
  PREPARE: { type: MsgType.Prepare, height: 7, round: 2, digest: D1 },
  COMMIT: { type: MsgType.Commit, height: 7, round: 2, digest: D1, seal: seal(7, 2, D1) },
  'ROUND-CHANGE (not prepared)': { type: MsgType.RoundChange, height: 7, round: 3 },
  'ROUND-CHANGE (prepared)': { type: MsgType.RoundChange, height: 7, round: 3, prepared: { round: 2, digest: D2 } },
};

function block(height = 7): Block {
  return new Block(
    new BlockHeader({
      version: HEADER_VERSION,
      chainId: CHAIN,
      height,
      parentHash: new Uint8Array(32).fill(1),
      timestamp: 1_767_225_600_000 + height,
      proposer: K[1]!.address,
      txRoot: txRoot([]),
      receiptsRoot: new Uint8Array(32).fill(3),
      eventsRoot: new Uint8Array(32).fill(3),
      stateRoot: new Uint8Array(32).fill(4),
      validatorsHash: VALSET.hash(),
      nextValidatorsHash: VALSET.hash(),
    }),
    [],
  );
}

/** The message's wire fields: [type, body, sender, signature]. */
function fields(m: SignedMessage): RlpInput[] {
  return m.raw() as RlpInput[];
}

/** Re-encodes a message with field `i` replaced (the signature is kept as it was). */
function withField(m: SignedMessage, i: number, value: RlpInput): Uint8Array {
  const f = fields(m);
  f[i] = value;
  return rlpEncode(f);
}

/** A body without its absent optional fields (decoding sets `prepared: undefined` on a bare ROUND-CHANGE). */
function norm(b: MessageBody): MessageBody {
  return Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) as unknown as MessageBody;
}

function decodeMessage(bytes: Uint8Array): SignedMessage {
  return signedMessageFromRlp(rlpDecode(bytes, 'message'));
}

function chainError(fn: () => unknown, code?: string, message?: RegExp): ChainError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a ChainError').to.be.instanceOf(ChainError);
  const err = thrown as ChainError;
  if (code) expect(err.code, err.message).to.equal(code);
  if (message) expect(err.message).to.match(message);
  return err;
}

/** An envelope around a raw message item (for malformed-input tests). */
function envelopeOf(msg: RlpInput, blockBytes: RlpInput = new Uint8Array(0), rcs: RlpInput[] = [], prepares: RlpInput[] = []): Uint8Array {
  return rlpEncode([msg, blockBytes, rcs, prepares]);
}

describe('consensus messages', () => {
  describe('round trips', () => {
    for (const [name, body] of Object.entries(BODIES)) {
      it(`${name}: decode(serialize(m)) has the same fields, bytes and a valid signature`, () => {
        const m = sign(body, K[2]);
        const back = decodeMessage(m.serialize());
        expect(norm(back.body)).to.deep.equal(norm(body));
        expect(hex(back.sender)).to.equal(hex(K[2]!.address));
        expect(hex(back.signature)).to.equal(hex(m.signature));
        expect(hex(back.serialize())).to.equal(hex(m.serialize()));
        expect(back.verify(CHAIN, VALSET)).to.equal(true);
        expect(m.verify(CHAIN, VALSET)).to.equal(true);
      });
    }

    it('an envelope with a block and a justification survives encode → decode → encode', () => {
      const rcs = [1, 2, 3].map((i) => sign({ type: MsgType.RoundChange, height: 7, round: 1, prepared: { round: 0, digest: D1 } }, K[i]));
      const prepares = [0, 1, 2].map((i) => sign({ type: MsgType.Prepare, height: 7, round: 0, digest: D1 }, K[i]));
      const b = block();
      const env: Envelope = { message: sign({ type: MsgType.Proposal, height: 7, round: 1, digest: b.hash() }, K[1]), block: b, roundChanges: rcs, prepares };
      const bytes = encodeEnvelope(env);
      const back = decodeEnvelope(bytes);
      expect(hex(encodeEnvelope(back))).to.equal(hex(bytes));
      expect(hex(back.block!.hash())).to.equal(hex(b.hash()));
      expect(back.roundChanges.map((m) => m.verify(CHAIN, VALSET))).to.deep.equal([true, true, true]);
      expect(back.prepares.map((m) => hex(m.sender))).to.deep.equal([0, 1, 2].map((i) => hex(K[i]!.address)));
      expect(back.roundChanges[0]!.body.prepared).to.deep.equal({ round: 0, digest: D1 });
    });

    it('a bare envelope has no block and empty justifications', () => {
      const env = decodeEnvelope(encodeEnvelope({ message: sign(BODIES.PREPARE!), roundChanges: [], prepares: [] }));
      expect(env.block).to.equal(undefined);
      expect(env.roundChanges).to.deep.equal([]);
      expect(env.prepares).to.deep.equal([]);
    });

    it('describe() names the type, height, round and digest', () => {
      expect(sign(BODIES.PREPARE!).describe()).to.equal(`PREPARE h=7 r=2 d=0x${'d1'.repeat(4)}`);
      expect(sign(BODIES['ROUND-CHANGE (prepared)']!).describe()).to.equal('ROUND-CHANGE h=7 r=3');
    });
  });

  describe('golden vectors', () => {
    // Ed25519 signatures are deterministic: these bytes change only if the encoding, the
    // signing hash (its tag, chain id or layout) or the test keys change.
    it('PREPARE', () => {
      expect(hex(sign(BODIES.PREPARE!).serialize())).to.equal(GOLDEN_PREPARE);
    });

    it('ROUND-CHANGE with a prepared certificate', () => {
      expect(hex(sign(BODIES['ROUND-CHANGE (prepared)']!).serialize())).to.equal(GOLDEN_ROUND_CHANGE);
    });

    it('a bare COMMIT envelope', () => {
      expect(hex(encodeEnvelope({ message: sign(BODIES.COMMIT!), roundChanges: [], prepares: [] }))).to.equal(GOLDEN_COMMIT_ENVELOPE);
    });

    it('the golden bytes decode and verify', () => {
      for (const g of [GOLDEN_PREPARE, GOLDEN_ROUND_CHANGE]) expect(decodeMessage(unhex(g)).verify(CHAIN, VALSET)).to.equal(true);
      const env = decodeEnvelope(unhex(GOLDEN_COMMIT_ENVELOPE));
      expect(env.message.body.seal).to.have.length(96);
    });
  });

  describe('what the signature covers', () => {
    it('the chain id: a message signed for another chain does not verify', () => {
      expect(sign(BODIES.PREPARE!, K[0], 'other-chain').verify(CHAIN, VALSET)).to.equal(false);
      expect(sign(BODIES.PREPARE!).verify('other-chain', VALSET)).to.equal(false);
    });

    it('the sender: a key outside the set, or a signature claimed by another validator, does not verify', () => {
      expect(sign(BODIES.PREPARE!, OUTSIDER).verify(CHAIN, VALSET)).to.equal(false);
      const m = sign(BODIES.PREPARE!, K[0]);
      expect(decodeMessage(withField(m, 2, K[1]!.address)).verify(CHAIN, VALSET)).to.equal(false);
    });

    it('the type: a PREPARE relabelled as a PROPOSAL (identical body bytes) does not verify', () => {
      const m = sign(BODIES.PREPARE!);
      const relabelled = decodeMessage(withField(m, 0, uintBytes(MsgType.Proposal)));
      expect(relabelled.body.type).to.equal(MsgType.Proposal);
      expect(relabelled.verify(CHAIN, VALSET)).to.equal(false);
    });

    it('the signature itself: one flipped bit fails', () => {
      const m = sign(BODIES.COMMIT!);
      const sig = new Uint8Array(m.signature);
      sig[17]! ^= 0x04;
      expect(decodeMessage(withField(m, 3, sig)).verify(CHAIN, VALSET)).to.equal(false);
    });

    const tampered: [string, MessageBody, MessageBody][] = [
      ['PROPOSAL height', BODIES.PROPOSAL!, { ...BODIES.PROPOSAL!, height: 8 }],
      ['PROPOSAL round', BODIES.PROPOSAL!, { ...BODIES.PROPOSAL!, round: 1 }],
      ['PROPOSAL digest', BODIES.PROPOSAL!, { ...BODIES.PROPOSAL!, digest: D2 }],
      ['PREPARE height', BODIES.PREPARE!, { ...BODIES.PREPARE!, height: 6 }],
      ['PREPARE round', BODIES.PREPARE!, { ...BODIES.PREPARE!, round: 3 }],
      ['PREPARE digest', BODIES.PREPARE!, { ...BODIES.PREPARE!, digest: D2 }],
      ['COMMIT digest', BODIES.COMMIT!, { ...BODIES.COMMIT!, digest: D2 }],
      ['COMMIT seal', BODIES.COMMIT!, { ...BODIES.COMMIT!, seal: seal(7, 2, D1, K[1]) }],
      ['ROUND-CHANGE round', BODIES['ROUND-CHANGE (prepared)']!, { ...BODIES['ROUND-CHANGE (prepared)']!, round: 4 }],
      ['ROUND-CHANGE prepared round', BODIES['ROUND-CHANGE (prepared)']!, { ...BODIES['ROUND-CHANGE (prepared)']!, prepared: { round: 1, digest: D2 } }],
      ['ROUND-CHANGE prepared digest', BODIES['ROUND-CHANGE (prepared)']!, { ...BODIES['ROUND-CHANGE (prepared)']!, prepared: { round: 2, digest: D1 } }],
      ['ROUND-CHANGE prepared certificate dropped', BODIES['ROUND-CHANGE (prepared)']!, BODIES['ROUND-CHANGE (not prepared)']!],
    ];
    for (const [what, original, changed] of tampered) {
      it(`a tampered ${what} decodes but fails to verify`, () => {
        const m = sign(original);
        const forgedBody = sign(changed).raw()[1] as Uint8Array; // the changed body, encoded
        const forged = decodeMessage(withField(m, 1, forgedBody));
        expect(norm(forged.body)).to.deep.equal(norm(changed));
        expect(forged.verify(CHAIN, VALSET)).to.equal(false);
        expect(m.verify(CHAIN, VALSET)).to.equal(true);
      });
    }

    it('an envelope’s block is not signed: a swapped block decodes, and only the digest check can catch it', () => {
      const b = block();
      const env = decodeEnvelope(encodeEnvelope({ message: sign({ type: MsgType.Proposal, height: 7, round: 0, digest: b.hash() }), block: block(8), roundChanges: [], prepares: [] }));
      expect(env.message.verify(CHAIN, VALSET)).to.equal(true);
      expect(hex(env.block!.hash())).to.not.equal(hex(env.message.body.digest!));
    });
  });

  describe('malformed input is rejected', () => {
    const prepare = sign(BODIES.PREPARE!);
    const good = fields(prepare);
    const body = (items: RlpInput[]) => rlpEncode(items);
    const h = uintBytes(7);
    const r = uintBytes(2);

    const cases: [string, () => unknown, string, RegExp?][] = [
      ['bytes that are not RLP', () => decodeEnvelope(Uint8Array.of(0xf8)), ChainErrorCode.InvalidRlp],
      ['an envelope that is a byte string', () => decodeEnvelope(rlpEncode(Uint8Array.of(1, 2))), ChainErrorCode.InvalidRlp],
      ['an envelope with 3 fields', () => decodeEnvelope(rlpEncode([good, new Uint8Array(0), []])), ChainErrorCode.FieldCount],
      ['an envelope with 5 fields', () => decodeEnvelope(rlpEncode([good, new Uint8Array(0), [], [], []])), ChainErrorCode.FieldCount],
      ['trailing bytes after the envelope', () => decodeEnvelope(new Uint8Array([...envelopeOf(good), 0x00])), ChainErrorCode.InvalidRlp],
      ['a message with 3 fields', () => decodeEnvelope(envelopeOf(good.slice(0, 3))), ChainErrorCode.FieldCount],
      ['message type 0', () => decodeEnvelope(envelopeOf([new Uint8Array(0), ...good.slice(1)])), ChainErrorCode.FieldValue, /unknown consensus message type 0/],
      ['message type 5', () => decodeEnvelope(envelopeOf([uintBytes(5), ...good.slice(1)])), ChainErrorCode.FieldValue, /unknown consensus message type 5/],
      ['a type with a leading zero byte', () => decodeEnvelope(envelopeOf([Uint8Array.of(0, 2), ...good.slice(1)])), ChainErrorCode.NonCanonical],
      ['a 19-byte sender', () => decodeEnvelope(envelopeOf([good[0]!, good[1]!, new Uint8Array(19), good[3]!])), ChainErrorCode.FieldLength],
      ['a 63-byte signature', () => decodeEnvelope(envelopeOf([good[0]!, good[1]!, good[2]!, new Uint8Array(63)])), ChainErrorCode.FieldLength],
      ['a body that is a list instead of encoded bytes', () => decodeEnvelope(envelopeOf([good[0]!, [h, r, D1], good[2]!, good[3]!])), ChainErrorCode.InvalidRlp],
      ['a body that is not RLP', () => decodeEnvelope(envelopeOf([good[0]!, Uint8Array.of(0xb9), good[2]!, good[3]!])), ChainErrorCode.InvalidRlp],
      ['a PREPARE body with 4 fields', () => decodeEnvelope(envelopeOf([good[0]!, body([h, r, D1, D1]), good[2]!, good[3]!])), ChainErrorCode.FieldCount],
      ['a PREPARE with a 31-byte digest', () => decodeEnvelope(envelopeOf([good[0]!, body([h, r, D1.subarray(1)]), good[2]!, good[3]!])), ChainErrorCode.FieldLength],
      ['a COMMIT body without its seal', () => decodeEnvelope(envelopeOf([uintBytes(MsgType.Commit), body([h, r, D1]), good[2]!, good[3]!])), ChainErrorCode.FieldCount],
      ['a COMMIT with a 95-byte seal', () => decodeEnvelope(envelopeOf([uintBytes(MsgType.Commit), body([h, r, D1, new Uint8Array(95)]), good[2]!, good[3]!])), ChainErrorCode.FieldLength],
      ['a height with a leading zero byte', () => decodeEnvelope(envelopeOf([good[0]!, body([Uint8Array.of(0, 7), r, D1]), good[2]!, good[3]!])), ChainErrorCode.NonCanonical],
      ['a height above 2^53', () => decodeEnvelope(envelopeOf([good[0]!, body([uintBytes(2n ** 60n), r, D1]), good[2]!, good[3]!])), ChainErrorCode.FieldValue],
      ['a round longer than 8 bytes', () => decodeEnvelope(envelopeOf([good[0]!, body([h, new Uint8Array(9).fill(1), D1]), good[2]!, good[3]!])), ChainErrorCode.FieldLength],
      // [7, 2, D1] with the height written 0x81 0x07: a single byte below 0x80 must stand alone.
      ['a non-canonical body encoding', () => decodeEnvelope(envelopeOf([good[0]!, Uint8Array.of(0xe4, 0x81, 0x07, 0x02, 0xa0, ...D1), good[2]!, good[3]!])), ChainErrorCode.NonCanonical],
      ['a ROUND-CHANGE whose prepared part has 1 field', () => decodeEnvelope(envelopeOf([uintBytes(MsgType.RoundChange), body([h, uintBytes(3), [uintBytes(2)]]), good[2]!, good[3]!])), ChainErrorCode.FieldCount],
      ['a ROUND-CHANGE whose prepared part has 3 fields', () => decodeEnvelope(envelopeOf([uintBytes(MsgType.RoundChange), body([h, uintBytes(3), [uintBytes(2), D1, D1]]), good[2]!, good[3]!])), ChainErrorCode.FieldCount],
      ['a ROUND-CHANGE whose prepared part is a byte string', () => decodeEnvelope(envelopeOf([uintBytes(MsgType.RoundChange), body([h, uintBytes(3), D1]), good[2]!, good[3]!])), ChainErrorCode.InvalidRlp],
      ['a ROUND-CHANGE with a 31-byte prepared digest', () => decodeEnvelope(envelopeOf([uintBytes(MsgType.RoundChange), body([h, uintBytes(3), [uintBytes(2), D1.subarray(1)]]), good[2]!, good[3]!])), ChainErrorCode.FieldLength],
      ['a block field that is not a block', () => decodeEnvelope(envelopeOf(good, Uint8Array.of(1, 2, 3))), ChainErrorCode.InvalidRlp],
      ['a block field that is a list', () => decodeEnvelope(envelopeOf(good, [])), ChainErrorCode.InvalidRlp],
      ['a justification that is a byte string', () => decodeEnvelope(rlpEncode([good, new Uint8Array(0), Uint8Array.of(1), []])), ChainErrorCode.InvalidRlp],
      ['a malformed message inside the justification', () => decodeEnvelope(envelopeOf(good, new Uint8Array(0), [good.slice(0, 2)])), ChainErrorCode.FieldCount],
      [`more than ${MAX_JUSTIFICATION} PREPAREs`, () => decodeEnvelope(envelopeOf(good, new Uint8Array(0), [], Array.from({ length: MAX_JUSTIFICATION + 1 }, () => good))), ChainErrorCode.FieldCount, /too long/],
      [`more than ${MAX_JUSTIFICATION} ROUND-CHANGEs`, () => decodeEnvelope(envelopeOf(good, new Uint8Array(0), Array.from({ length: MAX_JUSTIFICATION + 1 }, () => good))), ChainErrorCode.FieldCount, /too long/],
    ];
    for (const [what, fn, code, message] of cases) {
      it(what, () => {
        chainError(fn, code, message);
      });
    }

    it(`exactly ${MAX_JUSTIFICATION} PREPAREs are accepted`, () => {
      const env = decodeEnvelope(envelopeOf(good, new Uint8Array(0), [], Array.from({ length: MAX_JUSTIFICATION }, () => good)));
      expect(env.prepares).to.have.length(MAX_JUSTIFICATION);
    });

    it('the well-formed envelope the malformed ones are built from decodes', () => {
      const env = decodeEnvelope(envelopeOf(good));
      expect(env.message.verify(CHAIN, VALSET)).to.equal(true);
      expect(toHex(env.message.body.digest!)).to.equal(toHex(D1));
    });

    it('a decoded body item is kept as signed: re-serializing yields the received bytes', () => {
      const item = rlpDecode(prepare.serialize(), 'm') as RlpItem[];
      expect(hex(signedMessageFromRlp(item).serialize())).to.equal(hex(prepare.serialize()));
    });
  });
});

const GOLDEN_PREPARE =
  'f87d02a4e30702a0d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d194dbccac137578a64f81c83724aa7a14849e048f94b840312b30d1a7c74045f147a35578653e539c1c72265b7af4b95ac9038d5cb0a026030bdd0a37ddaf254158762aaa37462d82465ab5068a3785ef2779721814230e';
const GOLDEN_ROUND_CHANGE =
  'f87f04a6e50703e202a0d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d294dbccac137578a64f81c83724aa7a14849e048f94b840228bb2b779027694e627afea658efb70b0a482b3506749a9eae42d6d5ea82a00c61e93e427bdbc587d0b9657c0e460455852977405b1edcedb4e8a46612fdd05';
const GOLDEN_COMMIT_ENVELOPE =
  'f8e6f8e103b887f8850702a0d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1b860b4fa2f4a08a5efcde39ac9147ac4b17ca0248f19acf6f1b3221172819afc76491fb1238ff0dde15b6f37ae037734bef005c513ca92f7c9e0fed2d3960c859658a9613b9baac6e526fc52a2b578ecc5ced28f3ff56f30790f0178e8cca4af99ab94dbccac137578a64f81c83724aa7a14849e048f94b8407127b3341d5361ed07b6570c48d06d761dae87cf276e9529d1e756626b577fc8ef86318890f64f7ca76d9115378e1dd89a24c44eb2dd94db3887dbdb99b5970e80c0c0';
