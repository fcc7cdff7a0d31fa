import { expect } from 'chai';
import { Ed25519Key, addressFromPublicKey, rlpEncode, toHex, type RlpInput } from '../../../chain/index.js';
import {
  DocklockError,
  DocklockErrorCode,
  DocklockReceipt,
  JobStatus,
  RECEIPT_VERSION,
  decodeReceipt,
  loadProgram,
  parseReceipt,
  runJob,
  verifyReceipt,
  type LoadedProgram,
  type ReceiptFields,
} from '../../../docklock/index.js';
import { IMPORTS, spec, wat } from './helpers.js';

const KEY = Ed25519Key.fromSecret(new Uint8Array(32).fill(7));
const OTHER = Ed25519Key.fromSecret(new Uint8Array(32).fill(8));
const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const EMPTY = new Uint8Array(0);

/** A receipt with every field fixed (unsigned). */
const FIELDS: ReceiptFields = {
  jobId: fill(32, 0x01),
  programHash: fill(32, 0x02),
  inputHash: fill(32, 0x03),
  fuelLimit: 1_000_000,
  fuelUsed: 12_345,
  clock: 1_700_000_000_000n,
  status: JobStatus.Trap,
  trap: 'divide_by_zero',
  outputHash: fill(32, 0x04),
  witnessRoot: fill(32, 0x05),
  usage: { memoryPages: 1, hostCalls: 3, outputBytes: 32, logBytes: 7 },
  caps: { fuelCap: 10_000_000, maxInputBytes: 16_384, maxOutputBytes: 16_384, maxLogBytes: 16_384, maxLogLines: 256 },
  executor: EMPTY,
  prev: EMPTY,
  signature: EMPTY,
};
const PREV = fill(32, 0x06);
const unsigned = () => new DocklockReceipt(FIELDS);
const signed = () => unsigned().sign(KEY, PREV);

/** The RLP items of a receipt, in order, to re-encode with one of them wrong. */
function items(r: DocklockReceipt): RlpInput[] {
  const u = r.usage;
  const c = r.caps;
  return [RECEIPT_VERSION, r.jobId, r.programHash, r.inputHash, r.fuelLimit, r.fuelUsed, r.clock, r.status, r.trap, r.outputHash, r.witnessRoot, [u.memoryPages, u.hostCalls, u.outputBytes, u.logBytes], [c.fuelCap, c.maxInputBytes, c.maxOutputBytes, c.maxLogBytes, c.maxLogLines], r.executor, r.prev, r.signature];
}
const encodeWith = (r: DocklockReceipt, i: number, v: RlpInput) => rlpEncode(items(r).map((x, k) => (k === i ? v : x)));

function decodeError(bytes: Uint8Array): DocklockError {
  try {
    decodeReceipt(bytes);
  } catch (e) {
    expect(e).to.be.instanceOf(DocklockError);
    expect((e as DocklockError).code).to.equal(DocklockErrorCode.BadReceipt);
    return e as DocklockError;
  }
  throw new Error('decoded');
}

