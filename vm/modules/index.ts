import { ModuleRegistry } from '../registry.js';
import { BankModule } from './bank/index.js';
import { ConsensusModule } from './consensus/index.js';

/** The modules of the chain, in order. Adding a module is one line here. */
export function createModules(): { registry: ModuleRegistry; bank: BankModule; consensus: ConsensusModule } {
  const bank = new BankModule();
  const consensus = new ConsensusModule();
  return { registry: new ModuleRegistry([bank, consensus]), bank, consensus };
}

/** The genesis sections that modules spell out with their defaults (Module.defaultGenesis), by module. */
export function defaultGenesisSections(registry: ModuleRegistry): Record<string, unknown> {
  return Object.fromEntries(registry.modules.flatMap((m) => (m.defaultGenesis ? [[m.name, m.defaultGenesis()]] : [])));
}

export { BankModule, ConsensusModule };
export type { BlockLimits } from './consensus/index.js';
