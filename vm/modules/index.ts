import { moduleAddress } from '../../chain/index.js';
import type { ModuleCli } from '../cli.js';
import type { ModuleFault } from '../executor.js';
import type { ParamSpace } from '../params.js';
import { ModuleRegistry } from '../registry.js';
import { BankModule } from './bank/index.js';
import { ConsensusModule } from './consensus/index.js';
import { courtCli } from './court/cli.js';
import { CourtModule } from './court/index.js';
import { docklockCli } from './docklock/cli.js';
import { DocklockModule } from './docklock/index.js';
import { encCli, jobCli } from './enc/cli.js';
import { EncModule } from './enc/index.js';
import { stakingCli } from './staking/cli.js';
import { StakingModule } from './staking/index.js';
import { UPGRADES, type UpgradeHandler } from '../upgrades/index.js';

/** The module accounts the composition hands out (besides each module's own). */
export const FEE_COLLECTOR = 'fee_collector';
export const TREASURY = 'treasury';

/**
 * The modules of the chain, in order. Adding a module is one line here, with the keepers it is
 * handed. Fees go to the fee collector when the chain has staking (it shares them out), else to
 * the proposer.
 */
/** `upgrades`: the software upgrades this binary knows (default: vm/upgrades UPGRADES). */
export function createModules(o: { upgrades?: ReadonlyMap<string, UpgradeHandler>; onFault?: (fault: ModuleFault) => void } = {}): { registry: ModuleRegistry; bank: BankModule; consensus: ConsensusModule; staking: StakingModule; court: CourtModule; docklock: DocklockModule; enc: EncModule } {
  const feeCollector = moduleAddress(FEE_COLLECTOR);
  let staking: StakingModule | undefined = undefined;
  const bank = new BankModule({ feeRecipient: (block, state) => (staking!.enabled(state) ? feeCollector : block.proposer) });
  const consensus = new ConsensusModule();
  bank.keeper(FEE_COLLECTOR);
  const bonded = bank.keeper('staking', ['mint', 'burn']);
  const unbonding = bank.keeper('staking_unbonding', ['burn']);
  const treasury = bank.keeper(TREASURY);
  staking = new StakingModule({ bonded, unbonding, treasury: treasury.account, feeCollector });
  // Governance: its account holds deposits (and is the authority over every module's parameters).
  // DockLock burns its deploy and run fees from its own account.
  const docklock = new DocklockModule({ fees: bank.keeper('docklock', ['burn']) });
  // ENC holds escrow, bonds, reserves and challenge bonds in its account; it mints rewards and burns slashes.
  const enc = new EncModule({ bank: bank.keeper('enc', ['mint', 'burn']), treasury: treasury.account, docklock: docklock.keeper(), ...(o.onFault ? { onFault: o.onFault } : {}) });
  const court = new CourtModule({ escrow: bank.keeper('court', ['burn']), treasury, staking: staking.keeper(), params: [bank.params, consensus.params, staking.params, docklock.params, enc.params] as unknown as ParamSpace<string>[], upgrades: o.upgrades ?? UPGRADES, ...(o.onFault ? { onFault: o.onFault } : {}) });
  return { registry: new ModuleRegistry([bank, consensus, staking, court, docklock, enc]), bank, consensus, staking, court, docklock, enc };
}
/** The genesis sections that modules spell out with their defaults (Module.defaultGenesis), by module. */
export function defaultGenesisSections(registry: ModuleRegistry): Record<string, unknown> {
  return Object.fromEntries(registry.modules.flatMap((m) => (m.defaultGenesis ? [[m.name, m.defaultGenesis()]] : [])));
}

/** The modules' metanode-cli command groups (vm/cli.ts), each from its module's folder. */
export function moduleClis(): ModuleCli[] {
  return [stakingCli, courtCli, docklockCli, encCli, jobCli];
}

export { BankModule, ConsensusModule, CourtModule, DocklockModule, EncModule, StakingModule };
export type { BlockLimits } from './consensus/index.js';
