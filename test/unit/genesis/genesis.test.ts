import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addressFromPublicKey, EMPTY_MERKLE_ROOT, formatAddress, parseAddress, toHex } from '../../../chain/index.js';
import {
  buildGenesis,
  devAccounts,
  genesisHeader,
  genesisTimestamp,
  genesisValidatorSet,
  GenesisError,
  GenesisErrorCode,
  genesisFileDigest,
  loadGenesisFile,
  readGenesisFile,
  topLevelValueSpan,
  validateGenesis,
  type GenesisDoc,
} from '../../../genesis/index.js';
import { createModules } from '../../../vm/modules/index.js';
import { expectRejectsCode, expectThrowsCode, GENESIS_TIME, removeDir, tempDir, testGenesis, validatorKey } from '../fixtures.js';

const { bank, consensus } = createModules();
const MODULES = [bank, consensus];
const V0 = validatorKey(0);
const V1 = validatorKey(1);

/** A valid document: two validators, three funded accounts. */
function valid(): GenesisDoc {
  return testGenesis({ validators: [V0, V1], accounts: 3 });
}

type Json = Record<string, unknown> & { validators: Record<string, unknown>[]; modules: Record<string, unknown> };
type BankJson = { assets: Record<string, Record<string, unknown>>; minFee: unknown; balances: { address: string; amounts: Record<string, unknown> }[] };

/** A deep copy of a valid document, changed by `edit`. */
function edited(edit: (doc: Json, bankSection: BankJson) => void): unknown {
  const doc = structuredClone(valid()) as unknown as Json;
  edit(doc, doc.modules.bank as BankJson);
  return doc;
}

function problemsOf(doc: unknown): string[] {
  const err = expectThrowsCode(() => validateGenesis(doc, MODULES), GenesisError, GenesisErrorCode.Invalid);
  expect(err.problems.length).to.be.greaterThan(0);
  // The message names every problem.
  for (const p of err.problems) expect(err.message).to.contain(p);
  return err.problems;
}

/** Flips one data character of a bech32m address: the checksum no longer matches. */
function typo(address: string): string {
  const i = address.length - 10;
  const c = address[i] === 'q' ? 'p' : 'q';
  return address.slice(0, i) + c + address.slice(i + 1);
}

