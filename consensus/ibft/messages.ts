import {
  ADDRESS_LENGTH,
  BLS_SIGNATURE_LENGTH,
  ChainError,
  ChainErrorCode,
  ED25519_SIGNATURE_LENGTH,
  asBytes,
  consensusSigningHash,
  asList,
  asSafeUint,
  decodeBlock,
  decodeList,
  ed25519Verify,
  rlpDecode,
  rlpEncode,
  rlpListItems,
  toHex,
  uintBytes,
  type Block,
  type Ed25519Key,
  certificateFromRlp,
  equalBytes,
  headerFromRlp,
  type BlockHeader,
  type CommitCertificate,
  type DuplicateVoteEvidence,
  type RlpItem,
  type Transaction,
  type ValidatorSet,
} from '../../chain/index.js';

export const MsgType = { Proposal: 1, Prepare: 2, Commit: 3, RoundChange: 4 } as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];
export const MSG_NAMES: Record<MsgType, string> = { 1: 'PROPOSAL', 2: 'PREPARE', 3: 'COMMIT', 4: 'ROUND-CHANGE' };

/** What was prepared: the round and the block hash a quorum of PREPAREs agreed on. */
export interface PreparedRef {
  round: number;
  digest: Uint8Array;
}

/**
 * The signed part of a consensus message. RLP of the body per type:
 * PROPOSAL [height, round, digest]; PREPARE [height, round, digest];
 * COMMIT [height, round, digest, blsSeal]; ROUND-CHANGE [height, round, [] | [preparedRound, preparedDigest]].
 */
export interface MessageBody {
  type: MsgType;
  height: number;
  round: number;
  /** Block hash (PROPOSAL, PREPARE, COMMIT). */
  digest?: Uint8Array;
  /** BLS signature over commitVoteMessage (COMMIT). */
  seal?: Uint8Array;
  /** ROUND-CHANGE: the sender's prepared round and block, if any. */
  prepared?: PreparedRef;
}

function bodyRlp(b: MessageBody): RlpItem[] {
  const head = [uintBytes(b.height), uintBytes(b.round)];
  switch (b.type) {
    case MsgType.Proposal:
    case MsgType.Prepare:
      return [...head, b.digest!];
    case MsgType.Commit:
      return [...head, b.digest!, b.seal!];
    case MsgType.RoundChange:
      return [...head, b.prepared ? [uintBytes(b.prepared.round), b.prepared.digest] : []];
  }
}

const signingHash = (chainId: string, type: MsgType, body: Uint8Array): Uint8Array => consensusSigningHash(chainId, type, body);

/**
 * Evidence that the sender of `a` and `b` equivocated (the staking module's staking.evidence
 * checks it on chain): two messages of one type, height and round from one sender, naming
 * different blocks. Undefined if they are not that.
 */
export function duplicateVoteEvidence(a: SignedMessage, b: SignedMessage): DuplicateVoteEvidence | undefined {
  if (a.type !== b.type || a.type === MsgType.RoundChange || !equalBytes(a.sender, b.sender)) return undefined;
  if (a.body.height !== b.body.height || a.body.round !== b.body.round || equalBytes(a.body.digest!, b.body.digest!)) return undefined;
  return { type: a.type, sender: a.sender, a: { body: a.bodyBytes, signature: a.signature }, b: { body: b.bodyBytes, signature: b.signature } };
}

/** A message signed (Ed25519) by a validator. RLP: [type, body, sender, signature]. */
export class SignedMessage {
  private _bytes?: Uint8Array;
  constructor(
    readonly body: MessageBody,
    readonly sender: Uint8Array,
    readonly signature: Uint8Array,
    readonly bodyBytes: Uint8Array,
  ) {}

  static sign(chainId: string, body: MessageBody, sender: Uint8Array, key: Ed25519Key): SignedMessage {
    const bytes = rlpEncode(bodyRlp(body));
    return new SignedMessage(body, sender, key.sign(signingHash(chainId, body.type, bytes)), bytes);
  }

  get type(): MsgType {
    return this.body.type;
  }

