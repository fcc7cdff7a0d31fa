import { toKey } from '../../../chain/index.js';
import { VOTE_OPTIONS, type VoteOptionName } from './codec.js';

const PPM = 1_000_000n;

/** A bonded validator, as the tally sees it: who operates it, its GEN and its shares. */
export interface TallyValidator {
  address: Uint8Array;
  operator: Uint8Array;
  tokens: bigint;
  shares: bigint;
}

/** The GEN behind each option, and the GEN bonded in all. */
export interface Tally {
  yes: bigint;
  abstain: bigint;
  no: bigint;
  veto: bigint;
  /** GEN bonded to the bonded validators (participation is counted against it). */
  bonded: bigint;
}

export interface TallyRules {
  quorumPpm: bigint;
  thresholdPpm: bigint;
  vetoThresholdPpm: bigint;
}

export type TallyOutcome = { passed: true } | { passed: false; vetoed: boolean; reason: string };

/**
 * The tally of a proposal by bonded stake, as Cosmos counts it, at the stake of the moment it is
 * called (the end of the voting period): each voter's delegations to bonded validators count
 * for the voter's option, at what their shares are worth (rounded down, per delegation); a
 * validator whose operator voted adds, for that option, what its other shares are worth (the
 * delegators who did not vote inherit it). Shares of a validator whose operator did not vote, and
 * of validators that are not bonded, count for nothing. Work: O(votes × delegations + validators).
 */
export function tallyVotes(
  validators: readonly TallyValidator[],
  votes: Iterable<{ voter: Uint8Array; option: VoteOptionName }>,
  delegationsOf: (voter: Uint8Array) => readonly { validator: Uint8Array; shares: bigint }[],
): Tally {
  const t: Tally = { yes: 0n, abstain: 0n, no: 0n, veto: 0n, bonded: 0n };
  const vals = new Map<string, TallyValidator & { deducted: bigint; vote?: VoteOptionName }>();
  const byOperator = new Map<string, string[]>();
  for (const v of validators) {
    const k = toKey(v.address);
    vals.set(k, { ...v, deducted: 0n });
    t.bonded += v.tokens;
    const op = toKey(v.operator);
    byOperator.set(op, [...(byOperator.get(op) ?? []), k]);
  }
  const worth = (v: TallyValidator, shares: bigint) => (v.shares === 0n ? 0n : (shares * v.tokens) / v.shares);
  for (const { voter, option } of votes) {
    for (const k of byOperator.get(toKey(voter)) ?? []) vals.get(k)!.vote = option;
    for (const d of delegationsOf(voter)) {
      const v = vals.get(toKey(d.validator));
      if (!v) continue;
      v.deducted += d.shares;
      t[option] += worth(v, d.shares);
    }
  }
  for (const v of vals.values()) if (v.vote) t[v.vote] += worth(v, v.shares - v.deducted);
  return t;
}

/**
 * Whether a tally passes (Cosmos's rules, in integers): participation (every option, abstain
 * included) at least quorumPpm of the bonded GEN, else rejected; veto more than vetoThresholdPpm
 * of the participation, else vetoed; yes more than thresholdPpm of yes + no + veto, else rejected
 * (when everyone abstains there is nothing to weigh: rejected).
 */
export function judge(t: Tally, r: TallyRules): TallyOutcome {
  const voted = t.yes + t.abstain + t.no + t.veto;
  if (t.bonded === 0n || voted * PPM < r.quorumPpm * t.bonded) return { passed: false, vetoed: false, reason: `quorum not reached: ${share(voted, t.bonded)} of the bonded GEN voted, ${ppmText(r.quorumPpm)} needed` };
  if (t.veto * PPM > r.vetoThresholdPpm * voted) return { passed: false, vetoed: true, reason: `vetoed: ${share(t.veto, voted)} of the votes were veto, more than ${ppmText(r.vetoThresholdPpm)}` };
  const weighed = t.yes + t.no + t.veto;
  if (weighed === 0n) return { passed: false, vetoed: false, reason: 'every vote was abstain' };
  if (t.yes * PPM <= r.thresholdPpm * weighed) return { passed: false, vetoed: false, reason: `threshold not reached: yes was ${share(t.yes, weighed)} of yes, no and veto; more than ${ppmText(r.thresholdPpm)} needed` };
  return { passed: true };
}

/** `part / whole` as a percentage with two decimals, rounded down ("33.33%"). */
export function share(part: bigint, whole: bigint): string {
  if (whole === 0n) return '0%';
  const bp = (part * 10_000n) / whole;
  return `${bp / 100n}.${(bp % 100n).toString().padStart(2, '0')}%`;
}

export const ppmText = (ppm: bigint): string => share(ppm, PPM);

export const emptyTally = (): Tally => Object.fromEntries([...VOTE_OPTIONS.map((o) => [o, 0n]), ['bonded', 0n]]) as unknown as Tally;
