import { expect } from 'chai';
import fc from 'fast-check';
import { rlpEncode, toHex, utf8, type Transaction } from '../../../../chain/index.js';
import { Mempool, MempoolError, RejectReason, type MempoolOptions } from '../../../../consensus/mempool/index.js';
import { encodeTransfer } from '../../../../vm/modules/bank/index.js';
import {
  accountKey,
  addressOf,
  blockInfo,
  CHAIN_ID,
  genesisVm,
  MIN_FEE,
  signedTx,
  silentLogger,
  testGenesis,
  thrownBy,
  transferTx,
  validatorKey,
  withForeignSignature,
  type Balances,
  type TestVm,
} from '../../fixtures.js';

const RICH: Balances = { GEN: 1_000_000n, NEX: 1_000_000n };
/** Accounts 0-5 are rich, 6 can pay exactly 2 500 NEX of fees, 7 has nothing. */
const BALANCES: Balances[] = [RICH, RICH, RICH, RICH, RICH, RICH, { NEX: 2_500n }, {}];
const KEYS = BALANCES.map((_, i) => accountKey(i));
const [A, B, C, D, E] = KEYS as [typeof KEYS[0], typeof KEYS[0], typeof KEYS[0], typeof KEYS[0], typeof KEYS[0]];
const SIX = KEYS[6]!;
const SEVEN = KEYS[7]!;
const TO = addressOf(accountKey(50));
const PROPOSER = validatorKey(0).address;

interface Env {
  vm: TestVm;
  mp: Mempool;
  height: number;
  /** Executes `txs` as the next block, makes it the head and tells the mempool. */
  commit(txs: readonly Transaction[]): void;
}

function env(opts: Partial<MempoolOptions> = {}): Env {
  const vm = genesisVm(testGenesis({ balances: BALANCES }));
  const mp = new Mempool(opts, { chainId: CHAIN_ID, registry: vm.registry, fees: vm.bank, state: () => vm.world, logger: silentLogger() });
  const e: Env = {
    vm,
    mp,
    height: 0,
    commit(txs) {
      e.height++;
      const r = vm.sm.execute(vm.world, blockInfo(e.height, PROPOSER), txs);
      vm.world.apply(r.writes, r.tree, e.height);
      mp.update(txs);
    },
  };
  return e;
}

/** A GEN transfer; `tag` changes the amount so that otherwise equal transactions differ. */
function tx(key: typeof A, nonce: bigint, fee: bigint = MIN_FEE, tag = 1n): Transaction {
  return transferTx(key, nonce, TO, 'GEN', tag, { fee });
}

function rejection(fn: () => unknown): MempoolError {
  const e = thrownBy(fn);
  expect(e, String(e)).to.be.instanceOf(MempoolError);
  return e as MempoolError;
}

const hashes = (txs: readonly Transaction[]): string[] => txs.map((t) => toHex(t.hash()));