  raw(): RlpItem[] {
    return [uintBytes(this.body.type), this.bodyBytes, this.sender, this.signature];
  }

  serialize(): Uint8Array {
    return (this._bytes ??= rlpEncode(this.raw()));
  }

  /** True when the sender is in `valset` and the signature is theirs. */
  verify(chainId: string, valset: ValidatorSet): boolean {
    return this.authenticate(chainId, valset) === undefined;
  }

  /** Why this message is not `valset`'s: its sender is not in it (checked first, cheaply), or the signature is not the sender's. */
  authenticate(chainId: string, valset: ValidatorSet): 'not_validator' | 'bad_signature' | undefined {
    const i = valset.indexOf(this.sender);
    if (i < 0) return 'not_validator';
    return ed25519Verify(valset.validators[i]!.publicKey, signingHash(chainId, this.body.type, this.bodyBytes), this.signature) ? undefined : 'bad_signature';
  }

  describe(): string {
    return `${MSG_NAMES[this.body.type]} h=${this.body.height} r=${this.body.round}${this.body.digest ? ` d=${toHex(this.body.digest).slice(0, 10)}` : ''}`;
  }
}

export function signedMessageFromRlp(item: RlpItem): SignedMessage {
  const f = decodeList(item, 4, 'consensus message');
  const type = asSafeUint(f[0], 'message.type');
  if (type < 1 || type > 4) throw new ChainError(ChainErrorCode.FieldValue, `unknown consensus message type ${type}`);
  const bodyBytes = asBytes(f[1], 'message.body');
  const sender = asBytes(f[2], 'message.sender', ADDRESS_LENGTH);
  const signature = asBytes(f[3], 'message.signature', ED25519_SIGNATURE_LENGTH);
  const t = type as MsgType;
  const bodyItem = rlpDecode(bodyBytes, 'message body');
  let body: MessageBody;
  if (t === MsgType.RoundChange) {
    const b = decodeList(bodyItem, 3, 'ROUND-CHANGE');
    const p = asList(b[2], 'ROUND-CHANGE.prepared');
    if (p.length !== 0 && p.length !== 2) throw new ChainError(ChainErrorCode.FieldCount, 'ROUND-CHANGE.prepared must have 0 or 2 fields');
    body = {
      type: t,
      height: asSafeUint(b[0], 'height'),
      round: asSafeUint(b[1], 'round'),
      prepared: p.length === 2 ? { round: asSafeUint(p[0], 'preparedRound'), digest: asBytes(p[1], 'preparedDigest', 32) } : undefined,
    };
  } else {
    const n = t === MsgType.Commit ? 4 : 3;
    const b = decodeList(bodyItem, n, MSG_NAMES[t]);
    body = { type: t, height: asSafeUint(b[0], 'height'), round: asSafeUint(b[1], 'round'), digest: asBytes(b[2], 'digest', 32) };
    if (t === MsgType.Commit) body.seal = asBytes(b[3], 'seal', BLS_SIGNATURE_LENGTH);
  }
  return new SignedMessage(body, sender, signature, bodyBytes);
}

/**
 * What travels on the consensus topic: a signed message plus what justifies it.
 * RLP: [message, block | empty, [ROUND-CHANGE...], [PREPARE...]].
 * PROPOSAL carries its block, and for round > 0 the quorum of ROUND-CHANGEs and the PREPAREs of
 * the highest prepared round among them; ROUND-CHANGE carries its prepared block and PREPAREs.
 */
export interface Envelope {
  message: SignedMessage;
  block?: Block;
  roundChanges: SignedMessage[];
  prepares: SignedMessage[];
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  return rlpEncode([e.message.raw(), e.block ? e.block.serialize() : new Uint8Array(0), e.roundChanges.map((m) => m.raw()), e.prepares.map((m) => m.raw())]);
}

export const MAX_JUSTIFICATION = 1024;

/**
 * An envelope with only its signed message decoded; the block and the justification are still
 * encoded (not even parsed). Gossip checks the message (height, sender, signature) on this, and
 * decodes the rest (decodeEnvelopeRest) only then: a peer cannot make a node decode a block, or
 * a justification, that no validator signed for.
 */
