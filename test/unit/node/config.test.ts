import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultConfig, NodeError, NodeErrorCode, readConfig } from '../../../node/index.js';
import { expectRejectsCode, removeDir, tempDir } from '../fixtures.js';

describe('node/config: storage settings', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('metanode-config-');
  });
  afterEach(() => removeDir(dir));

  const withStorage = async (storage: Record<string, unknown>): Promise<string> => {
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ ...defaultConfig('n'), storage }));
    return path;
  };

  it('takes openFiles from 74 (the least LevelDB keeps: 64 tables and 10 files of its own) to 50,000', async () => {
    expect((await readConfig(await withStorage({ openFiles: 74 }))).storage?.openFiles).to.equal(74);
    expect((await readConfig(await withStorage({ openFiles: 50_000, stateCacheMB: 64 }))).storage).to.deep.equal({ openFiles: 50_000, stateCacheMB: 64 });
    expect((await readConfig(await withStorage({}))).storage?.openFiles).to.equal(undefined);
  });

  for (const bad of [73, 0, 50_001, 1.5, '100']) {
    it(`refuses openFiles ${JSON.stringify(bad)} with BAD_CONFIG naming storage.openFiles`, async () => {
      const err = await expectRejectsCode(async () => readConfig(await withStorage({ openFiles: bad })), NodeError, NodeErrorCode.BadConfig);
      expect(err.message).to.match(/is invalid:\n {2}- storage\.openFiles: /);
    });
  }
});
