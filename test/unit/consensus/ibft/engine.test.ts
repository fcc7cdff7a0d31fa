/**
 * The engine's gossip checks, in order of cost: a consensus message's sender and signature are
 * checked before its block and justification are decoded, and a block announcement's height
 * before its header, its header before its certificate's signature. Payloads whose block (or
 * header) would not even decode show which check ran first: they are rejected for the sender or
 * the signature, not as malformed.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { CommitCertificate, checkDuplicateVote, commitVoteMessage, rlpEncode, type DuplicateVoteEvidence, type RlpInput } from '../../../../chain/index.js';
import { IbftEngine, MemorySignLog, MsgType, SignedMessage, encodeBlockAnnouncement, encodeEnvelope, type MessageBody } from '../../../../consensus/ibft/index.js';
import type { ValidatorKey } from '../../../../consensus/keys.js';
import { Topic, Verdict } from '../../../../p2p/network.js';
import { testGenesis, validatorKey } from '../../fixtures.js';
import { BlockMaker, FakeNetwork, ManualTimer, RecordingIbftMetrics, openChain, silent } from '../fakes.js';

const KEYS = [0, 1, 2, 3].map(validatorKey);
const OUTSIDER = validatorKey(9);
const GENESIS = testGenesis({ validators: KEYS });
/** Not a block: fails decodeBlock. */
const NOT_A_BLOCK = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);

function prepare(signer: ValidatorKey, claimed: Uint8Array = signer.address, height = 1): SignedMessage {
  const body: MessageBody = { type: MsgType.Prepare, height, round: 0, digest: new Uint8Array(32).fill(7) };
  return SignedMessage.sign(GENESIS.chainId, body, claimed, signer.ed25519);
}

/** An envelope with `message` and whatever block item and justification lists the test wants. */
function envelope(message: SignedMessage, block: Uint8Array = new Uint8Array(0), roundChanges: RlpInput[] = [], prepares: RlpInput[] = []): Uint8Array {
  return rlpEncode([message.raw(), block, roundChanges, prepares]);
}

