import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../../../chain/index.js';
import { LevelKV, LevelScratch, MemoryScratch, type Scratch } from '../../../storage/index.js';
import { removeDir, tempDir } from '../fixtures.js';

async function all(s: Scratch): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of s.entries()) out.push(`${toHex(k)}=${toHex(v)}`);
  return out;
}

describe('storage/scratch', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('metanode-scratch-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('LevelDB and memory scratch stores give their records back in key order, and leave nothing once destroyed', async () => {
    const records: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 2_000; i++) records.push([Uint8Array.of((i * 7919) % 256, i >> 8, i & 255), Uint8Array.of(i & 255)]);
    const location = join(dir, 'scratch');
    const level = await LevelScratch.open(location);
    const memory = new MemoryScratch();
    for (const s of [level, memory]) for (let at = 0; at < records.length; at += 300) await s.put(records.slice(at, at + 300));
    const got = await all(level);
    expect(got).to.have.length(2_000);
    expect(got).to.deep.equal([...got].sort());
    expect(await all(memory)).to.deep.equal(got);
    await level.destroy();
    expect(existsSync(location)).to.equal(false);
  });

  it('a scratch store left by a job cut short is emptied when the next is opened; a LevelKV keeps its own beside its database', async () => {
    const location = join(dir, 'scratch');
    const first = await LevelScratch.open(location);
    await first.put([[Uint8Array.of(1), Uint8Array.of(2)]]);
    await (first as unknown as { db: { close(): Promise<void> } }).db.close(); // a crash: closed, not destroyed
    const next = await LevelScratch.open(location);
    expect(await all(next)).to.deep.equal([]);
    await next.destroy();
    const kv = await LevelKV.open(join(dir, 'data'));
    const s = await kv.scratch();
    await s.put([[Uint8Array.of(9), Uint8Array.of(9)]]);
    expect(existsSync(join(dir, 'data', 'scratch'))).to.equal(true);
    await s.destroy();
    expect(existsSync(join(dir, 'data', 'scratch'))).to.equal(false);
    await kv.close();
  });
});
