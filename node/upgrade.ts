import type { UpgradePlan } from '../vm/modules/court/records.js';
import type { CourtModule } from '../vm/modules/index.js';
import type { StateReader } from '../vm/state/overlay.js';
import { NodeError, NodeErrorCode } from './errors.js';
import { writeFileAtomic } from './keyfile.js';

/**
 * Software upgrades, as the node sees them (the plan itself is the court's: vm/modules/court). A
 * plan names an upgrade and a height. A binary that does not know the name halts before that
 * height: it takes no block at it, logs `UPGRADE "<name>" NEEDED at height H`, writes the plan to
 * `<home>/upgrade-info.json` and exits with code 5 (bin/metanode.ts); restarted with a binary
 * that knows it, the chain runs the upgrade's handler at the plan's height and goes on. A binary
 * that knows a plan whose height is still ahead refuses to start (Cosmos: "binary updated before
 * trigger"), so that no node runs the new rules early.
 */

/** The message a node halts with. */
export const upgradeNeeded = (p: UpgradePlan): string => `UPGRADE "${p.name}" NEEDED at height ${p.height}`;

/** Blockchain's haltBefore: a plan this binary does not know, due at `height`. */
export function upgradeGate(court: CourtModule): (state: StateReader, height: number) => string | undefined {
  return (state, height) => {
    const plan = court.plan(state);
    return plan && plan.height === height && !court.knowsUpgrade(plan.name) ? `${upgradeNeeded(plan)}: this binary does not know it; restart the node with a release that carries it` : undefined;
  };
}

/** Refuses to start a binary that carries the pending plan's upgrade before the chain reaches its height. */
export function refuseEarlyUpgrade(court: CourtModule, chain: { state: StateReader; height: number }): void {
  const plan = court.plan(chain.state);
  if (!plan || !court.knowsUpgrade(plan.name) || plan.height <= chain.height + 1) return;
  throw new NodeError(
    NodeErrorCode.UpgradeTooEarly,
    `this binary carries the upgrade "${plan.name}", planned at height ${plan.height}, and the chain is at height ${chain.height}: it must not run before that height (binary updated before the upgrade height); run the previous binary until it halts at ${plan.height}, then this one`,
  );
}

/** Writes the plan the node halted for to `path` (upgrade-info.json), for the operator or a supervisor such as Cosmovisor. */
export async function writeUpgradeInfo(path: string, plan: UpgradePlan): Promise<void> {
  await writeFileAtomic(path, JSON.stringify({ name: plan.name, height: plan.height, info: plan.info }, null, 2) + '\n', 0o644);
}