describe('docklock/receipt', () => {
  describe('golden vectors', () => {
    // Computed once from the fields above with this implementation (after the fix of the cached
    // hash, see 'sign() after hash()' below) and pasted here: a change of the encoding, the hash
    // tag or the signing must show up as a failure of these, on purpose.
    const UNSIGNED_HEX =
      '0xf8dd01a00101010101010101010101010101010101010101010101010101010101010101a00202020202020202020202020202020202020202020202020202020202020202' +
      'a00303030303030303030303030303030303030303030303030303030303030303830f424082303986018bcfe56800018e6469766964655f62795f7a65726f' +
      'a00404040404040404040404040404040404040404040404040404040404040404a00505050505050505050505050505050505050505050505050505050505050505' +
      'c401032007' +
      // caps: [10,000,000, 16,384, 16,384, 16,384, 256]
      'd083989680824000824000824000820100' +
      '808080';
    const UNSIGNED_HASH = '0x3f4a2f982b1d1100fb78ea3c777a46cb33c7e6596b44ec67e8328c75074bd56e';
    const SIGNED_HEX =
      '0xf9015e01a00101010101010101010101010101010101010101010101010101010101010101a00202020202020202020202020202020202020202020202020202020202020202' +
      'a00303030303030303030303030303030303030303030303030303030303030303830f424082303986018bcfe56800018e6469766964655f62795f7a65726f' +
      'a00404040404040404040404040404040404040404040404040404040404040404a00505050505050505050505050505050505050505050505050505050505050505' +
      'c401032007' +
      'd083989680824000824000824000820100' +
      // executor: the public key of the secret 07…07
      'a0ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c' +
      // prev
      'a00606060606060606060606060606060606060606060606060606060606060606' +
      // signature (Ed25519 is deterministic)
      'b8407621582254ca06f05a0e52a533109b985ab25c4785aa90c19cb366a8deadb103f60f8b660ff75b5bca7c6703556aae15254e3a30b2dce9c3cdc0a144ad8c9b0e';
    const SIGNED_HASH = '0x9019cbdaeb07de83a90377f26684c64dbe3ad671fb9c86bda0929b387ee6509e';

    it('an unsigned receipt serializes and hashes to fixed bytes', () => {
      const r = unsigned();
      expect(toHex(r.serialize())).to.equal(UNSIGNED_HEX);
      expect(toHex(r.hash())).to.equal(UNSIGNED_HASH);
    });

    it('signed by the fixed key after a fixed previous receipt, it serializes and hashes to fixed bytes', () => {
      const r = signed();
      expect(toHex(r.executor)).to.equal(toHex(KEY.publicKey));
      expect(toHex(r.serialize())).to.equal(SIGNED_HEX);
      expect(toHex(r.hash())).to.equal(SIGNED_HASH);
    });

    it('the hash does not cover the signature, and the JSON form carries the canonical bytes', () => {
      const r = signed();
      const j = r.toJson();
      expect(j.hash).to.equal(toHex(r.hash()));
      expect(j.bytes).to.equal(toHex(r.serialize()));
      expect(j.status).to.equal('trap');
      expect(j.clock).to.equal('1700000000000');
      expect(j.executorKey).to.equal(toHex(KEY.publicKey));
      expect(j.prev).to.equal(toHex(PREV));
      expect(toHex(r.executorAddress!)).to.equal(toHex(addressFromPublicKey(KEY.publicKey)));
      expect(unsigned().executorAddress).to.equal(undefined);
      expect(unsigned().toJson()).to.include({ executor: null, executorKey: null, prev: null, signature: null });
    });
  });

  describe('decoding', () => {
    it('decode(serialize(r)) gives r back, signed or not, and parseReceipt reads hex and JSON', () => {
      for (const r of [unsigned(), signed(), unsigned().sign(KEY)]) {
        const back = decodeReceipt(r.serialize());
        expect(toHex(back.serialize())).to.equal(toHex(r.serialize()));
        expect(back.toJson()).to.deep.equal(r.toJson());
        expect(toHex(parseReceipt(toHex(r.serialize())).hash())).to.equal(toHex(r.hash()));
        expect(toHex(parseReceipt(JSON.stringify(r.toJson())).hash())).to.equal(toHex(r.hash()));
        expect(toHex(parseReceipt(JSON.stringify({ receipt: r.toJson() })).hash())).to.equal(toHex(r.hash()));
      }
    });

    it('round-trips the extremes: clock 0 and 2^64-1, fuel 2^53-1, every status', () => {
      for (const clock of [0n, 2n ** 64n - 1n])
        for (const status of Object.values(JobStatus)) {
          const r = new DocklockReceipt({ ...FIELDS, clock, status, fuelLimit: Number.MAX_SAFE_INTEGER, fuelUsed: Number.MAX_SAFE_INTEGER });
          expect(decodeReceipt(r.serialize()).toJson()).to.deep.equal(r.toJson());
        }
    });

    it('refuses a wrong field count', () => {
      const r = unsigned();
      expect(decodeError(rlpEncode(items(r).slice(0, 15))).message).to.match(/docklock receipt/);
      expect(decodeError(rlpEncode([...items(r), EMPTY])).message).to.match(/docklock receipt/);
      expect(decodeError(encodeWith(r, 11, [1, 2, 3])).message).to.match(/receipt usage/);
    });

    it('refuses a non-canonical integer (a leading zero byte)', () => {
      const r = unsigned();
      expect(decodeError(encodeWith(r, 4, Uint8Array.of(0x00, 0x0f, 0x42, 0x40))).message).to.match(/fuelLimit/);
      expect(decodeError(encodeWith(r, 6, Uint8Array.of(0x00, 0x01))).message).to.match(/clock/);
      expect(decodeError(encodeWith(r, 11, [Uint8Array.of(0, 1), 3, 32, 7])).message).to.match(/usage\[0\]/);
    });

    it('refuses another version', () => {
      expect(decodeError(encodeWith(unsigned(), 0, 2)).message).to.equal(`receipt version 2 is not ${RECEIPT_VERSION}`);
      expect(decodeError(encodeWith(unsigned(), 0, 0)).message).to.match(/version 0/);
    });

    it('refuses wrong lengths', () => {
      const r = signed();
      expect(decodeError(encodeWith(r, 1, fill(31, 1))).message).to.match(/jobId/);
      expect(decodeError(encodeWith(r, 2, fill(33, 2))).message).to.match(/programHash/);
      expect(decodeError(encodeWith(r, 9, EMPTY)).message).to.match(/outputHash/);
      expect(decodeError(encodeWith(r, 12, [1, 2, 3, 4])).message).to.match(/receipt caps/);
      expect(decodeError(encodeWith(r, 13, fill(33, 9))).message).to.match(/executor/);
      expect(decodeError(encodeWith(r, 14, fill(31, 9))).message).to.match(/prev/);
      expect(decodeError(encodeWith(r, 15, fill(63, 9))).message).to.match(/signature/);
      expect(decodeError(encodeWith(r, 6, fill(9, 1))).message).to.match(/clock must be a u64/);
    });

    it('refuses an executor without a signature, a signature without an executor, and an unsigned receipt naming a previous one', () => {
      const s = signed();
      expect(decodeError(encodeWith(s, 15, EMPTY)).message).to.match(/both an executor and a signature, or neither/);
      expect(decodeError(encodeWith(encodeless(s), 15, s.signature)).message).to.match(/both an executor and a signature, or neither/);
      expect(decodeError(encodeWith(unsigned(), 14, PREV)).message).to.match(/unsigned receipt names no previous receipt/);
    });

    it('refuses an unknown status, fuelUsed over fuelLimit, a long trap, trailing bytes and non-RLP', () => {
      const r = unsigned();
      expect(decodeError(encodeWith(r, 7, 6)).message).to.match(/status 6 is unknown/);
      expect(decodeError(encodeWith(r, 5, 1_000_001)).message).to.match(/fuelUsed exceeds fuelLimit/);
      expect(decodeError(encodeWith(r, 8, 'x'.repeat(65))).message).to.match(/trap/);
      expect(decodeError(new Uint8Array([...r.serialize(), 0])).message).to.match(/not a DockLock receipt/);
      expect(decodeError(Uint8Array.of(0x01, 0x02)).message).to.match(/not a DockLock receipt/);
      expect(() => parseReceipt('{"nope": 1}')).to.throw(DocklockError, /has no "bytes"/);
      expect(() => parseReceipt('{not json')).to.throw(DocklockError, /neither hex nor JSON/);
    });
  });

  describe('signatures', () => {
    it('sign / verifySignature: the executor\'s key over hash()', () => {
      const r = signed();
      expect(r.signed).to.equal(true);
      expect(r.verifySignature()).to.equal(true);
      expect(toHex(r.prev)).to.equal(toHex(PREV));
      expect(unsigned().verifySignature()).to.equal(false);
      expect(unsigned().sign(KEY).prev).to.have.length(0);
      // Signing again (another key, another prev) replaces executor, prev and signature.
      const again = r.sign(OTHER);
      expect(toHex(again.executor)).to.equal(toHex(OTHER.publicKey));
      expect(again.verifySignature()).to.equal(true);
    });

    it('sign() after hash() or toJson() signs the new hash (regression: the cached hash was copied)', () => {
      const r = unsigned();
      r.toJson(); // computes and caches r.hash()
      const s = r.sign(KEY, PREV);
      expect(toHex(s.hash())).to.not.equal(toHex(r.hash()));
      expect(toHex(s.hash())).to.equal(toHex(decodeReceipt(s.serialize()).hash()));
      expect(decodeReceipt(s.serialize()).verifySignature()).to.equal(true);
      expect(toHex(s.serialize())).to.equal(toHex(signed().serialize()));
    });

    it('a copy with an altered field has its own hash, not the original\'s cached one', () => {
      const r = signed();
      r.hash();
      const copy = new DocklockReceipt({ ...r, fuelUsed: 1 });
      expect(toHex(copy.hash())).to.equal(toHex(decodeReceipt(copy.serialize()).hash()));
      expect(toHex(copy.hash())).to.not.equal(toHex(r.hash()));
    });

    it('any single altered field makes verifySignature false', () => {
      const r = signed();
      const altered: Partial<ReceiptFields>[] = [
        { jobId: fill(32, 0x09) },
        { programHash: fill(32, 0x09) },
        { inputHash: fill(32, 0x09) },
        { fuelLimit: FIELDS.fuelLimit + 1 },
        { fuelUsed: FIELDS.fuelUsed - 1 },
        { clock: FIELDS.clock + 1n },
        { status: JobStatus.Ok },
        { trap: 'unreachable' },
        { outputHash: fill(32, 0x09) },
        { witnessRoot: fill(32, 0x09) },
        { usage: { ...FIELDS.usage, memoryPages: 2 } },
        { usage: { ...FIELDS.usage, hostCalls: 4 } },
        { usage: { ...FIELDS.usage, outputBytes: 33 } },
        { usage: { ...FIELDS.usage, logBytes: 8 } },
        { executor: OTHER.publicKey },
        { prev: fill(32, 0x09) },
        { prev: EMPTY },
        { signature: r.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) },
      ];
      for (const a of altered) {
        const x = new DocklockReceipt({ ...r, ...a });
        expect(x.verifySignature(), JSON.stringify(Object.keys(a))).to.equal(false);
        // And through the wire form.
        expect(decodeReceipt(x.serialize()).verifySignature(), JSON.stringify(Object.keys(a))).to.equal(false);
      }
    });
  });

  describe('verifyReceipt', () => {
    let program: LoadedProgram;
    const input = new TextEncoder().encode('verify me');
    const jobSpec = () => spec({ input, fuel: 1_000_000 });

    before(async () => {
      // Writes the input back, logs it, and traps (divide by zero) when the input is empty.
      program = loadProgram(
        await wat(`(module ${IMPORTS} (memory 1)
          (func (export "run") (local $n i32)
            (local.set $n (call $input_size))
            (drop (call $input_read (i32.const 0) (i32.const 0) (local.get $n)))
            (call $output_write (i32.const 0) (local.get $n))
            (call $log (i32.const 0) (local.get $n))
            (drop (i32.div_u (i32.const 1) (local.get $n)))))`),
      );
    });

    it('an honest receipt matches, signed (valid) or not (unsigned)', () => {
      const { receipt } = runJob(program, jobSpec());
      const v = verifyReceipt(receipt, program, input);
      expect(v).to.include({ match: true, signature: 'unsigned' });
      expect(v.differences).to.deep.equal([]);
      const s = verifyReceipt(receipt.sign(KEY, PREV), program, input);
      expect(s).to.include({ match: true, signature: 'valid' });
      expect(toHex(s.actual.hash())).to.equal(toHex(receipt.hash()));
    });

    it('an honest receipt of a trap matches too', () => {
      const { receipt } = runJob(program, spec({ input: EMPTY, fuel: 1_000_000 }));
      expect(receipt.status).to.equal(JobStatus.Trap);
      expect(verifyReceipt(receipt.sign(KEY), program, EMPTY).match).to.equal(true);
    });

    it('a lie in one result field lists exactly that field, even when the liar signs it', () => {
      const { receipt } = runJob(program, jobSpec());
      const lies: [string, Partial<ReceiptFields>][] = [
        ['outputHash', { outputHash: fill(32, 0xee) }],
        ['fuelUsed', { fuelUsed: receipt.fuelUsed - 1 }],
        ['status', { status: JobStatus.OutOfFuel }],
        ['trap', { trap: 'unreachable' }],
        ['witnessRoot', { witnessRoot: fill(32, 0xee) }],
        ['usage', { usage: { ...receipt.usage, hostCalls: receipt.usage.hostCalls + 1 } }],
      ];
      for (const [field, lie] of lies) {
        const claimed = new DocklockReceipt({ ...receipt, ...lie }).sign(KEY);
        const v = verifyReceipt(claimed, program, input);
        expect(v.match, field).to.equal(false);
        expect(v.signature, field).to.equal('valid');
        expect(v.differences.map((d) => d.field), field).to.deep.equal([field]);
        expect(v.differences[0]!.claimed, field).to.not.equal(v.differences[0]!.actual);
      }
    });

    it('another input gives inputHash (and what it changes) as the differences', () => {
      const { receipt } = runJob(program, jobSpec());
      const v = verifyReceipt(receipt, program, new TextEncoder().encode('verify mE'));
      expect(v.match).to.equal(false);
      expect(v.differences.map((d) => d.field)).to.include.members(['inputHash', 'outputHash']);
    });

    it('a forged signature is invalid, the only difference', () => {
      const s = runJob(program, jobSpec()).receipt.sign(KEY);
      // OTHER's signature over the right hash, claimed under KEY's name.
      const forged = new DocklockReceipt({ ...s, signature: OTHER.sign(s.hash()) });
      const v = verifyReceipt(forged, program, input);
      expect(v).to.include({ match: false, signature: 'invalid' });
      expect(v.differences.map((d) => d.field)).to.deep.equal(['signature']);
    });
  });
});

/** The receipt with its executor removed (but its signature kept), for an encoding that must be refused. */
function encodeless(s: DocklockReceipt): DocklockReceipt {
  return new DocklockReceipt({ ...s, executor: EMPTY, prev: EMPTY, signature: EMPTY });
}
