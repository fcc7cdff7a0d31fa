import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { InvalidArgumentError, type Command } from 'commander';
import { fromHex, toHex } from '../../chain/index.js';
import { homePaths } from '../../node/index.js';
import { ChainStore, LevelKV, StorageError, StorageErrorCode } from '../../storage/index.js';
import { StoredState, exportSnapshot, importSnapshot } from '../../vm/index.js';
import { StateTable } from '../../vm/state/storage.js';

/** The stored state of a home's data folder (the node must be stopped: LevelDB takes a lock). */
async function openHome(home: string): Promise<{ kv: LevelKV; store: ChainStore; state: StoredState; chainId: string }> {
  let kv: LevelKV;
  try {
    kv = await LevelKV.open(homePaths(home).data);
  } catch (e) {
    if (e instanceof StorageError && e.code === StorageErrorCode.Locked) throw new Error(`the home ${home} is in use (stop its node first: a snapshot is taken of a home at rest)`);
    throw e;
  }
  try {
    const store = await ChainStore.open(kv);
    const info = await store.chainInfo();
    const view = store.stateView();
    if (!info || !StoredState.exists(view)) throw new Error(`the home ${home} holds no chain with a stored state (start its node once first)`);
    const directory = await store.stateRecordsPacked(Uint8Array.of(StateTable.Directory));
    return { kv, store, state: StoredState.open(view, directory), chainId: info.chainId };
  } catch (e) {
    await kv.close();
    throw e;
  }
}

/** `metanode snapshot …`: the state at a height as one file, and its verification. */
export function registerSnapshotCommands(program: Command): void {
  const snapshot = program.command('snapshot').description('the state at a height as one file (every key and value), and its verification against a state root (docs/operations.md)');
  snapshot
    .command('export')
    .description("write the state of a stopped node's home at its head (or a kept recent height) to a file")
    .requiredOption('--home <dir>', 'node home folder (its node stopped)')
    .requiredOption('--out <file>', 'the snapshot file to write (not overwritten)')
    .option('--height <n>', 'a kept height (default: the head)', (v) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a block height');
      return Number(v);
    })
    .action(async (o: { home: string; out: string; height?: number }) => {
      const { kv, store, state, chainId } = await openHome(resolve(o.home));
      try {
        const height = o.height ?? state.height;
        const header = await store.header(height);
        const out = createWriteStream(resolve(o.out), { flags: 'wx' });
        await once(out, 'open');
        let bytes = 0;
        for (const chunk of exportSnapshot(state, chainId, height)) {
          bytes += chunk.length;
          if (!out.write(chunk)) await once(out, 'drain');
        }
        out.end();
        await once(out, 'finish');
        console.log(JSON.stringify({ file: resolve(o.out), chainId, height, stateRoot: toHex(state.rootAt(height)!), stateCommitment: state.commitment, blockHash: header ? toHex(header.hash()) : null, bytes }));
      } finally {
        await kv.close();
      }
    });
  snapshot
    .command('verify')
    .description('import a snapshot into a scratch store, rebuilding its tree, and check it against its header and the root given (exit 1 if it does not verify)')
    .requiredOption('--in <file>', 'the snapshot file')
    .option('--root <hex>', "the state root it must have: the stateRoot of the height's block header, from a source you trust")
    .option('--chain-id <id>', 'the chain it must be of')
    .action(async (o: { in: string; root?: string; chainId?: string }) => {
      const stateRoot = o.root === undefined ? undefined : fromHex(o.root, 32, '--root');
      const dir = await mkdtemp(join(tmpdir(), 'metanode-snapshot-'));
      const kv = await LevelKV.open(dir);
      try {
        const store = await ChainStore.open(kv);
        const view = store.stateView();
        const scratch = await store.scratch();
        const r = await importSnapshot(createReadStream(resolve(o.in)), { storage: view, write: (values, ops) => store.writeStateBulk(values, ops), clearRecords: async () => void (await store.clearState(50_000, true)), index: scratch }, { stateRoot, chainId: o.chainId }).finally(() => scratch.destroy().catch(() => undefined));
        console.log(JSON.stringify({ verified: true, chainId: r.chainId, height: r.height, stateRoot: toHex(r.stateRoot), stateCommitment: r.commitment, keys: r.keys, rootChecked: stateRoot !== undefined }));
      } finally {
        await kv.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
}
