import { DEFAULT_JOB_LIMITS, MAX_PAGES } from '../../../docklock/index.js';
import { ParamSpace, type ParamField } from '../../params.js';

const KiB = 1024n;
const ppm = (what: string): ParamField => ({ description: `${what} (parts per million)`, min: 0n, max: 1_000_000n });
const blocks = (what: string, min = 1n, max = 1_000_000n): ParamField => ({ description: `${what} (blocks)`, min, max });

const fields = {
  minBond: { description: 'the least GEN (base units) an execution node keeps bonded to be placed', min: 0n, max: 10n ** 30n },
  maxNodes: { description: 'the most execution nodes the registry holds (bounds placement’s work)', min: 1n, max: 4096n },
  maxSlots: { description: 'the most jobs one node may declare it runs at once', min: 1n, max: 1024n },
  maxJobFuel: { description: 'the most fuel a job may ask for', min: 1_000n, max: 1_000_000_000_000n },
  maxInputBytes: { description: 'the largest job input (bytes; held on chain with the job)', min: 0n, max: 1024n * KiB },
  maxOutputBytes: { description: 'the largest job output (bytes; held on chain with each receipt)', min: 0n, max: 1024n * KiB },
  maxReplicas: { description: 'the most replicas a job may ask for', min: 1n, max: 16n },
  maxDeadline: blocks('the longest deadline a job may ask for'),
  leaseBlocks: blocks('how long a node has to hand in its receipt once a job is placed on it (at most until the job’s deadline)'),
  challengeWindow: blocks('how long after its last receipt a job may be challenged before it settles', 0n),
  challengeBond: { description: 'NEX (base units) a challenger posts: returned if the challenge is upheld, burned if not (at least 1: a challenge is never free)', min: 1n, max: 10n ** 30n },
  disputeFuel: { description: 'the most fuel of a job the chain re-executes to settle a dispute (jobs above it cannot be challenged; use replicas ≥ 2)', min: 1_000n, max: 1_000_000_000n },
  disputeBlockFuel: { description: 'the fuel of all re-executions in one block together (bounds a block’s work)', min: 1_000n, max: 10_000_000_000n },
  slashLiePpm: ppm('of its bond and reserve a node loses for a receipt the re-execution contradicts'),
  slashMissPpm: ppm('of its bond a node loses for a lease that ended without its receipt'),
  challengerSharePpm: ppm('of the GEN slashed for a lie that goes to the challenger who proved it (the rest is burned)'),
  jailBlocks: blocks('how long a node that lied is jailed (not placed) before it may unjail', 0n),
  unbondingBlocks: blocks('how long an unregistered node stays slashable before its bond and reserve return'),
  maxQueue: { description: 'the most submitted jobs waiting for nodes (more are refused)', min: 1n, max: 100_000n },
  maxPlacementsPerBlock: { description: 'the most queued jobs end-block tries to place', min: 1n, max: 10_000n },
  maxExpiriesPerBlock: { description: 'the most leases, deadlines, settlements and unbondings end-block handles of each kind (the rest wait for the next block)', min: 1n, max: 100_000n },
  reserveSharePpm: ppm('of each payment locked in the executor’s reserve'),
  ownerSharePpm: ppm('of each payment paid to the program’s deployer'),
  treasurySharePpm: ppm('of each payment paid to the treasury'),
  weightCpuPpm: ppm('reward weight w of cpu'),
  weightMemoryPpm: ppm('reward weight w of memory'),
  weightStoragePpm: ppm('reward weight w of storage'),
  weightEgressPpm: ppm('reward weight w of egress'),
  weightReceiptsPpm: ppm('reward weight w of receipts'),
  scaleCpu: { description: 'reward scale s of cpu (kilo-fuel)', min: 1n, max: 10n ** 18n },
  scaleMemory: { description: 'reward scale s of memory (KiB)', min: 1n, max: 10n ** 18n },
  scaleStorage: { description: 'reward scale s of storage (KiB)', min: 1n, max: 10n ** 18n },
  scaleEgress: { description: 'reward scale s of egress (KiB)', min: 1n, max: 10n ** 18n },
  scaleReceipts: { description: 'reward scale s of receipts (witness entries)', min: 1n, max: 10n ** 18n },
  rewardK: { description: 'reward K: whole NEX a job earns at Γ = 1', min: 0n, max: 1_000_000n },
  rewardAPpm: ppm('reward A'),
} as const;
export type EncParamName = keyof typeof fields;
export type EncParams = Readonly<Record<EncParamName, bigint>>;

export const ENC_DEFAULTS: Record<EncParamName, bigint> = {
  minBond: 100_000_000n,
  maxNodes: 256n,
  maxSlots: 64n,
  maxJobFuel: 1_000_000_000n,
  maxInputBytes: 16n * KiB,
  maxOutputBytes: 16n * KiB,
  maxReplicas: 5n,
  maxDeadline: 1000n,
  leaseBlocks: 20n,
  challengeWindow: 5n,
  challengeBond: 1_000_000n,
  disputeFuel: 10_000_000n,
  disputeBlockFuel: 100_000_000n,
  slashLiePpm: 100_000n,
  slashMissPpm: 10_000n,
  challengerSharePpm: 500_000n,
  jailBlocks: 100n,
  unbondingBlocks: 100n,
  maxQueue: 1024n,
  maxPlacementsPerBlock: 64n,
  maxExpiriesPerBlock: 256n,
  reserveSharePpm: 2_000n,
  ownerSharePpm: 2_000n,
  treasurySharePpm: 3_000n,
  weightCpuPpm: 350_000n,
  weightMemoryPpm: 150_000n,
  weightStoragePpm: 150_000n,
  weightEgressPpm: 150_000n,
  weightReceiptsPpm: 200_000n,
  scaleCpu: 1000n,
  scaleMemory: 1000n,
  scaleStorage: 1n,
  scaleEgress: 10n,
  scaleReceipts: 100n,
  rewardK: 1000n,
  rewardAPpm: 1_000_000n,
};

export function encParamSpace(): ParamSpace<EncParamName> {
  return new ParamSpace({
    module: 'enc',
    fields,
    defaults: ENC_DEFAULTS,
    check: (p) =>
      p.reserveSharePpm + p.ownerSharePpm + p.treasurySharePpm > 1_000_000n
        ? 'reserveSharePpm + ownerSharePpm + treasurySharePpm must not exceed 1,000,000'
        : p.disputeFuel > p.disputeBlockFuel
          ? 'disputeFuel must not exceed disputeBlockFuel'
          : undefined,
  });
}

/** The log caps every ENC job runs under (DockLock's defaults); fuel, input and output caps are parameters. */
export const JOB_LOG_CAPS = { maxLogBytes: DEFAULT_JOB_LIMITS.maxLogBytes, maxLogLines: DEFAULT_JOB_LIMITS.maxLogLines } as const;
/** KiB per WebAssembly page. */
export const PAGE_KIB = 64;
/** The most memory a job can hold (KiB). */
export const MAX_JOB_KIB = MAX_PAGES * PAGE_KIB;
