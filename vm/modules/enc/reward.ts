/**
 * The proof-of-execution reward (the seed's formula), in integers only: every validator computes
 * the same NEX from the same receipt.
 *
 *   u = (cpu, memory, storage, egress, receipts), each in micro-units (× 10^6)
 *   Φ = Σ wᵢ·uᵢ/sᵢ     (fixed point, 18 decimals; each term rounded down)
 *   Γ = Φ / (1 + Φ)    (fixed point, 18 decimals; rounded down)
 *   reward = K · A · Γ NEX, in base units, rounded down
 *
 * Weights wᵢ and A are parts per million, scales sᵢ and K integers (governable parameters). From a
 * DockLock receipt: cpu = fuel used / 1,000 (kilo-fuel), memory = memory pages × 64 (KiB), storage =
 * the job's input held on chain / 1,024 (KiB), egress = output bytes / 1,024 (KiB), receipts = the
 * entries of its witness log (host calls); each converted to micro-units rounding down.
 */

export const MICRO = 1_000_000n;
export const PPM = 1_000_000n;
/** Φ and Γ are carried with 18 decimals. */
export const FIXED = 10n ** 18n;

export const USAGE_NAMES = ['cpu', 'memory', 'storage', 'egress', 'receipts'] as const;
export type UsageName = (typeof USAGE_NAMES)[number];
/** The five usage figures in micro-units (1.5 KiB of egress = 1,500,000). */
export type RewardUsage = Record<UsageName, bigint>;

export interface RewardParams {
  weightsPpm: RewardUsage;
  scales: RewardUsage;
  /** K: whole NEX at Γ = 1. */
  k: bigint;
  /** A, in parts per million. */
  aPpm: bigint;
  /** Decimals of NEX (base units per NEX = 10^decimals). */
  decimals: number;
}

export interface RewardEstimate {
  /** Φ and Γ with 18 decimals, as integers. */
  phi: bigint;
  gamma: bigint;
  /** NEX base units. */
  reward: bigint;
}

export function estimateReward(usage: RewardUsage, p: RewardParams): RewardEstimate {
  let phi = 0n;
  for (const k of USAGE_NAMES) {
    if (usage[k] < 0n) throw new RangeError(`usage ${k} must not be negative`);
    phi += (p.weightsPpm[k] * usage[k] * FIXED) / (PPM * MICRO * p.scales[k]);
  }
  const gamma = (phi * FIXED) / (FIXED + phi);
  const reward = (p.k * p.aPpm * gamma * 10n ** BigInt(p.decimals)) / (PPM * FIXED);
  return { phi, gamma, reward };
}

/** The usage a DockLock receipt reports, in micro-units (see the mapping above). */
export function usageOfReceipt(r: { fuelUsed: number; usage: { memoryPages: number; hostCalls: number; outputBytes: number } }, inputBytes: number): RewardUsage {
  return {
    cpu: (BigInt(r.fuelUsed) * MICRO) / 1000n,
    memory: BigInt(r.usage.memoryPages) * 64n * MICRO,
    storage: (BigInt(inputBytes) * MICRO) / 1024n,
    egress: (BigInt(r.usage.outputBytes) * MICRO) / 1024n,
    receipts: BigInt(r.usage.hostCalls) * MICRO,
  };
}

/** A fixed-point integer as a decimal string ("0.259740259740259740"). */
export function formatFixed(x: bigint, decimals: number): string {
  const s = x.toString().padStart(decimals + 1, '0');
  return `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/** "12.5" → micro-units (12,500,000); at most 6 decimals; undefined when it is not such a number. */
export function parseMicro(text: string): bigint | undefined {
  const m = /^(0|[1-9][0-9]{0,24})(?:\.([0-9]{1,6}))?$/.exec(text);
  if (!m) return undefined;
  return BigInt(m[1]!) * MICRO + BigInt((m[2] ?? '').padEnd(6, '0') || '0');
}
