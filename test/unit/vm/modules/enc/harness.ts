/**
 * A chain in miniature for the ENC tests: the real modules and state machine (StakingChain), the
 * example programs, and executors made of the real DockLock runtime and a node key, with what a
 * test needs to make one lie (a different output, signed) or break its hash chain.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ReceiptStatus, fromHex, moduleAddress, type Ed25519Key, type Receipt } from '../../../../../chain/index.js';
import { DocklockReceipt, ProgramCache, outputHash, programId, runJob } from '../../../../../docklock/index.js';
import { getNonce } from '../../../../../vm/index.js';
import { encodeDeploy } from '../../../../../vm/modules/docklock/index.js';
import { encJobSpec, encodeChallenge, encodeEmpty, encodeNodeTx, encodeReceiptTx, encodeSubmit, type JobRecord, type NodeArgs, type SubmitArgs } from '../../../../../vm/modules/enc/index.js';
import { accountKey, signedTx } from '../../../fixtures.js';
import { StakingChain, addressFromKey, stakingGenesis } from '../staking/harness.js';

const JOBS = new URL('../../../../../../examples/jobs/', import.meta.url);
export const jobWasm = (name: string) => new Uint8Array(readFileSync(new URL(`${name}.wasm`, JOBS)));
export const GEN = 1_000_000n;
export const NEX = 1_000_000n;
export const ENC_ACCOUNT = moduleAddress('enc');

/** Small windows, so that a test reaches leases, deadlines and settlements in a few blocks. */
export const TEST_PARAMS: Record<string, string> = { leaseBlocks: '3', challengeWindow: '2', jailBlocks: '5', unbondingBlocks: '4', minBond: String(100n * GEN), challengeBond: String(5n * NEX) };

export const node = (i: number) => accountKey(i);
export const defaultNode: NodeArgs = { slots: 2, memoryKiB: 32_768, price: 1n, bond: 1000n * GEN };

export class EncChain extends StakingChain {
  readonly cache = new ProgramCache(8);
  readonly lastReceipt = new Map<string, Uint8Array>();

  constructor(params: Record<string, string> = {}, accounts = 8) {
    const doc = stakingGenesis({ accounts });
    doc.modules.docklock = { params: {} };
    doc.modules.enc = { params: { ...TEST_PARAMS, ...params } };
    super(doc);
  }

  get enc() {
    return this.modules.enc;
  }

  etx(key: Ed25519Key, kind: string, payload: Uint8Array, ahead = 0) {
    return signedTx(key, { nonce: getNonce(this.world, addressFromKey(key)) + BigInt(ahead), kind, payload });
  }

  /** One transaction in a block of its own. */
  sendTx(key: Ed25519Key, kind: string, payload: Uint8Array): Receipt {
    return this.block([this.etx(key, kind, payload)]).receipts[0]!;
  }

  succeeds(r: Receipt): Receipt {
    expect(r.status, `${r.errorCode} ${r.errorMessage}`).to.equal(ReceiptStatus.Success);
    return r;
  }
  failsWith(r: Receipt, code: string): string {
    expect(r.status, `expected ${code}`).to.equal(ReceiptStatus.Failed);
    expect(r.errorCode, r.errorMessage).to.equal(code);
    return r.errorMessage;
  }

  deploy(code: Uint8Array, key = accountKey(0)): Uint8Array {
    this.succeeds(this.sendTx(key, 'docklock.deploy', encodeDeploy({ code })));
    return programId(code);
  }

  register(key: Ed25519Key, a: Partial<NodeArgs> = {}): Receipt {
    return this.sendTx(key, 'enc.register', encodeNodeTx({ ...defaultNode, ...a }));
  }

  submit(key: Ed25519Key, a: Partial<SubmitArgs> & { program: Uint8Array }): { receipt: Receipt; id: Uint8Array } {
    const tx = this.etx(key, 'enc.submit', encodeSubmit({ input: new Uint8Array(0), fuel: 1_000_000, maxPrice: 2n, replicas: 1, deadline: 20, ...a }));
    return { receipt: this.block([tx]).receipts[0]!, id: tx.hash() };
  }

