import type { ExecContext } from '../module.js';

/**
 * What a binary does when the chain reaches an upgrade plan it knows: run once, in the court's
 * begin-block of the plan's height, before that block's transactions (a state migration; it runs
 * with the court's scope, and may do nothing). Like a module's hook it must be deterministic.
 */
export type UpgradeHandler = (ctx: ExecContext) => void;

/**
 * The software upgrades this binary knows, by plan name (`gov propose upgrade --name`). A chain
 * that reaches a plan whose name is not here halts before the plan's height (node/upgrade.ts); a
 * release that carries the upgrade adds its name here, so that it runs on past that height.
 * Empty: no upgrade has been released yet.
 */
export const UPGRADES = new Map<string, UpgradeHandler>();

/** Adds an upgrade this binary knows (a release does it for its own; a test's binary for its plan). */
export function registerUpgrade(name: string, handler: UpgradeHandler): void {
  if (UPGRADES.has(name)) throw new Error(`upgrade "${name}" is registered twice`);
  UPGRADES.set(name, handler);
}
