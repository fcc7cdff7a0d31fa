/**
 * Proposer selection weighted by voting power: CometBFT's proposer-priority algorithm
 * (types/validator_set.go), in integers.
 *
 * Every validator has a priority. One step adds each validator's power to its priority, picks the
 * validator with the highest priority (ties: the lower address) as the proposer and subtracts the
 * set's total power from it. Over any run of steps a validator proposes in proportion to its power
 * (a validator of power p in a set of total T proposes p times in T steps when nothing changes),
 * and with equal powers the steps go round the set in address order.
 *
 * Before the steps of a height (and of a round's copy) the priorities are brought into a window:
 * if the spread max − min exceeds 2T, every priority is divided by ⌈spread / 2T⌉ (truncating
 * toward zero, as Go does), then the average (rounded toward −∞) is subtracted from each.
 *
 * From height to height: the priorities of height h + 1 are those of h after one step; if the set
 * of h + 1 differs, a validator that stays keeps its priority (whatever its new power), one that
 * joins starts at −⌊1.125·T'⌋ (T' the new set's total: it waits about a round of the set before
 * it proposes), one that leaves is dropped, and the window is applied. The proposer of round r at
 * height h is the one picked by the (r + 1)th step from the priorities the height starts with.
 *
 * `ProposerPriorities` holds the priorities a height starts with (before its first step).
 */
import { ChainError, ChainErrorCode } from './errors.js';
import { asBigint, asBytes, asList, asSafeUint, decodeList, rlpDecode, rlpEncode, uintBytes } from './rlp.js';
import { compareBytes, equalBytes, toKey } from './bytes.js';
import type { Validator, ValidatorSet } from './validators.js';

/** The least a priority step needs of a validator. */
export interface Weighted {
  address: Uint8Array;
  power: bigint;
}

const WINDOW_FACTOR = 2n;

/** Floor division (Go's big.Int Div for a positive divisor). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** Rescales `p` in place into the window of WINDOW_FACTOR × total, then centres it on zero. */
function windowed(p: bigint[], total: bigint): void {
  if (p.length === 0) return;
  let max = p[0]!;
  let min = p[0]!;
  for (const x of p) {
    if (x > max) max = x;
    if (x < min) min = x;
  }
  const diffMax = WINDOW_FACTOR * total;
  const diff = max - min;
  if (diff > diffMax) {
    const ratio = (diff + diffMax - 1n) / diffMax;
    for (let i = 0; i < p.length; i++) p[i] = p[i]! / ratio;
  }
  let sum = 0n;
  for (const x of p) sum += x;
  const avg = floorDiv(sum, BigInt(p.length));
  for (let i = 0; i < p.length; i++) p[i] = p[i]! - avg;
}

/** One step in place: every priority grows by its power; the highest (ties: lower address) is picked and pays the total. */
function step(vals: readonly Weighted[], p: bigint[], total: bigint): number {
  let best = 0;
  for (let i = 0; i < vals.length; i++) {
    p[i] = p[i]! + vals[i]!.power;
    if (i > 0 && (p[i]! > p[best]! || (p[i] === p[best] && compareBytes(vals[i]!.address, vals[best]!.address) < 0))) best = i;
  }
  p[best] = p[best]! - total;
  return best;
}

/**
 * `times` steps after the window (CometBFT's IncrementProposerPriority): the indices picked, in
 * order; `p` is changed in place.
 */
export function incrementPriorities(vals: readonly Weighted[], p: bigint[], times: number): number[] {
  const total = vals.reduce((s, v) => s + v.power, 0n);
  windowed(p, total);
  const picked: number[] = [];
  for (let t = 0; t < times; t++) picked.push(step(vals, p, total));
  return picked;
}

/** The priorities a height starts with, for the set of that height (aligned with `set.validators`). */
export class ProposerPriorities {
  /** Proposers of the rounds asked for so far (index into the set), and the state after round 0's step. */
  private rounds: number[] = [];
  private afterFirst?: bigint[];

  private constructor(
    readonly height: number,
    readonly set: ValidatorSet,
    private readonly start: readonly bigint[],
  ) {}