describe('consensus/mempool', () => {
  describe('admission refuses, with a reason,', () => {
    // A Record over RejectReason: adding a reason without a case here fails to compile. TX_NOT_STORED
    // comes from the node's intake (its journal could not be written), tested in test/unit/node.
    const cases: Record<Exclude<RejectReason, 'TX_NOT_STORED'>, { what: string; run: () => unknown; message: RegExp }> = {
      [RejectReason.Malformed]: {
        what: 'bytes that do not decode',
        run: () => env().mp.addRaw(utf8('definitely not a transaction')),
        message: /cannot decode transaction/,
      },
      [RejectReason.TooLarge]: {
        what: 'a transaction over maxTxBytes',
        run: () => env({ maxTxBytes: 100 }).mp.addRaw(tx(A, 0n).serialize()),
        message: /bytes; the limit is 100/,
      },
      [RejectReason.WrongChain]: {
        what: 'a transaction for another chain',
        run: () => env().mp.add(transferTx(A, 0n, TO, 'GEN', 1n, { chainId: 'other-chain' })),
        message: /for chain "other-chain"/,
      },
      [RejectReason.UnknownKind]: {
        what: 'a kind no module handles',
        run: () => env().mp.add(signedTx(A, { nonce: 0n, kind: 'bank.mint', payload: encodeTransfer({ to: TO, asset: 'GEN', amount: 1n }) })),
        message: /bank\.mint/,
      },
      [RejectReason.InvalidPayload]: {
        what: 'a payload the module refuses',
        run: () => env().mp.add(signedTx(A, { nonce: 0n, payload: rlpEncode([TO, utf8('GEN')]) })),
        message: /bad bank.transfer payload/,
      },
      [RejectReason.BadSignature]: {
        what: 'a signature that does not verify',
        run: () => env().mp.add(withForeignSignature(tx(A, 0n), B)),
        message: /signature does not verify/,
      },
      [RejectReason.Duplicate]: {
        what: 'a transaction already pending',
        run: () => {
          const e = env();
          e.mp.add(tx(A, 0n));
          e.mp.addRaw(tx(A, 0n).serialize());
        },
        message: /already in the mempool/,
      },
      [RejectReason.NonceTooLow]: {
        what: 'a nonce already used',
        run: () => {
          const e = env();
          e.commit([tx(A, 0n)]);
          e.mp.add(tx(A, 0n, MIN_FEE, 2n));
        },
        message: /nonce 0 is already used; the account's next nonce is 1/,
      },
      [RejectReason.NonceTooHigh]: {
        what: 'a nonce past maxNonceGap',
        run: () => {
          const e = env({ maxNonceGap: 4 });
          e.mp.add(tx(A, 4n)); // at the limit: fine
          e.mp.add(tx(A, 5n));
        },
        message: /too far ahead/,
      },
      [RejectReason.ReplacementUnderpriced]: {
        what: 'a replacement that does not pay more',
        run: () => {
          const e = env();
          e.mp.add(tx(A, 0n, 2_000n));
          e.mp.add(tx(A, 0n, 2_000n, 2n));
        },
        message: /higher fee than 2000/,
      },
      [RejectReason.FeeTooLow]: {
        what: 'a fee below the minimum',
        run: () => env().mp.add(tx(A, 0n, MIN_FEE - 1n)),
        message: /below the minimum 1000/,
      },
      [RejectReason.InsufficientFeeFunds]: {
        what: 'fees the sender cannot pay, counting its pending ones',
        run: () => {
          const e = env();
          e.mp.add(transferTx(SIX, 0n, TO, 'NEX', 1n));
          e.mp.add(transferTx(SIX, 1n, TO, 'NEX', 1n));
          e.mp.add(transferTx(SIX, 2n, TO, 'NEX', 1n));
        },
        message: /cannot pay this fee \(1000\) on top of its pending fees \(2000\)/,
      },
      [RejectReason.MempoolFull]: {
        what: 'a newcomer when the pool is full of better-paying transactions',
        run: () => {
          const e = env({ maxTxs: 2 });
          e.mp.add(tx(A, 0n, 3_000n));
          e.mp.add(tx(B, 0n, 4_000n));
          e.mp.add(tx(C, 0n, 2_000n));
        },
        message: /the mempool is full \(2 transactions\); pay a fee above 3000/,
      },
    };

    for (const [reason, c] of Object.entries(cases)) {
      it(`${reason}: ${c.what}`, () => {
        const limit = Error.stackTraceLimit;
        const err = rejection(c.run);
        expect(err.reason).to.equal(reason);
        expect(err.message).to.match(c.message);
        // An expected refusal: no stack trace is captured (its cost, per refusal, is a flood's), and the limit is left as it was.
        expect(err.stack).to.equal(`MempoolError: ${err.message}`);
        expect(Error.stackTraceLimit).to.equal(limit);
        expect(new Error('x').stack).to.match(/\n {4}at /);
      });
    }

    it('TX_TOO_LARGE through add() as well as addRaw()', () => {
      const { mp } = env({ maxTxBytes: 100 });
      expect(rejection(() => mp.add(tx(A, 0n))).reason).to.equal(RejectReason.TooLarge);
      expect(mp.size).to.equal(0);
    });

    it('a sender with no NEX at all cannot queue anything', () => {
      expect(rejection(() => env().mp.add(tx(SEVEN, 0n))).reason).to.equal(RejectReason.InsufficientFeeFunds);
    });

    it('a refused transaction leaves the pool as it was and does not notify', () => {
      const { mp } = env();
      let added = 0;
      mp.onAdded(() => added++);
      mp.add(tx(A, 0n));
      const before = { size: mp.size, bytes: mp.sizeBytes };
      rejection(() => mp.add(tx(A, 0n, MIN_FEE - 1n, 2n)));
      rejection(() => mp.add(withForeignSignature(tx(B, 0n), A)));
      expect({ size: mp.size, bytes: mp.sizeBytes }).to.deep.equal(before);
      expect(added).to.equal(1);
    });
  });

  describe('admission accepts', () => {
    it('a valid transaction: it is held, verified and counted', () => {
      const { mp } = env();
      const t = tx(A, 0n);
      expect(hashes([mp.addRaw(t.serialize())])).to.deep.equal(hashes([t]));
      expect(mp.size).to.equal(1);
      expect(mp.sizeBytes).to.equal(t.serialize().length);
      expect(mp.has(t.hash())).to.equal(true);
      expect(mp.isVerified(t)).to.equal(true);
      expect(mp.isVerified(tx(A, 0n, MIN_FEE, 2n))).to.equal(false);
    });

    it('a replacement that pays more, which takes the old one out', () => {
      const { mp } = env();
      const old = tx(A, 0n, 2_000n);
      const replacement = tx(A, 0n, 2_001n, 2n);
      mp.add(old);
      mp.add(replacement);
      expect(mp.size).to.equal(1);
      expect(mp.has(old.hash())).to.equal(false);
      expect(hashes(mp.reap(10, 1 << 20))).to.deep.equal(hashes([replacement]));
    });

    it('a replacement counts the fee it replaces, not both', () => {
      const { mp } = env();
      mp.add(transferTx(SIX, 0n, TO, 'NEX', 1n, { fee: 1_000n }));
      mp.add(transferTx(SIX, 1n, TO, 'NEX', 1n, { fee: 1_000n }));
      mp.add(transferTx(SIX, 1n, TO, 'NEX', 2n, { fee: 1_500n })); // 1 000 + 1 500 = the whole balance
      expect(rejection(() => mp.add(transferTx(SIX, 1n, TO, 'NEX', 3n, { fee: 1_501n }))).reason).to.equal(RejectReason.InsufficientFeeFunds);
      expect(mp.size).to.equal(2);
    });

    it('a replacement when the pool is full (it takes no new room)', () => {
      const { mp } = env({ maxTxs: 2 });
      mp.add(tx(A, 0n, 5_000n));
      mp.add(tx(B, 0n, 1_000n));
      mp.add(tx(B, 0n, 1_100n, 2n));
      expect(mp.size).to.equal(2);
    });
  });

  describe('when full', () => {
    it('evicts the lowest-fee transaction for a newcomer that pays more', () => {
      const { mp } = env({ maxTxs: 3 });
      const low = tx(A, 0n, 1_000n);
      mp.add(low);
      mp.add(tx(B, 0n, 3_000n));
      mp.add(tx(C, 0n, 2_000n));
      const newcomer = tx(D, 0n, 1_500n);
      mp.add(newcomer);
      expect(mp.size).to.equal(3);
      expect(mp.has(low.hash())).to.equal(false);
      expect(mp.has(newcomer.hash())).to.equal(true);
      // Now the cheapest is 1 500: paying the same is not enough.
      const err = rejection(() => mp.add(tx(E, 0n, 1_500n)));
      expect(err.reason).to.equal(RejectReason.MempoolFull);
      expect(mp.size).to.equal(3);
    });

    it("evicts a sender's last nonce, never one that later nonces depend on", () => {
      const { mp } = env({ maxTxs: 3 });
      const head = tx(A, 0n, 1_000n);
      const tail = tx(A, 1n, 1_200n);
      mp.add(head);
      mp.add(tail);
      mp.add(tx(B, 0n, 3_000n));
      mp.add(tx(C, 0n, 2_000n));
      expect(mp.has(tail.hash()), 'the tail goes, though the head pays less').to.equal(false);
      expect(mp.has(head.hash())).to.equal(true);
    });

    it("does not evict the newcomer's own predecessor to make room for it", () => {
      const { mp } = env({ maxTxs: 3 });
      const head = tx(A, 0n, 1_000n);
      mp.add(head);
      mp.add(tx(B, 0n, 3_000n));
      mp.add(tx(C, 0n, 3_000n));
      // Evicting A0 would leave A1 behind a nonce gap: it could never be included.
      const err = rejection(() => mp.add(tx(A, 1n, 2_000n)));
      expect(err.reason).to.equal(RejectReason.MempoolFull);
      expect(mp.has(head.hash())).to.equal(true);
      expect(hashes(mp.reap(10, 1 << 20))).to.have.length(3);
    });

    it('counts bytes as well as transactions', () => {
      const size = tx(A, 0n).serialize().length;
      const { mp } = env({ maxBytes: 2 * size });
      mp.add(tx(A, 0n, 1_000n));
      mp.add(tx(B, 0n, 2_000n));
      expect(rejection(() => mp.add(tx(C, 0n, 1_000n))).reason).to.equal(RejectReason.MempoolFull);
      mp.add(tx(C, 0n, 1_001n));
      expect(mp.size).to.equal(2);
      expect(mp.sizeBytes).to.equal(2 * size);
    });
  });

  describe('reap', () => {
    it('takes higher fees first across senders, arrival order among equal fees', () => {
      const { mp } = env();
      const txs = [tx(A, 0n, 1_000n), tx(B, 0n, 3_000n), tx(C, 0n, 2_000n), tx(D, 0n, 2_000n)];
      txs.forEach((t) => mp.add(t));
      expect(hashes(mp.reap(10, 1 << 20))).to.deep.equal(hashes([txs[1]!, txs[2]!, txs[3]!, txs[0]!]));
    });

    it("keeps each sender's nonce order, whatever the later nonces pay", () => {
      const { mp } = env();
      const a = [tx(A, 0n, 1_000n), tx(A, 1n, 5_000n), tx(A, 2n, 9_000n)];
      const b0 = tx(B, 0n, 3_000n);
      [a[2]!, a[0]!, b0, a[1]!].forEach((t) => mp.add(t));
      expect(hashes(mp.reap(10, 1 << 20))).to.deep.equal(hashes([b0, a[0]!, a[1]!, a[2]!]));
    });

    it('stops a sender at a nonce gap, and skips a sender whose next nonce is missing', () => {
      const { mp } = env();
      const a = [tx(A, 0n), tx(A, 1n), tx(A, 3n)];
      a.forEach((t) => mp.add(t));
      mp.add(tx(B, 1n));
      expect(hashes(mp.reap(10, 1 << 20))).to.deep.equal(hashes([a[0]!, a[1]!]));
      expect(mp.size, 'reap does not remove').to.equal(4);
    });

    it('respects maxTxs and maxBytes', () => {
      const { mp } = env();
      const txs = [tx(A, 0n, 4_000n), tx(B, 0n, 3_000n), tx(C, 0n, 2_000n)];
      txs.forEach((t) => mp.add(t));
      expect(hashes(mp.reap(2, 1 << 20))).to.deep.equal(hashes(txs.slice(0, 2)));
      const size = txs[0]!.serialize().length;
      expect(hashes(mp.reap(10, 2 * size + 1))).to.deep.equal(hashes(txs.slice(0, 2)));
      expect(mp.reap(10, size - 1)).to.deep.equal([]);
      expect(mp.reap(0, 1 << 20)).to.deep.equal([]);
    });

    it('gives what a block can hold: per-sender contiguous, fee-greedy, and executable without exclusions (property)', () => {
      const txArb = fc.record({ sender: fc.nat({ max: 3 }), nonce: fc.nat({ max: 5 }), fee: fc.bigInt({ min: 900n, max: 5_000n }), tag: fc.bigInt({ min: 1n, max: 3n }) });
      fc.assert(
        fc.property(fc.array(txArb, { maxLength: 25 }), (specs) => {
          const e = env();
          for (const s of specs) {
            try {
              e.mp.add(tx(KEYS[s.sender]!, BigInt(s.nonce), s.fee, s.tag));
            } catch (err) {
              if (!(err instanceof MempoolError)) throw err;
            }
          }
          const reaped = e.mp.reap(1_000, 1 << 24);
          // Per sender: nonces 0, 1, 2… in order, stopping at the first gap in the pool.
          const pending = new Map<string, Map<bigint, Transaction>>();
          for (const s of specs) {
            const t = tx(KEYS[s.sender]!, BigInt(s.nonce), s.fee, s.tag);
            if (!e.mp.has(t.hash())) continue;
            const k = toHex(t.from());
            if (!pending.has(k)) pending.set(k, new Map());
            pending.get(k)!.set(t.nonce, t);
          }
          const next = new Map<string, bigint>();
          for (const t of reaped) {
            const k = toHex(t.from());
            const n = next.get(k) ?? 0n;
            expect(t.nonce).to.equal(n);
            expect(e.mp.has(t.hash())).to.equal(true);
            // Greedy: no other sender's executable head paid more.
            for (const [other, q] of pending) {
              const head = q.get(next.get(other) ?? 0n);
              if (head && other !== k) expect(head.fee <= t.fee, 'a better-paying head was waiting').to.equal(true);
            }
            next.set(k, n + 1n);
          }
          for (const [k, q] of pending) {
            let n = 0n;
            while (q.has(n)) n++;
            expect(next.get(k) ?? 0n, 'every executable transaction is reaped').to.equal(n);
          }
          const built = e.vm.sm.build(e.vm.world, blockInfo(1, PROPOSER), reaped, { isVerified: e.mp.isVerified });
          expect(built.excluded).to.deep.equal([]);
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('update after a commit', () => {
    it('removes the included transactions and keeps the rest executable', () => {
      const e = env();
      const a = [tx(A, 0n), tx(A, 1n), tx(A, 2n)];
      const b0 = tx(B, 0n);
      [...a, b0].forEach((t) => e.mp.add(t));
      e.commit([a[0]!, a[1]!]);
      expect(e.mp.size).to.equal(2);
      expect(e.mp.has(a[0]!.hash())).to.equal(false);
      expect(e.mp.sizeBytes).to.equal(a[2]!.serialize().length + b0.serialize().length);
      expect(hashes(e.mp.reap(10, 1 << 20))).to.have.members(hashes([a[2]!, b0]));
    });

    it('drops transactions made stale by a nonce used in a block it did not know', () => {
      const e = env();
      const mine = [tx(A, 0n), tx(A, 1n)];
      mine.forEach((t) => e.mp.add(t));
      const theirs = tx(A, 0n, 7_000n, 9n); // same nonce, another transaction, from another proposer's block
      e.commit([theirs]);
      expect(e.mp.has(mine[0]!.hash())).to.equal(false);
      expect(hashes(e.mp.reap(10, 1 << 20))).to.deep.equal(hashes([mine[1]!]));
    });

    it('ignores transactions it never held and senders it has nothing from', () => {
      const e = env();
      const b0 = tx(B, 0n);
      e.mp.add(b0);
      e.commit([tx(C, 0n)]);
      expect(e.mp.size).to.equal(1);
      expect(hashes(e.mp.reap(10, 1 << 20))).to.deep.equal(hashes([b0]));
    });

    it('evict removes a transaction and the later nonces of its sender', () => {
      const { mp } = env();
      const a = [tx(A, 0n), tx(A, 1n), tx(A, 2n)];
      a.forEach((t) => mp.add(t));
      mp.add(tx(B, 0n));
      mp.evict(a[1]!);
      expect(mp.size).to.equal(2);
      expect(mp.has(a[0]!.hash())).to.equal(true);
      expect(mp.has(a[2]!.hash())).to.equal(false);
      mp.evict(tx(C, 0n)); // nothing from C: a no-op
      expect(mp.size).to.equal(2);
    });

    it('frees the fee budget of removed transactions', () => {
      const e = env();
      e.mp.add(transferTx(SIX, 0n, TO, 'GEN', 1n));
      e.mp.add(transferTx(SIX, 1n, TO, 'GEN', 1n));
      e.mp.evict(transferTx(SIX, 1n, TO, 'GEN', 1n));
      e.mp.add(transferTx(SIX, 1n, TO, 'GEN', 2n, { fee: 1_500n }));
      expect(e.mp.size).to.equal(2);
    });
  });
});
