import { HashTag, compareBytes, rlpEncode, taggedHash } from '../../../chain/index.js';
import { PLACEMENT_SHOWN, type NodeRecord, type PlacementRound } from './records.js';

/**
 * Deterministic placement: a pure function of committed state (the registry as the transaction
 * or end-block sees it) and the job. Every validator computes the same choice, and an auditor can
 * compute it again from the state before the placement.
 *
 * Filter: active, bond ≥ minBond, a free slot, enough free memory, price ≤ the job's maximum, not
 * already holding a replica of the job. Score (integers, higher is better, at most 10,000,000):
 *   4 × price  = 4 × (maxPrice − price) × 10^6 / maxPrice     (1,000,000 when maxPrice is 0)
 *   3 × load   = 3 × free slots × 10^6 / slots
 *   3 × record = 3 × (done + 1) × 10^6 / (done + missed + lied + 1)
 * each quotient rounded down. Order: score (descending), then a tie-break hash of the job id and
 * the node (ascending), then the node's address. The first `needed` are chosen: every node is one
 * operator account, so the replicas are on distinct operators.
 */

export interface Candidate {
  address: Uint8Array;
  node: NodeRecord;
}

export interface PlacementJob {
  id: Uint8Array;
  maxPrice: bigint;
  memoryKiB: number;
  /** Nodes that already hold (or held) a replica of it. */
  exclude: readonly Uint8Array[];
}

const M = 1_000_000n;

export function eligible(c: Candidate, job: PlacementJob, minBond: bigint): boolean {
  const n = c.node;
  return (
    n.status === 0 &&
    n.bond >= minBond &&
    n.slotsUsed < n.slots &&
    n.memoryKiB - n.memoryUsed >= job.memoryKiB &&
    n.price <= job.maxPrice &&
    !job.exclude.some((x) => compareBytes(x, c.address) === 0)
  );
}

export function score(n: NodeRecord, maxPrice: bigint): bigint {
  const price = maxPrice === 0n ? M : ((maxPrice - n.price) * M) / maxPrice;
  const load = (BigInt(n.slots - n.slotsUsed) * M) / BigInt(n.slots);
  const record = (BigInt(n.done + 1) * M) / BigInt(n.done + n.missed + n.lied + 1);
  return 4n * price + 3n * load + 3n * record;
}

export const tiebreak = (job: Uint8Array, node: Uint8Array): Uint8Array => taggedHash(HashTag.EncPlacement, rlpEncode([job, node]));

/** Ranks the eligible candidates and chooses `needed` of them (none when fewer are eligible). */
export function place(candidates: readonly Candidate[], job: PlacementJob, needed: number, minBond: bigint, height: number): PlacementRound {
  const ranked = candidates
    .filter((c) => eligible(c, job, minBond))
    .map((c) => ({ node: c.address, score: score(c.node, job.maxPrice), tiebreak: tiebreak(job.id, c.address) }))
    .sort((a, b) => (a.score !== b.score ? (a.score > b.score ? -1 : 1) : compareBytes(a.tiebreak, b.tiebreak) || compareBytes(a.node, b.node)));
  const chosen = ranked.length >= needed ? ranked.slice(0, needed).map((r) => r.node) : [];
  return { height, candidates: ranked.length, ranked: ranked.slice(0, Math.max(PLACEMENT_SHOWN, needed)), chosen };
}
