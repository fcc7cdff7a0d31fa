import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import wabt from 'wabt';
import { Ed25519Key, ReceiptStatus, toHex, type Receipt } from '../../../../../chain/index.js';
import { decodeReceipt, loadProgram, programId, verifyReceipt } from '../../../../../docklock/index.js';
import { getNonce } from '../../../../../vm/index.js';
import { DocklockTxErrorCode as E, Keys, encodeDeploy, encodeRun } from '../../../../../vm/modules/docklock/index.js';
import { GENESIS_TIME, accountKey, signedTx, transferTx } from '../../../fixtures.js';
import { StakingChain, addressFromKey, stakingGenesis } from '../staking/harness.js';

const JOBS = new URL('../../../../../../examples/jobs/', import.meta.url);
const job = (name: string) => new Uint8Array(readFileSync(new URL(`${name}.wasm`, JOBS)));

class DocklockChain extends StakingChain {
  constructor(params: Record<string, string> = {}) {
    const doc = stakingGenesis({ accounts: 6 });
    doc.modules.docklock = { params };
    super(doc);
  }

  dlTx(key: Ed25519Key, method: 'deploy' | 'run', payload: Uint8Array, ahead = 0) {
    return signedTx(key, { nonce: getNonce(this.world, addressFromKey(key)) + BigInt(ahead), kind: `docklock.${method}`, payload });
  }

  deploy(code: Uint8Array, key = accountKey(0)): Receipt {
    return this.block([this.dlTx(key, 'deploy', encodeDeploy({ code }))]).receipts[0]!;
  }

  run(program: Uint8Array, input: Uint8Array, fuel: number, key = accountKey(0)): { receipt: Receipt; job?: Record<string, unknown>; txHash: string } {
    const tx = this.dlTx(key, 'run', encodeRun({ program, input, fuel }));
    const receipt = this.block([tx]).receipts[0]!;
    const txHash = toHex(tx.hash());
    const job = receipt.status === ReceiptStatus.Success ? (this.modules.docklock.query({ state: this.world, height: this.height }, 'job', { id: txHash }) as Record<string, unknown>) : undefined;
    return { receipt, ...(job ? { job } : {}), txHash };
  }

  nexSupply(): bigint {
    return this.modules.bank.supply(this.world, 'NEX');
  }
}

const ok = (r: Receipt) => expect(r.status, `${r.errorCode} ${r.errorMessage}`).to.equal(ReceiptStatus.Success);
const fails = (r: Receipt, code: string) => {
  expect(r.status).to.equal(ReceiptStatus.Failed);
  expect(r.errorCode, r.errorMessage).to.equal(code);
  return r.errorMessage;
};