  /** The first height's: all zero (CometBFT's NewValidatorSet). */
  static initial(height: number, set: ValidatorSet): ProposerPriorities {
    return new ProposerPriorities(height, set, set.validators.map(() => 0n));
  }

  /** The priorities each validator starts the height with, by address order of the set. */
  get priorities(): readonly bigint[] {
    return this.start;
  }

  /** The proposer of `round` at this height. */
  proposer(round: number): Validator {
    if (!Number.isSafeInteger(round) || round < 0) throw new ChainError(ChainErrorCode.FieldValue, `round must be a non-negative integer, not ${round}`);
    const vals = this.set.validators;
    if (!this.afterFirst) {
      this.afterFirst = [...this.start];
      this.rounds.push(incrementPriorities(vals, this.afterFirst, 1)[0]!);
    }
    if (round >= this.rounds.length) {
      // Round r ≥ 1: r steps from the state after round 0's (CometBFT: CopyIncrementProposerPriority(r)).
      const p = [...this.afterFirst];
      this.rounds = [this.rounds[0]!, ...incrementPriorities(vals, p, round)];
    }
    return vals[this.rounds[round]!]!;
  }

  /** The priorities of the next height, whose set is `next` (the same set, or one after updates). */
  next(next: ValidatorSet): ProposerPriorities {
    const p = [...this.start];
    incrementPriorities(this.set.validators, p, 1);
    if (next === this.set || equalBytes(next.hash(), this.set.hash())) return new ProposerPriorities(this.height + 1, next, p);
    const kept = new Map<string, bigint>();
    this.set.validators.forEach((v, i) => kept.set(toKey(v.address), p[i]!));
    const joining = -(next.totalPower + (next.totalPower >> 3n));
    const q = next.validators.map((v) => kept.get(toKey(v.address)) ?? joining);
    windowed(q, next.totalPower);
    return new ProposerPriorities(this.height + 1, next, q);
  }

  /** height, the set's hash, and each priority zigzag-encoded (so that negative ones are RLP integers). */
  serialize(): Uint8Array {
    return rlpEncode([uintBytes(this.height), this.set.hash(), this.start.map((x) => uintBytes(x >= 0n ? 2n * x : -2n * x - 1n))]);
  }

  /** Reads what serialize wrote, for `set` (which must be the set it was written for). */
  static decode(bytes: Uint8Array, set: ValidatorSet): ProposerPriorities {
    const f = decodeList(rlpDecode(bytes, 'proposer priorities'), 3, 'proposer priorities');
    const height = asSafeUint(f[0], 'proposer priorities.height');
    if (!equalBytes(asBytes(f[1], 'proposer priorities.setHash', 32), set.hash())) throw new ChainError(ChainErrorCode.FieldValue, `proposer priorities of height ${height} are for another validator set`);
    const items = asList(f[2], 'proposer priorities.values');
    if (items.length !== set.size) throw new ChainError(ChainErrorCode.FieldValue, `proposer priorities: ${items.length} values for a set of ${set.size}`);
    const start = items.map((it, i) => {
      const z = asBigint(it, `proposer priorities[${i}]`);
      return z % 2n === 0n ? z / 2n : -(z + 1n) / 2n;
    });
    return new ProposerPriorities(height, set, start);
  }
}

/**
 * The priorities of `height`, computed from `fromHeight`'s (the first height of the chain, with
 * zeros) through every set in between: `setAt(h)` is the set of height h. O((height − from) × n).
 */
export function prioritiesAt(height: number, setAt: (h: number) => ValidatorSet, from: ProposerPriorities = ProposerPriorities.initial(1, setAt(1))): ProposerPriorities {
  let p = from;
  while (p.height < height) p = p.next(setAt(p.height + 1));
  return p;
}

/** The proposer of (height, round) on a chain whose set at height h is `setAt(h)`, from height 1 (tests and tools). */
export function proposerAt(setAt: (h: number) => ValidatorSet, height: number, round: number): Validator {
  return prioritiesAt(height, setAt).proposer(round);
}
