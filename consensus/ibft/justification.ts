import { equalBytes, type ValidatorSet } from '../../chain/index.js';
import { MsgType, type Envelope, type SignedMessage } from './messages.js';

/**
 * The certificates of QBFT, checked without any node state: a prepared certificate (a quorum of
 * PREPAREs for one block in one round) and the justification of a round > 0 PROPOSAL.
 */

/** True when `prepares` are PREPAREs of distinct validators holding a quorum of the power for (height, round, digest). */
export function isPreparedCertificate(chainId: string, valset: ValidatorSet, height: number, round: number, digest: Uint8Array, prepares: readonly SignedMessage[]): boolean {
  for (const p of prepares) {
    const b = p.body;
    if (b.type !== MsgType.Prepare || b.height !== height || b.round !== round || !equalBytes(b.digest!, digest) || !p.verify(chainId, valset)) return false;
  }
  return valset.hasQuorum(prepares.map((p) => p.sender));
}

/**
 * A round > 0 PROPOSAL is justified by ROUND-CHANGEs holding a quorum of the power for its round and, when any of
 * them reports a prepared block, by the prepared certificate of the highest such round, whose
 * block the proposal must be: so a block that may have been committed is never replaced.
 */
export function isJustifiedProposal(chainId: string, valset: ValidatorSet, env: Envelope): boolean {
  const { height, round, digest } = env.message.body;
  let highest: { round: number; digest: Uint8Array } | undefined;
  for (const rc of env.roundChanges) {
    const b = rc.body;
    if (b.type !== MsgType.RoundChange || b.height !== height || b.round !== round || !rc.verify(chainId, valset)) return false;
    if (b.prepared && (!highest || b.prepared.round > highest.round)) highest = b.prepared;
  }
  if (!valset.hasQuorum(env.roundChanges.map((rc) => rc.sender))) return false;
  if (!highest) return true;
  return equalBytes(highest.digest, digest!) && isPreparedCertificate(chainId, valset, height, highest.round, highest.digest, env.prepares);
}