describe('vm/modules/docklock', () => {
  const sha = job('sha256');
  const shaId = programId(sha);

  it('deploy: validates, stores by content hash, burns the fee per byte; a second deploy of the same bytes is refused', () => {
    const c = new DocklockChain();
    const before = c.nexSupply();
    const r = c.deploy(sha);
    ok(r);
    const ev = Object.fromEntries(r.events.find((e) => e.module === 'docklock' && e.type === 'deployed')!.attributes);
    expect(ev.program).to.equal(toHex(shaId));
    expect(ev.instrumented).to.equal(toHex(loadProgram(sha).hash));
    expect(ev.fee).to.equal(String(sha.length * 10));
    // The tx fee goes to the proposer (conserved); the deploy fee is burned.
    expect(before - c.nexSupply()).to.equal(BigInt(sha.length * 10));
    const p = c.modules.docklock.query({ state: c.world, height: c.height }, 'program', { id: toHex(shaId), code: 1 }) as Record<string, unknown>;
    expect(p).to.include({ id: toHex(shaId), bytes: sha.length, height: c.height, code: toHex(sha) });
    fails(c.deploy(sha), E.ProgramExists);
  });

  it('deploy: bad programs are refused with a message that names the problem', async () => {
    const c = new DocklockChain({ maxProgramBytes: '2048' });
    expect(fails(c.deploy(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9)), E.InvalidProgram)).to.match(/not a WebAssembly module/);
    const w = await wabt();
    const simd = w.parseWat('s.wat', '(module (func (export "run") v128.const i64x2 0 0 drop))', { simd: true }).toBinary({}).buffer;
    expect(fails(c.deploy(new Uint8Array(simd)), E.InvalidProgram)).to.match(/SIMD/);
    const abort = w.parseWat('a.wat', '(module (import "env" "abort" (func)) (func (export "run")))', {}).toBinary({}).buffer;
    expect(fails(c.deploy(new Uint8Array(abort)), E.InvalidProgram)).to.match(/"env"\."abort".*not in DockLock's ABI/);
    expect(fails(c.deploy(job('hostcalls')), E.InvalidProgram)).to.match(/at most 2048/);
  });

  it('run: every validator executes the job in the block; the receipt, input and output are stored under the transaction hash, and re-execution matches', () => {
    const c = new DocklockChain();
    ok(c.deploy(sha));
    const { receipt, job: j, txHash } = c.run(shaId, new TextEncoder().encode('abc'), 1_000_000);
    ok(receipt);
    const ev = Object.fromEntries(receipt.events.find((e) => e.type === 'job')!.attributes);
    expect(ev).to.include({ job: txHash, status: 'ok', trap: '', fee: '10000' }); // 10,000 NEX base units a million fuel of the limit
    expect(j!.output).to.equal(`0x${createHash('sha256').update('abc').digest('hex')}`);
    const r = decodeReceipt(Buffer.from((j!.receipt as { bytes: string }).bytes.slice(2), 'hex'));
    expect(toHex(r.jobId)).to.equal(txHash);
    // The virtual clock is the block's timestamp.
    expect(r.clock).to.equal(BigInt(GENESIS_TIME.getTime() + c.height * 1000));
    expect(r.status).to.equal(0);
    expect(Number(ev.fuel_used)).to.equal(r.fuelUsed).and.be.greaterThan(0);
    const verdict = verifyReceipt(r, loadProgram(sha), new TextEncoder().encode('abc'));
    expect(verdict.match, JSON.stringify(verdict.differences)).to.equal(true);
  });

  it('run: fuel or input over the caps, too little fuel, a trap: the transaction succeeds and the receipt says how the job ended', () => {
    const c = new DocklockChain({ maxRunFuel: '2000000', maxInputBytes: '8' });
    ok(c.deploy(sha));
    ok(c.deploy(job('sort')));
    const status = (x: ReturnType<DocklockChain['run']>) => {
      ok(x.receipt);
      const r = x.job!.receipt as { status: string; trap: string; fuelUsed: number };
      return `${r.status}/${r.trap}/${r.fuelUsed}`;
    };
    expect(status(c.run(shaId, new Uint8Array(4), 2_000_001))).to.equal('rejected/fuel_over_cap/0');
    expect(status(c.run(shaId, new Uint8Array(9), 1000))).to.equal('rejected/input_too_large/0');
    expect(status(c.run(shaId, new Uint8Array(4), 50))).to.equal('out_of_fuel//50');
    // sort traps (unreachable) on an input that is not a whole number of u32s.
    expect(status(c.run(programId(job('sort')), new Uint8Array(3), 100_000))).to.match(/^trap\/unreachable\/\d+$/);
    fails(c.run(new Uint8Array(32).fill(9), new Uint8Array(0), 1000).receipt, E.UnknownProgram);
  });

  it('run: the block fuel budget bounds a block’s work; the next block has a fresh budget', () => {
    const c = new DocklockChain({ maxRunFuel: '1000000', maxBlockFuel: '1500000' });
    ok(c.deploy(sha));
    const k = accountKey(1);
    const txs = [0, 1].map((n) => c.dlTx(k, 'run', encodeRun({ program: shaId, input: new Uint8Array(0), fuel: 1_000_000 }), n));
    const [a, b] = c.block(txs).receipts;
    ok(a!);
    expect(fails(b!, E.BlockFuelExhausted)).to.match(/maxBlockFuel 1500000/);
    ok(c.run(shaId, new Uint8Array(0), 1_000_000, k).receipt);
  });

  it('a program is deployed only by a deploy that succeeded: one that failed (it left the program in this node’s cache) does not make a later run succeed', () => {
    const c = new DocklockChain();
    const poor = Ed25519Key.fromSecret(new Uint8Array(32).fill(5));
    // Enough NEX for the transaction fees, not for the deploy fee burned per byte.
    ok(c.block([transferTx(accountKey(1), getNonce(c.world, addressFromKey(accountKey(1))), addressFromKey(poor), 'NEX', 3_000n)]).receipts[0]!);
    fails(c.deploy(sha, poor), 'BANK_INSUFFICIENT_FUNDS');
    fails(c.run(shaId, new Uint8Array(0), 100_000).receipt, E.UnknownProgram);
    expect(c.world.getRaw(Keys.program(shaId))).to.equal(undefined);
  });

  it('a genesis without a docklock section (from before DockLock) writes nothing for it: its state root is unchanged, and the defaults apply', () => {
    const doc = stakingGenesis({ accounts: 6 });
    delete doc.modules.docklock;
    const c = new StakingChain(doc);
    expect(c.world.getRaw('docklock/params')).to.equal(undefined);
    expect(c.modules.docklock.query({ state: c.world, height: c.height }, 'params', {})).to.include({ maxRunFuel: '10000000', maxProgramBytes: String(30 * 1024) });
    const withSection = new DocklockChain();
    expect(withSection.world.getRaw('docklock/params')).to.not.equal(undefined);
  });

  it('two chains given the same transactions reach the same state root (the job’s receipt is part of it)', () => {
    const roots = [0, 1].map(() => {
      const c = new DocklockChain();
      ok(c.deploy(job('mandelbrot')));
      const input = Uint8Array.of(16, 0, 16, 0, 50, 0);
      ok(c.run(programId(job('mandelbrot')), input, 5_000_000).receipt);
      return toHex(c.world.root);
    });
    expect(roots[0]).to.equal(roots[1]);
  });
});
