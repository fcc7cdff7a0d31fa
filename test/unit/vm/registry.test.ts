import { expect } from 'chai';
import { ModuleRegistry, VmError, VmErrorCode, type Module } from '../../../vm/index.js';
import { BankModule } from '../../../vm/modules/bank/index.js';
import { expectThrowsCode } from '../fixtures.js';

function named(name: string, methods: string[] = ['do']): Module {
  return {
    name,
    methods,
    decodePayload: () => undefined,
    validateGenesis: () => {},
    initGenesis: () => {},
    deliverTx: () => {},
    query: () => undefined,
  };
}

describe('vm/registry', () => {
  it('routes module.method to the module that declares the method', () => {
    const bank = new BankModule();
    const r = new ModuleRegistry([bank, named('court', ['file', 'rule'])]);
    expect(r.route('bank.transfer')?.module).to.equal(bank);
    expect(r.route('court.rule')?.method).to.equal('rule');
    expect(r.route('bank.mint')).to.equal(undefined);
    expect(r.route('enc.transfer')).to.equal(undefined);
    expect(r.modules.map((m) => m.name)).to.deep.equal(['bank', 'court']);
    expect(r.require('court').name).to.equal('court');
    expectThrowsCode(() => r.require('enc'), VmError, VmErrorCode.UnknownModule);
  });

  it('refuses duplicate, reserved and malformed module names', () => {
    expectThrowsCode(() => new ModuleRegistry([named('bank'), named('bank')]), VmError, VmErrorCode.UnknownModule);
    expectThrowsCode(() => new ModuleRegistry([named('auth')]), VmError, VmErrorCode.UnknownModule);
    expectThrowsCode(() => new ModuleRegistry([named('Bank')]), VmError, VmErrorCode.UnknownModule);
    expectThrowsCode(() => new ModuleRegistry([named('bank.x')]), VmError, VmErrorCode.UnknownModule);
  });
});
