import type { JobSpec } from '../../../docklock/index.js';
import type { JobCapsRecord } from './records.js';

/**
 * The DockLock job an ENC job is: what its executors run and what the chain re-executes in a
 * dispute. The id seeds its random stream, the clock is the timestamp of the block that included it,
 * and it runs under the caps recorded at submission.
 */
export function encJobSpec(j: { id: Uint8Array; input: Uint8Array; fuel: number; clock: bigint; caps: JobCapsRecord }): JobSpec {
  const { fuelCap, ...limits } = j.caps;
  return { jobId: j.id, input: j.input, fuel: j.fuel, clock: j.clock, fuelCap, limits };
}