  job(id: Uint8Array): JobRecord {
    return this.enc.job(this.world, id)!;
  }

  q<T>(path: string, params?: unknown): T {
    return this.enc.query({ state: this.world, height: this.height }, path, params) as T;
  }

  /**
   * What an honest executor hands in for `id`: the job run in DockLock, the receipt signed and
   * chained after the node's last accepted receipt (from the chain). `lie`: a different output,
   * its hash in the receipt, signed all the same.
   */
  work(id: Uint8Array, key: Ed25519Key, o: { lie?: Uint8Array; prev?: Uint8Array } = {}): { payload: Uint8Array; receipt: DocklockReceipt; output: Uint8Array } {
    const j = this.job(id);
    const code = this.modules.docklock.program(this.world, j.program)!.code;
    const program = this.cache.load(code);
    const run = runJob(program, encJobSpec({ id, ...j }));
    const output = o.lie ?? run.result.output;
    const unsigned = o.lie ? new DocklockReceipt({ ...run.receipt, outputHash: outputHash(o.lie), usage: { ...run.receipt.usage, outputBytes: o.lie.length } }) : run.receipt;
    const prev = o.prev ?? this.enc.node(this.world, addressFromKey(key))!.lastReceipt;
    const receipt = unsigned.sign(key, prev);
    return { payload: encodeReceiptTx({ job: id, receipt: receipt.serialize(), output }), receipt, output };
  }

  hand(id: Uint8Array, key: Ed25519Key, o: { lie?: Uint8Array; prev?: Uint8Array } = {}): Receipt {
    return this.sendTx(key, 'enc.receipt', this.work(id, key, o).payload);
  }

  challenge(key: Ed25519Key, id: Uint8Array, nodeAddress: Uint8Array): Receipt {
    return this.sendTx(key, 'enc.challenge', encodeChallenge({ job: id, node: nodeAddress }));
  }

  unregister(key: Ed25519Key): Receipt {
    return this.sendTx(key, 'enc.unregister', encodeEmpty());
  }

  encEvents(type: string): Record<string, string>[] {
    return this.blockEvents.flat().filter((e) => e.module === 'enc' && e.type === type).map((e) => Object.fromEntries(e.attributes));
  }

  /**
   * The ENC invariants: ENC's account holds exactly the escrow, reserves and challenge bonds (NEX)
   * and the bonds (GEN) its pool says; every asset's balances add up to its supply; no node's
   * capacity is oversubscribed.
   */
  checkEnc(): void {
    const pool = this.enc.pool(this.world);
    expect(this.nex(ENC_ACCOUNT), 'ENC NEX = escrow + reserves + challenge bonds').to.equal(pool.escrow + pool.reserves + pool.challengeBonds);
    expect(this.gen(ENC_ACCOUNT), 'ENC GEN = bonds').to.equal(pool.bonds);
    for (const a of ['GEN', 'NEX'] as const) expect(this.map.total(a), `${a} balances add up to the supply`).to.equal(this.modules.bank.supply(this.world, a));
    let bonds = 0n;
    let reserves = 0n;
    for (const c of this.enc.candidates(this.world, this.enc.params.get(this.world))) {
      expect(c.node.slotsUsed).to.be.within(0, c.node.slots);
      expect(c.node.memoryUsed).to.be.within(0, c.node.memoryKiB);
      expect(c.node.pending).to.be.at.least(0);
      bonds += c.node.bond;
      reserves += c.node.reserve;
    }
    expect(bonds, 'bonds = Σ node bonds').to.equal(pool.bonds);
    expect(reserves, 'reserves = Σ node reserves').to.equal(pool.reserves);
  }
}

export { addressFromKey, accountKey, fromHex };
