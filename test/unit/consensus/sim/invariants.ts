import { toHex } from '../../../../chain/index.js';
import { MSG_NAMES, MsgType, decodeEnvelope, type SignedMessage } from '../../../../consensus/ibft/index.js';
import type { SignRecord } from './node.js';

export interface DoubleSign {
  signer: string;
  height: number;
  round: number;
  type: number;
  describe: string;
}

/**
 * Every signed message in `payloads` (consensus envelopes as sent, including the ROUND-CHANGEs
 * and PREPAREs nested in them), grouped by (signer, height, round, type): a group with two
 * different signed bodies is a double sign. Messages are compared by their signed bytes.
 */
export function findDoubleSigns(payloads: readonly Uint8Array[]): DoubleSign[] {
  const seen = new Map<string, { body: string; msg: SignedMessage }>();
  const out: DoubleSign[] = [];
  const reported = new Set<string>();
  const visit = (m: SignedMessage) => {
    const { height, round, type } = m.body;
    const signer = toHex(m.sender);
    const k = `${signer}/${height}/${round}/${type}`;
    const body = toHex(m.raw()[1] as Uint8Array);
    const prior = seen.get(k);
    if (!prior) seen.set(k, { body, msg: m });
    else if (prior.body !== body && !reported.has(k)) {
      reported.add(k);
      out.push({ signer, height, round, type, describe: `${signer.slice(0, 10)} signed two ${MSG_NAMES[m.type]}s at h=${height} r=${round}: ${prior.msg.describe()} and ${m.describe()}` });
    }
  };
  const distinct = new Set<string>();
  for (const p of payloads) {
    const k = toHex(p);
    if (distinct.has(k)) continue;
    distinct.add(k);
    const env = decodeEnvelope(p);
    visit(env.message);
    env.roundChanges.forEach(visit);
    env.prepares.forEach(visit);
  }
  return out;
}

/**
 * Checks one validator's signing history (in the order it signed):
 * - no (height, round, type) is signed twice (the sign log must stop the second);
 * - no round regression: after signing a ROUND-CHANGE to round r at a height, it never signs a
 *   PROPOSAL, PREPARE or COMMIT for a round below r at that height (QBFT's safety argument needs
 *   a prepared certificate to predate every later ROUND-CHANGE of its signer).
 */
export function journalProblems(id: string, journal: readonly SignRecord[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const rcRound = new Map<number, number>();
  for (const r of journal) {
    const k = `${r.height}/${r.round}/${r.type}`;
    if (seen.has(k)) out.push(`${id} signed ${MSG_NAMES[r.type]} h=${r.height} r=${r.round} twice (incarnation ${r.incarnation}, t=${r.at})`);
    seen.add(k);
    const highest = rcRound.get(r.height) ?? -1;
    if (r.type === MsgType.RoundChange) rcRound.set(r.height, Math.max(highest, r.round));
    else if (r.round < highest) out.push(`${id} signed ${MSG_NAMES[r.type]} h=${r.height} r=${r.round} after ROUND-CHANGE to r=${highest} (incarnation ${r.incarnation}, t=${r.at})`);
  }
  return out;
}
