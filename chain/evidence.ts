import { ADDRESS_LENGTH, addressFromPublicKey } from './address.js';
import { equalBytes } from './bytes.js';
import { ED25519_SIGNATURE_LENGTH, ed25519Verify } from './ed25519.js';
import { HashTag, taggedHash } from './hash.js';
import { asBytes, asSafeUint, decodeList, rlpDecode, rlpEncode, type RlpItem } from './rlp.js';

/** The consensus message types a validator can equivocate on (consensus/ibft/messages.ts MsgType). */
export const EQUIVOCATION_TYPES: Readonly<Record<number, string>> = { 1: 'PROPOSAL', 2: 'PREPARE', 3: 'COMMIT' };

/**
 * What a validator's Ed25519 key signs for a consensus message: the tagged hash of
 * RLP [chainId, type, body]. Defined here, once, for the engine that signs and checks messages
 * and for the state machine that checks evidence.
 */
export function consensusSigningHash(chainId: string, type: number, body: Uint8Array): Uint8Array {
  return taggedHash(HashTag.ConsensusMessage, rlpEncode([chainId, type, body]));
}

/** One signed consensus message, as evidence carries it: its type, its body's bytes, who signed and the signature. */
export interface SignedVote {
  body: Uint8Array;
  signature: Uint8Array;
}

/**
 * Evidence that a validator equivocated: two messages of one type that it signed for the same
 * height and round, naming different blocks. RLP: [type, sender, bodyA, signatureA, bodyB, signatureB].
 */
export interface DuplicateVoteEvidence {
  type: number;
  /** The validator's address. */
  sender: Uint8Array;
  a: SignedVote;
  b: SignedVote;
}

export function encodeDuplicateVote(e: DuplicateVoteEvidence): Uint8Array {
  return rlpEncode([e.type, e.sender, e.a.body, e.a.signature, e.b.body, e.b.signature]);
}

export function decodeDuplicateVote(bytes: Uint8Array): DuplicateVoteEvidence {
  const f = decodeList(rlpDecode(bytes, 'evidence'), 6, 'evidence');
  return {
    type: asSafeUint(f[0], 'evidence.type'),
    sender: asBytes(f[1], 'evidence.sender', ADDRESS_LENGTH),
    a: { body: asBytes(f[2], 'evidence.bodyA'), signature: asBytes(f[3], 'evidence.signatureA', ED25519_SIGNATURE_LENGTH) },
    b: { body: asBytes(f[4], 'evidence.bodyB'), signature: asBytes(f[5], 'evidence.signatureB', ED25519_SIGNATURE_LENGTH) },
  };
}

/** The height, round and block hash a PROPOSAL, PREPARE or COMMIT body names (its first three fields). */
export function voteTarget(body: Uint8Array): { height: number; round: number; digest: Uint8Array } {
  const item = rlpDecode(body, 'vote body');
  if (!Array.isArray(item) || item.length < 3) throw new Error('a vote body is a list of at least 3 fields');
  const f: RlpItem[] = item;
  return { height: asSafeUint(f[0], 'vote.height'), round: asSafeUint(f[1], 'vote.round'), digest: asBytes(f[2], 'vote.digest') };
}

/**
 * Checks evidence against the accused validator's consensus key: the type is one that can be
 * equivocated on, the key is the sender's, both bodies name the same height and round but
 * different blocks, and both signatures are the key's over this chain's signing hash. Returns
 * the height and round of the equivocation, or why the evidence is not valid.
 */
export function checkDuplicateVote(chainId: string, e: DuplicateVoteEvidence, publicKey: Uint8Array): { height: number; round: number } | { invalid: string } {
  if (!(e.type in EQUIVOCATION_TYPES)) return { invalid: `message type ${e.type} is not one a validator can equivocate on (PROPOSAL, PREPARE or COMMIT)` };
  if (!equalBytes(addressFromPublicKey(publicKey), e.sender)) return { invalid: 'the key is not the sender’s' };
  let a, b;
  try {
    a = voteTarget(e.a.body);
    b = voteTarget(e.b.body);
  } catch {
    return { invalid: 'a message body does not decode' };
  }
  if (a.height !== b.height || a.round !== b.round) return { invalid: `the messages are for different heights or rounds (${a.height}/${a.round} and ${b.height}/${b.round})` };
  if (equalBytes(a.digest, b.digest)) return { invalid: 'both messages name the same block: that is not equivocation' };
  for (const v of [e.a, e.b]) {
    if (!ed25519Verify(publicKey, consensusSigningHash(chainId, e.type, v.body), v.signature)) return { invalid: 'a signature is not the validator’s' };
  }
  return { height: a.height, round: a.round };
}
