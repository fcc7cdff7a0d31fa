import { ModuleRegistry } from '../registry.js';
import { BankModule } from './bank/index.js';

/** The modules of the chain, in order. Adding a module is one line here. */
export function createModules(): { registry: ModuleRegistry; bank: BankModule } {
  const bank = new BankModule();
  return { registry: new ModuleRegistry([bank]), bank };
}

export { BankModule };
