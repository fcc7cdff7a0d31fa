import { expect } from 'chai';
import { addressFromPublicKey, Ed25519Key, formatAddress, toHex } from '../../../chain/index.js';
import { bank, ClientError, court, docklock, enc, staking, type TxIntent } from '../../../client/index.js';
import { decodeTransfer } from '../../../vm/modules/bank/codec.js';
import { decodeCourt } from '../../../vm/modules/court/codec.js';
import { decodeDocklock } from '../../../vm/modules/docklock/codec.js';
import { decodeEnc } from '../../../vm/modules/enc/codec.js';
import { decodeStaking } from '../../../vm/modules/staking/codec.js';

const addr = addressFromPublicKey(Ed25519Key.generate().publicKey);
const other = addressFromPublicKey(Ed25519Key.generate().publicKey);
const text = formatAddress(addr);
const id = '0x' + '11'.repeat(32);

/** The intent's method, as its module's decoder reads the payload (what the chain will execute). */
function decoded(i: TxIntent, decode: (method: string, payload: Uint8Array) => unknown): unknown {
  const method = i.kind.slice(i.kind.indexOf('.') + 1);
  return decode(method, i.payload);
}

describe('client/tx: each module\'s builders make the payloads its decoder reads', () => {
  it('bank.transfer', () => {
    expect(decodeTransfer(bank.transfer({ to: text, asset: 'NEX', amount: '15' }).payload)).to.deep.equal({ to: addr, asset: 'NEX', amount: 15n });
  });

  it('staking: delegate, undelegate, redelegate, withdraw, unjail', () => {
    expect(decoded(staking.delegate({ validator: text, amount: 5n }), decodeStaking)).to.deep.equal({ method: 'delegate', args: { validator: addr, amount: 5n } });
    expect(decoded(staking.undelegate({ validator: addr, amount: '7' }), decodeStaking)).to.deep.equal({ method: 'undelegate', args: { validator: addr, amount: 7n } });
    expect(decoded(staking.redelegate({ from: addr, to: other, amount: 1n }), decodeStaking)).to.deep.equal({ method: 'redelegate', args: { src: addr, dst: other, amount: 1n } });
    expect(decoded(staking.withdraw({ validator: addr }), decodeStaking)).to.deep.equal({ method: 'withdraw', args: { validator: addr } });
    expect(decoded(staking.unjail({ validator: addr }), decodeStaking)).to.deep.equal({ method: 'unjail', args: { validator: addr } });
  });

  it('court: vote, deposit, text and spend proposals', () => {
    expect(decoded(court.vote({ proposal: 3, option: 'veto' }), decodeCourt)).to.deep.equal({ method: 'vote', args: { id: 3, option: 'veto' } });
    expect(decoded(court.deposit({ proposal: 3, amount: 9n }), decodeCourt)).to.deep.equal({ method: 'deposit', args: { id: 3, amount: 9n } });
    const text = decoded(court.proposeText({ title: 'T', summary: 'S', deposit: 100n }), decodeCourt) as { args: { content: unknown; deposit: bigint } };
    expect(text.args).to.deep.include({ content: { kind: 'text' }, deposit: 100n });
    const spend = decoded(court.proposeSpend({ title: 'T', summary: 'S', deposit: 1n, payments: [{ to: addr, asset: 'NEX', amount: 2n }] }), decodeCourt) as { args: { content: unknown } };
    expect(spend.args.content).to.deep.equal({ kind: 'spend', payments: [{ to: addr, asset: 'NEX', amount: 2n }] });
  });

  it('docklock: deploy and run; enc: submit, register, unregister, challenge', () => {
    expect(decoded(docklock.deploy({ code: new Uint8Array([0, 97, 115, 109]) }), decodeDocklock)).to.deep.equal({ method: 'deploy', args: { code: new Uint8Array([0, 97, 115, 109]) } });
    const run = decoded(docklock.run({ program: id, input: '0x616263', fuel: 1000 }), decodeDocklock) as { args: { program: Uint8Array; input: Uint8Array; fuel: number } };
    expect([toHex(run.args.program), toHex(run.args.input), run.args.fuel]).to.deep.equal([id, '0x616263', 1000]);
    const submit = decoded(enc.submit({ program: id, fuel: 10, maxPrice: 2n, replicas: 2, deadline: 30 }), decodeEnc) as { args: Record<string, unknown> };
    expect(submit.args).to.deep.include({ fuel: 10, maxPrice: 2n, replicas: 2, deadline: 30 });
    expect(decoded(enc.register({ slots: 2, memoryKiB: 1024, price: 1n, bond: 5n }), decodeEnc)).to.deep.equal({ method: 'register', args: { slots: 2, memoryKiB: 1024, price: 1n, bond: 5n } });
    expect(decoded(enc.unregister(), decodeEnc)).to.deep.equal({ method: 'unregister', args: {} });
    const ch = decoded(enc.challenge({ job: id, node: other }), decodeEnc) as { args: { job: Uint8Array; node: Uint8Array } };
    expect(toHex(ch.args.node)).to.equal(toHex(other));
  });

  it('refuses bad arguments with CLIENT_BAD_ARGUMENT before anything is signed', () => {
    // One character changed (bech32m's checksum catches any one).
    expect(() => bank.transfer({ to: text.slice(0, -1) + (text.endsWith('x') ? 'y' : 'x'), asset: 'NEX', amount: 1n })).to.throw(ClientError, /not an address/);
    expect(() => staking.delegate({ validator: addr, amount: -1n })).to.throw(ClientError, /must not be negative/);
    expect(() => docklock.run({ program: '0x1234', fuel: 1 })).to.throw(ClientError, /program/);
    expect(() => court.vote({ proposal: 0, option: 'yes' })).to.throw(ClientError, /proposal/);
  });
});
