import { expect } from 'chai';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { AuditLog, StorageError, StorageErrorCode, auditRecordHash, verifyAuditLog, type AuditEntry } from '../../../storage/index.js';
import { expectRejectsCode, removeDir, tempDir } from '../fixtures.js';

const entry = (i: number): AuditEntry => ({ client: '127.0.0.1', subject: 'ops', method: 'tx_send', detail: { transactions: 1 }, result: { accepted: [`0x${String(i).padStart(64, '0')}`] } });
const segment0 = (dir: string) => join(dir, '000000000000.rec');

/** The records of a segment file: [offset of header, payload]. */
function records(bytes: Buffer): { at: number; payload: Buffer }[] {
  const out: { at: number; payload: Buffer }[] = [];
  for (let at = 0; at < bytes.length; ) {
    const len = bytes.readUInt32BE(at);
    out.push({ at, payload: bytes.subarray(at + 8, at + 8 + len) });
    at += 8 + len;
  }
  return out;
}

describe('storage/auditlog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('metanode-audit-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('chains records by hash, numbers them, and continues the chain after a reopen', async () => {
    const log = await AuditLog.open(dir, { now: () => new Date('2026-12-03T00:00:00Z') });
    await log.append(entry(0));
    await Promise.all([log.append(entry(1)), log.append(entry(2)), log.append(entry(3))]); // group commit
    await log.close();
    const again = await AuditLog.open(dir);
    expect(again.length).to.equal(4);
    await again.append(entry(4));
    await again.close();

    const r = await verifyAuditLog(dir, { keep: true });
    expect(r.ok).to.equal(true);
    expect(r.records).to.equal(5);
    expect(r.list!.map((x) => x.seq)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(r.list![0]!.prev).to.equal('0x' + '00'.repeat(32));
    expect(r.list![0]!.time).to.equal('2026-12-03T00:00:00.000Z');
    expect(r.list![3]!.result).to.deep.equal(entry(3).result);
    // Each record names the hash of the stored bytes of the one before.
    const raw = records(await readFile(segment0(dir)));
    for (let i = 1; i < raw.length; i++) expect(JSON.parse(raw[i]!.payload.toString()).prev).to.equal('0x' + Buffer.from(auditRecordHash(raw[i - 1]!.payload)).toString('hex'));
    expect(r.head).to.equal('0x' + Buffer.from(auditRecordHash(raw.at(-1)!.payload)).toString('hex'));
  });

  it('a record changed later, with its checksum fixed up, breaks the chain at the next record', async () => {
    const log = await AuditLog.open(dir);
    for (let i = 0; i < 4; i++) await log.append(entry(i));
    await log.close();
    const bytes = await readFile(segment0(dir));
    const [, second] = records(bytes);
    // Rewrite record 1's client (same length) and recompute its CRC, as a careful forger would.
    const forged = Buffer.from(second!.payload.toString().replace('127.0.0.1', '127.0.0.9'));
    forged.copy(bytes, second!.at + 8);
    bytes.writeUInt32BE(crc32(forged), second!.at + 4);
    await writeFile(segment0(dir), bytes);
    const r = await verifyAuditLog(dir);
    expect(r.ok).to.equal(false);
    expect(r.records).to.equal(2);
    expect(r.problem!.seq).to.equal(2);
    expect(r.problem!.reason).to.match(/does not follow record 1/);
  });

  it('a removed record is found (numbering), and damage in the middle is reported, not skipped', async () => {
    const log = await AuditLog.open(dir);
    for (let i = 0; i < 3; i++) await log.append(entry(i));
    await log.close();
    const bytes = await readFile(segment0(dir));
    const [a, b, c] = records(bytes);
    await writeFile(segment0(dir), Buffer.concat([bytes.subarray(a!.at, b!.at), bytes.subarray(c!.at)]));
    const removed = await verifyAuditLog(dir);
    expect(removed.ok).to.equal(false);
    expect(removed.problem!.reason).to.match(/numbered 2/);

    const damaged = Buffer.from(bytes);
    damaged[b!.at + 10] ^= 0xff; // inside record 1's payload: its CRC no longer matches, and more follows
    await writeFile(segment0(dir), damaged);
    const r = await verifyAuditLog(dir);
    expect(r.ok).to.equal(false);
    expect(r.records).to.equal(1);
    expect(r.problem!.reason).to.match(/corrupt/);
  });

  it('a last record torn by a crash is cut at open (it was never acknowledged) and the chain goes on', async () => {
    const log = await AuditLog.open(dir);
    for (let i = 0; i < 3; i++) await log.append(entry(i));
    await log.close();
    const bytes = await readFile(segment0(dir));
    await writeFile(segment0(dir), bytes.subarray(0, bytes.length - 5));
    expect((await verifyAuditLog(dir)).records).to.equal(2); // verify reads without changing the file
    const again = await AuditLog.open(dir);
    expect(again.length).to.equal(2);
    await again.append(entry(9));
    await again.close();
    const r = await verifyAuditLog(dir);
    expect(r.ok).to.equal(true);
    expect(r.records).to.equal(3);
    expect((await readdir(dir)).filter((n) => n.endsWith('.rec'))).to.deep.equal(['000000000000.rec']);
  });

  it('an append after close is refused', async () => {
    const log = await AuditLog.open(dir);
    await log.close();
    await expectRejectsCode(() => log.append(entry(0)), StorageError, StorageErrorCode.Closed);
  });
});
