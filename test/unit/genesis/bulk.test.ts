import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GenesisError, GenesisErrorCode, readBulkFile, type BulkChunk, type BulkFileRef } from '../../../genesis/index.js';
import { removeDir, tempDir } from '../fixtures.js';

const sha = (bytes: Uint8Array | string): string => `0x${createHash('sha256').update(bytes).digest('hex')}`;

async function readAll(genesisPath: string, ref: BulkFileRef, chunkItems: number): Promise<BulkChunk[]> {
  const out: BulkChunk[] = [];
  for await (const c of readBulkFile(genesisPath, ref, chunkItems)) out.push(c);
  return out;
}

describe('genesis/bulk: JSON Lines files named by sha256', () => {
  let dir: string;
  let genesisPath: string;
  beforeEach(async () => {
    dir = await tempDir('metanode-bulk-');
    genesisPath = join(dir, 'genesis.json');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('gives every line in order, in chunks numbered by line, across the stream\'s chunks, with or without a last newline', async () => {
    // Lines of varied length, ~3 MiB in all: many cross the reader's 1 MiB chunks.
    const items = Array.from({ length: 30_000 }, (_, i) => ({ i, pad: 'x'.repeat((i * 37) % 150), text: 'é ✓' }));
    for (const ending of ['\n', '']) {
      const text = items.map((x) => JSON.stringify(x)).join('\n') + ending;
      await writeFile(join(dir, 'sub-bulk.jsonl'), text);
      const chunks = await readAll(genesisPath, { path: 'sub-bulk.jsonl', sha256: sha(text) }, 7_000);
      expect(chunks.map((c) => c.items.length)).to.deep.equal([7_000, 7_000, 7_000, 7_000, 2_000]);
      expect(chunks.map((c) => c.firstLine)).to.deep.equal([1, 7_001, 14_001, 21_001, 28_001]);
      expect(chunks.flatMap((c) => c.items)).to.deep.equal(items);
    }
  });

  it('refuses a missing file, a digest that does not match, a blank line, a line that is not JSON or not UTF-8, naming the line', async () => {
    const refused = async (bytes: Uint8Array | string | undefined, code: GenesisErrorCode, pattern: RegExp, digest?: string): Promise<void> => {
      if (bytes !== undefined) await writeFile(join(dir, 'b.jsonl'), bytes);
      let err: unknown;
      try {
        await readAll(genesisPath, { path: 'b.jsonl', sha256: digest ?? (bytes === undefined ? sha('') : sha(bytes)) }, 2);
      } catch (e) {
        err = e;
      }
      expect(err, String(pattern)).to.be.instanceOf(GenesisError);
      expect((err as GenesisError).code).to.equal(code);
      expect((err as Error).message).to.match(pattern);
    };
    await refused(undefined, GenesisErrorCode.NotFound, /cannot read the genesis bulk file .*b\.jsonl \(ENOENT\)/);
    await refused('{"a":1}\n', GenesisErrorCode.Invalid, /has sha256 0x[0-9a-f]{64}, not the 0x00/, `0x${'00'.repeat(32)}`);
    await refused('{"a":1}\n\n{"a":2}\n', GenesisErrorCode.InvalidJson, /line 2: blank/);
    await refused('{"a":1}\n{"a":2}\n{"a":\n', GenesisErrorCode.InvalidJson, /line 3: not valid JSON/);
    await refused(Buffer.concat([Buffer.from('{"a":1}\n"'), Buffer.from([0xff, 0xfe]), Buffer.from('"\n')]), GenesisErrorCode.InvalidJson, /line 2: not UTF-8/);
    // A file that is not JSON Lines (one 3 MiB line) is refused before it is read whole.
    await refused(`{"a":1}\n[${'1,'.repeat(1_500_000)}1]\n`, GenesisErrorCode.InvalidJson, /line 2: longer than 1048576 bytes/);
  });
});