describe('IbftEngine gossip checks', () => {
  let network: FakeNetwork;
  let metrics: RecordingIbftMetrics;
  let engine: IbftEngine;
  let maker: BlockMaker;

  beforeEach(async () => {
    const { chain, mempool } = await openChain(GENESIS);
    network = new FakeNetwork();
    metrics = new RecordingIbftMetrics();
    engine = new IbftEngine({ emptyBlockIntervalMs: 3_600_000 }, { chain, key: KEYS[0]!, signLog: new MemorySignLog(), mempool, network, timer: new ManualTimer(), logger: silent, metrics });
    await engine.start();
    maker = await BlockMaker.create(GENESIS, KEYS);
    await maker.makeUntil(1);
  });

  afterEach(async () => {
    await engine.stop();
  });

  const consensus = (data: Uint8Array) => network.gossip(Topic.Consensus, data, 'peer');
  const blocks = (data: Uint8Array) => network.gossip(Topic.Blocks, data, 'peer');
  const reasons = () => metrics.rejected.map((r) => `${r.topic}:${r.reason}`);

  it('rejects a message from a non-validator for that reason, without decoding its block or justification', async () => {
    expect(await consensus(envelope(prepare(OUTSIDER), NOT_A_BLOCK))).to.equal(Verdict.Reject);
    expect(await consensus(envelope(prepare(OUTSIDER), new Uint8Array(0), [[Uint8Array.of(1)]], [Uint8Array.of(2)]))).to.equal(Verdict.Reject);
    expect(reasons()).to.deep.equal(['consensus:not_validator', 'consensus:not_validator']);
  });

  it('rejects a validator\'s address with a signature that is not theirs for that reason, without decoding its block', async () => {
    expect(await consensus(envelope(prepare(OUTSIDER, KEYS[1]!.address), NOT_A_BLOCK))).to.equal(Verdict.Reject);
    expect(reasons()).to.deep.equal(['consensus:bad_signature']);
  });

  it('decodes the block and justification of a validator\'s signed message, and rejects them when malformed', async () => {
    // The same undecodable block, now under a valid signature: only at this point is it decoded.
    expect(await consensus(envelope(prepare(KEYS[1]!), NOT_A_BLOCK))).to.equal(Verdict.Reject);
    expect(await consensus(envelope(prepare(KEYS[2]!), new Uint8Array(0), [[Uint8Array.of(1)]]))).to.equal(Verdict.Reject);
    expect(reasons()).to.deep.equal(['consensus:malformed', 'consensus:malformed']);
  });

  it('accepts a validator\'s well-formed message, ignores stale and far-future heights unchecked, and rejects junk as malformed', async () => {
    expect(await consensus(encodeEnvelope({ message: prepare(KEYS[1]!), roundChanges: [], prepares: [] }))).to.equal(Verdict.Accept);
    // Height 0 is stale, 1000 beyond the future window: neither is worth a signature check.
    expect(await consensus(envelope(prepare(OUTSIDER, OUTSIDER.address, 0), NOT_A_BLOCK))).to.equal(Verdict.Ignore);
    expect(await consensus(envelope(prepare(OUTSIDER, OUTSIDER.address, 1_000), NOT_A_BLOCK))).to.equal(Verdict.Ignore);
    expect(await consensus(new Uint8Array(randomBytes(300)))).to.equal(Verdict.Reject);
    expect(await consensus(rlpEncode([prepare(KEYS[1]!).raw(), new Uint8Array(0)]))).to.equal(Verdict.Reject);
    expect(reasons()).to.deep.equal(['consensus:malformed', 'consensus:malformed']);
  });

  it('checks a block announcement\'s height before its header, and its header before its certificate\'s signature', async () => {
    const b1 = maker.blocks[0]!;
    const cert = b1.certificate!;
    // A certificate for another height: ignored on the certificate alone (the header is not a header).
    const later = new CommitCertificate({ ...cert, height: 5 });
    expect(await blocks(rlpEncode([Uint8Array.of(1, 2, 3), later.raw()]))).to.equal(Verdict.Ignore);
    // The next height with a header that does not decode: malformed, the signature unchecked.
    expect(await blocks(rlpEncode([Uint8Array.of(1, 2, 3), cert.raw()]))).to.equal(Verdict.Reject);
    // A well-formed announcement whose aggregate is over another round: a bad certificate.
    const wrongVotes = KEYS.map((k, i) => ({ index: i, signature: k.bls.sign(commitVoteMessage(GENESIS.chainId, 1, 9, cert.blockHash)) }));
    const forged = CommitCertificate.aggregate(1, 0, cert.blockHash, KEYS.length, wrongVotes);
    expect(await blocks(encodeBlockAnnouncement(b1.header, forged))).to.equal(Verdict.Reject);
    expect(reasons()).to.deep.equal(['blocks:malformed', 'blocks:bad_certificate']);
    expect(await blocks(encodeBlockAnnouncement(b1.header, cert))).to.equal(Verdict.Accept);
    expect(reasons()).to.have.length(2);
  });

  it('reports two conflicting PREPAREs of one validator as evidence the chain accepts, once', async () => {
    const { chain, mempool } = await openChain(GENESIS);
    const seen: DuplicateVoteEvidence[] = [];
    const net = new FakeNetwork();
    const e2 = new IbftEngine({ emptyBlockIntervalMs: 3_600_000 }, { chain, key: KEYS[0]!, signLog: new MemorySignLog(), mempool, network: net, timer: new ManualTimer(), logger: silent, onEquivocation: (e) => seen.push(e) });
    await e2.start();
    const vote = (fill: number) => SignedMessage.sign(GENESIS.chainId, { type: MsgType.Prepare, height: 1, round: 0, digest: new Uint8Array(32).fill(fill) }, KEYS[1]!.address, KEYS[1]!.ed25519);
    for (const m of [vote(7), vote(7), vote(8), vote(9)]) await net.gossip(Topic.Consensus, envelope(m), 'peer');
    await e2.idle();
    await e2.stop();
    expect(seen.length, 'the second and third conflicting vote').to.equal(2);
    const checked = checkDuplicateVote(GENESIS.chainId, seen[0]!, KEYS[1]!.ed25519.publicKey);
    expect(checked).to.deep.equal({ height: 1, round: 0 });
  });
});