export interface EnvelopeHead {
  readonly message: SignedMessage;
  /** The encodings of the block item, the ROUND-CHANGE list and the PREPARE list. */
  readonly rest: readonly [Uint8Array, Uint8Array, Uint8Array];
}

export function decodeEnvelopeHead(bytes: Uint8Array): EnvelopeHead {
  const f = rlpListItems(bytes, 'consensus envelope');
  if (f.length !== 4) throw new ChainError(ChainErrorCode.FieldCount, `consensus envelope: expected 4 fields, got ${f.length}`);
  return { message: signedMessageFromRlp(rlpDecode(f[0]!, 'consensus message')), rest: [f[1]!, f[2]!, f[3]!] };
}

/** The whole envelope of `head`. `known`: transactions this node holds, by hash key, reused for the block's (see decodeBlock). */
export function decodeEnvelopeRest(head: EnvelopeHead, known?: (hashKey: string) => Transaction | undefined): Envelope {
  const [blockItem, rcItem, prepareItem] = head.rest;
  const rcs = asList(rlpDecode(rcItem, 'envelope.roundChanges'), 'envelope.roundChanges');
  const prepares = asList(rlpDecode(prepareItem, 'envelope.prepares'), 'envelope.prepares');
  if (rcs.length > MAX_JUSTIFICATION || prepares.length > MAX_JUSTIFICATION) {
    throw new ChainError(ChainErrorCode.FieldCount, 'envelope justification is too long');
  }
  const blockBytes = asBytes(rlpDecode(blockItem, 'envelope.block'), 'envelope.block');
  return {
    message: head.message,
    block: blockBytes.length ? decodeBlock(blockBytes, known) : undefined,
    roundChanges: rcs.map(signedMessageFromRlp),
    prepares: prepares.map(signedMessageFromRlp),
  };
}

/** decodeEnvelopeHead, then decodeEnvelopeRest. */
export function decodeEnvelope(bytes: Uint8Array, known?: (hashKey: string) => Transaction | undefined): Envelope {
  return decodeEnvelopeRest(decodeEnvelopeHead(bytes), known);
}

/**
 * What the blocks topic carries: a committed block's header and certificate, not its body. A
 * validator that missed the commit fetches the body from the announcer; the others (nearly all)
 * spend a few hundred bytes per block instead of the whole block. RLP: [header, certificate].
 */
export interface BlockAnnouncement {
  header: BlockHeader;
  certificate: CommitCertificate;
}

export function encodeBlockAnnouncement(header: BlockHeader, certificate: CommitCertificate): Uint8Array {
  return rlpEncode([header.raw(), certificate.raw()]);
}

/**
 * An announcement with only its certificate decoded (height, round, block hash, signers): gossip
 * drops one for a height it does not need on this alone, before decoding the header.
 */
export interface BlockAnnouncementHead {
  readonly certificate: CommitCertificate;
  /** The header's encoding. */
  readonly header: Uint8Array;
}

export function decodeBlockAnnouncementHead(bytes: Uint8Array): BlockAnnouncementHead {
  const f = rlpListItems(bytes, 'block announcement');
  if (f.length !== 2) throw new ChainError(ChainErrorCode.FieldCount, `block announcement: expected 2 fields, got ${f.length}`);
  return { certificate: certificateFromRlp(rlpDecode(f[1]!, 'block announcement certificate')), header: f[0]! };
}

/** Decodes the header of `head` and checks that the certificate is for it. */
export function decodeBlockAnnouncementRest(head: BlockAnnouncementHead): BlockAnnouncement {
  const { certificate } = head;
  const header = headerFromRlp(rlpDecode(head.header, 'block announcement header'));
  if (certificate.height !== header.height || !equalBytes(certificate.blockHash, header.hash())) {
    throw new ChainError(ChainErrorCode.FieldValue, `block announcement ${header.height}: the certificate is for another block`, { height: header.height });
  }
  return { header, certificate };
}

export function decodeBlockAnnouncement(bytes: Uint8Array): BlockAnnouncement {
  return decodeBlockAnnouncementRest(decodeBlockAnnouncementHead(bytes));
}