describe('genesis', () => {
  describe('validateGenesis', () => {
    it('accepts a valid document, as built and after a JSON round trip', () => {
      const doc = valid();
      expect(validateGenesis(doc, MODULES)).to.deep.equal(doc);
      expect(validateGenesis(JSON.parse(JSON.stringify(doc)), MODULES)).to.deep.equal(doc);
    });

    const cases: { what: string; doc: () => unknown; problem: RegExp }[] = [
      { what: 'a chain id with capitals and an underscore', doc: () => edited((d) => (d.chainId = 'Metanode_Test')), problem: /^chainId: chainId must be 1-63 lowercase letters/ },
      { what: 'an empty chain id', doc: () => edited((d) => (d.chainId = '')), problem: /^chainId: / },
      { what: 'a chain id of 64 characters', doc: () => edited((d) => (d.chainId = 'a'.repeat(64))), problem: /^chainId: / },
      { what: 'an address with a bad checksum', doc: () => edited((d) => (d.validators[1]!.address = typo(d.validators[1]!.address as string))), problem: /^validators\.1\.address: .*bad checksum/ },
      { what: 'an address that is not an mn1 address', doc: () => edited((d) => (d.validators[0]!.address = 'cosmos1xyz')), problem: /^validators\.0\.address: address must start with "mn1"/ },
      {
        what: 'an address that does not belong to the public key',
        doc: () => edited((d) => (d.validators[0]!.address = formatAddress(addressFromPublicKey(validatorKey(7).ed25519.publicKey)))),
        problem: /^validators\.0\.address: address does not belong to publicKey$/,
      },
      { what: 'a BLS key that is not a curve point', doc: () => edited((d) => (d.validators[0]!.blsPublicKey = '0x' + '11'.repeat(48))), problem: /^validators\.0\.blsPublicKey: not a valid BLS12-381 public key$/ },
      { what: 'the BLS point at infinity', doc: () => edited((d) => (d.validators[0]!.blsPublicKey = '0xc0' + '00'.repeat(47))), problem: /^validators\.0\.blsPublicKey: not a valid BLS12-381 public key$/ },
      { what: 'a BLS key of the wrong length', doc: () => edited((d) => (d.validators[0]!.blsPublicKey = '0x' + 'ab'.repeat(32))), problem: /^validators\.0\.blsPublicKey: blsPublicKey .*must be 0x \+ 96 lowercase hex digits/ },
      {
        what: "a proof of possession made by another validator's BLS key (a rogue-key attempt)",
        doc: () => edited((d) => (d.validators[0]!.blsProofOfPossession = toHex(V1.bls.proofOfPossession()))),
        problem: /^validators\.0\.blsProofOfPossession: does not prove possession of blsPublicKey/,
      },
      {
        what: 'a BLS key whose proof of possession is missing',
        doc: () => edited((d) => delete d.validators[0]!.blsProofOfPossession),
        problem: /^validators\.0\.blsProofOfPossession: /,
      },
      { what: 'an uppercase-hex public key', doc: () => edited((d) => (d.validators[0]!.publicKey = (d.validators[0]!.publicKey as string).toUpperCase().replace('0X', '0x'))), problem: /^validators\.0\.publicKey: / },
      { what: 'a duplicate validator', doc: () => edited((d) => d.validators.push({ ...d.validators[0]!, name: 'again' })), problem: /^validators\.2\.address: duplicate validator$/ },
      {
        what: 'a duplicate validator spelled in capitals',
        doc: () => edited((d) => d.validators.push({ ...d.validators[0]!, name: 'again', address: (d.validators[0]!.address as string).toUpperCase() })),
        problem: /^validators\.2\.address: duplicate validator$/,
      },
      { what: 'a validator power of zero', doc: () => edited((d) => (d.validators[0]!.power = '0')), problem: /^validators\.0\.power: power must be a positive decimal string$/ },
      { what: 'no validators', doc: () => edited((d) => (d.validators = [])), problem: /^validators: at least one validator is needed$/ },
      { what: 'an unknown field in a validator', doc: () => edited((d) => (d.validators[0]!.stake = '5')), problem: /^validators\.0: .*stake/ },
      { what: 'a genesis time that is not ISO-8601 UTC', doc: () => edited((d) => (d.genesisTime = '1 January 2026')), problem: /^genesisTime: genesisTime must be an ISO-8601 UTC time/ },
      { what: 'an unknown top-level field', doc: () => edited((d) => (d.extra = true)), problem: /^\(root\): .*extra/ },
      { what: 'an unknown module', doc: () => edited((d) => (d.modules.court = {})), problem: /^modules\.court: no such module \(known: bank, consensus\)$/ },
      { what: 'no bank section', doc: () => edited((d) => delete d.modules.bank), problem: /^modules\.bank: / },
      { what: 'an amount given as a number', doc: () => edited((_, b) => (b.balances[0]!.amounts.GEN = 1000)), problem: /^modules\.bank\.balances\.0\.amounts\.GEN: / },
      { what: 'an amount with a decimal point', doc: () => edited((_, b) => (b.balances[1]!.amounts.NEX = '1.5')), problem: /^modules\.bank\.balances\.1\.amounts\.NEX: must be a decimal string of base units/ },
      { what: 'a negative amount', doc: () => edited((_, b) => (b.balances[0]!.amounts.AUR = '-5')), problem: /^modules\.bank\.balances\.0\.amounts\.AUR: must be a decimal string/ },
      { what: 'an amount with a leading zero', doc: () => edited((_, b) => (b.balances[0]!.amounts.FLX = '007')), problem: /^modules\.bank\.balances\.0\.amounts\.FLX: must be a decimal string/ },
      { what: 'an amount of an unknown asset', doc: () => edited((_, b) => (b.balances[0]!.amounts.DOGE = '1')), problem: /^modules\.bank\.balances\.0\.amounts: .*DOGE/ },
      { what: 'a minimum fee that is not a decimal string', doc: () => edited((_, b) => (b.minFee = 1000)), problem: /^modules\.bank\.minFee: / },
      { what: 'an asset without decimals', doc: () => edited((_, b) => delete b.assets.AUR!.decimals), problem: /^modules\.bank\.assets\.AUR\.decimals: / },
      { what: 'a missing asset', doc: () => edited((_, b) => delete b.assets.FLX), problem: /^modules\.bank\.assets\.FLX: / },
      { what: 'too many decimals', doc: () => edited((_, b) => (b.assets.GEN!.decimals = 19)), problem: /^modules\.bank\.assets\.GEN\.decimals: / },
      { what: 'a bank balance with a bad address', doc: () => edited((_, b) => (b.balances[2]!.address = typo(b.balances[2]!.address))), problem: /^modules\.bank\.balances\.2\.address: must be a valid mn1… address/ },
      { what: 'a funded address listed twice', doc: () => edited((_, b) => b.balances.push({ ...b.balances[0]! })), problem: /^modules\.bank\.balances\.3\.address: duplicate address/ },
      { what: 'a block limit of 0', doc: () => edited((d) => (d.modules.consensus = { maxBlockTxs: 0 })), problem: /^modules\.consensus\.maxBlockTxs: / },
      { what: 'a block limit above its bound', doc: () => edited((d) => (d.modules.consensus = { maxBlockBytes: 2 ** 40 })), problem: /^modules\.consensus: maxBlockBytes must be within 65536…67108864/ },
      { what: 'an unknown consensus parameter', doc: () => edited((d) => (d.modules.consensus = { maxGas: 1 })), problem: /^modules\.consensus: .*maxGas/ },
      {
        what: 'a funded address listed twice, once in capitals',
        doc: () => edited((_, b) => b.balances.push({ ...b.balances[0]!, address: b.balances[0]!.address.toUpperCase() })),
        problem: /^modules\.bank\.balances\.3\.address: duplicate address/,
      },
    ];

    for (const c of cases) {
      it(`refuses ${c.what}, naming the path`, () => {
        const problems = problemsOf(c.doc());
        expect(problems.some((p) => c.problem.test(p)), `problems were:\n${problems.join('\n')}`).to.equal(true);
      });
    }

    it('lists every problem of a document, not just the first', () => {
      const problems = problemsOf(
        edited((d, b) => {
          d.modules.court = {};
          b.balances[0]!.amounts.GEN = '1.5';
          delete b.assets.AUR!.decimals;
        }),
      );
      expect(problems).to.have.length(3);
    });

    it('refuses something that is not an object', () => {
      expect(problemsOf([])[0]).to.match(/^\(root\): /);
      expect(problemsOf(null)[0]).to.match(/^\(root\): /);
    });
  });

  describe('loadGenesisFile', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await tempDir('metanode-genesis-');
    });
    afterEach(() => removeDir(dir));

    it('reads and validates a file', async () => {
      const file = join(dir, 'genesis.json');
      await writeFile(file, JSON.stringify(valid(), null, 2));
      expect(await loadGenesisFile(file, MODULES)).to.deep.equal(valid());
    });

    it('a missing file is GENESIS_NOT_FOUND with the path and the reason', async () => {
      const file = join(dir, 'nope.json');
      const err = await expectRejectsCode(() => loadGenesisFile(file, MODULES), GenesisError, GenesisErrorCode.NotFound);
      expect(err.message).to.contain(file);
      expect(err.message).to.contain('ENOENT');
    });

    it('a file that is not JSON is GENESIS_INVALID_JSON', async () => {
      const file = join(dir, 'genesis.json');
      await writeFile(file, '{ "chainId": ');
      const err = await expectRejectsCode(() => loadGenesisFile(file, MODULES), GenesisError, GenesisErrorCode.InvalidJson);
      expect(err.message).to.contain(file);
    });

    it('an invalid document in a file is GENESIS_INVALID', async () => {
      const file = join(dir, 'genesis.json');
      await writeFile(file, JSON.stringify(edited((d) => (d.chainId = 'BAD'))));
      const err = await expectRejectsCode(() => loadGenesisFile(file, MODULES), GenesisError, GenesisErrorCode.Invalid);
      expect(err.problems[0]).to.match(/^chainId: /);
    });
  });

  describe('readGenesisFile with the digest the chain recorded', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await tempDir('metanode-genesis-');
    });
    afterEach(() => removeDir(dir));

    it('gives the file\'s digest; a known file\'s modules are skipped unread, the common fields still checked', async () => {
      const file = join(dir, 'genesis.json');
      const text = JSON.stringify(valid(), null, 2);
      await writeFile(file, text);
      const first = await readGenesisFile(file, MODULES);
      expect(first.doc).to.deep.equal(valid());
      expect(toHex(first.digest)).to.equal(toHex(genesisFileDigest(new TextEncoder().encode(text))));
      const again = await readGenesisFile(file, MODULES, first.digest);
      expect(again.doc).to.deep.equal({ ...valid(), modules: {} });
      // Another digest: checked in full (a bad module section is found).
      await writeFile(file, JSON.stringify(edited((d) => ((d.modules.bank as { minFee: string }).minFee = 'x'))));
      await expectRejectsCode(() => readGenesisFile(file, MODULES, first.digest), GenesisError, GenesisErrorCode.Invalid);
      await writeFile(file, JSON.stringify(edited((d) => (d.chainId = 'BAD'))));
      const known = genesisFileDigest(new TextEncoder().encode(JSON.stringify(edited((d) => (d.chainId = 'BAD')))));
      await expectRejectsCode(() => readGenesisFile(file, MODULES, known), GenesisError, GenesisErrorCode.Invalid);
    });

    it('topLevelValueSpan finds a top-level field\'s value whatever the spacing, strings and nesting', () => {
      const cases: unknown[] = [
        { a: 1, modules: { x: [1, '}', { y: '"\\' }] }, z: 'modules' },
        { modules: 'str"ing', b: [{ modules: 1 }] },
        { b: { modules: 2 }, modules: 12.5e3 },
        { b: { modules: 2 }, c: [] },
      ];
      for (const c of cases) {
        for (const text of [JSON.stringify(c), JSON.stringify(c, null, 2)]) {
          const b = new TextEncoder().encode(text);
          const span = topLevelValueSpan(b, 'modules');
          const want = (c as Record<string, unknown>).modules;
          if (want === undefined) expect(span, text).to.equal(undefined);
          else expect(JSON.parse(new TextDecoder().decode(b.subarray(span![0], span![1]))), text).to.deep.equal(want);
        }
      }
    });
  });

  describe('derived objects', () => {
    it('the validator set, timestamp and header of block 0 follow from the document', () => {
      const doc = valid();
      const set = genesisValidatorSet(doc);
      expect(set.size).to.equal(2);
      expect(set.has(V0.address)).to.equal(true);
      expect(set.has(V1.address)).to.equal(true);
      expect(genesisTimestamp(doc)).to.equal(GENESIS_TIME.getTime());
      const root = new Uint8Array(32).fill(5);
      const h = genesisHeader(doc, root);
      expect(h.height).to.equal(0);
      expect(h.stateRoot).to.deep.equal(root);
      expect(h.txRoot).to.deep.equal(EMPTY_MERKLE_ROOT);
      expect(h.validatorsHash).to.deep.equal(set.hash());
      expect(h.parentHash).to.deep.equal(new Uint8Array(32));
      expect(genesisHeader(valid(), root).hash()).to.deep.equal(h.hash());
      expect(genesisHeader(testGenesis({ validators: [V0] }), root).hash()).to.not.deep.equal(h.hash());
    });

    it('buildGenesis funds the dev accounts with whole units of each asset', () => {
      const doc = buildGenesis({ chainId: 'dev-chain', genesisTime: GENESIS_TIME, validators: [{ publicKey: V0.ed25519.publicKey, blsPublicKey: V0.bls.publicKey, blsProofOfPossession: V0.bls.proofOfPossession(), power: 3n }], devAccounts: 2, devBalance: 5n });
      validateGenesis(doc, MODULES);
      expect(doc.validators[0]).to.include({ address: formatAddress(V0.address), power: '3', name: 'validator-0' });
      const b = doc.modules.bank as BankJson;
      expect(b.balances.map((x) => x.address)).to.deep.equal(devAccounts(2).map((a) => a.address));
      expect(b.balances[0]!.amounts).to.deep.equal({ GEN: '5000000', NEX: '5000000', FLX: '5000000', AUR: '500' });
      expect(parseAddress(b.balances[1]!.address)).to.have.length(20);
    });
  });
});
