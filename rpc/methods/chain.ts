import { formatAddress, toHex } from '../../chain/index.js';
import type { RpcBackend } from '../backend.js';
import { blockEventsToJson, blockToJson, headerToJson, receiptToJson, txToJson, validatorSetToJson } from '../format.js';
import type { MethodSpec } from '../method.js';
import { P, formatTxCursor, heightCursor, txCursor, type Page } from '../params.js';

const H = '0x5e0a9bd43b1c07cdb1f1e0c0e34f5a8b5b1d7b3c9a2f0e1d2c3b4a5968778695';
const blockSchema = { type: 'object', description: 'header fields, transactionCount, transactions (hashes, or objects when fullTransactions), certificate' };

async function block(b: RpcBackend, height: number, full: boolean) {
  const blk = await b.chain.blocks.block(height);
  return blk ? blockToJson(blk, full, b.chain.stateMachine.registry) : null;
}

async function location(b: RpcBackend, hash: Uint8Array) {
  const loc = await b.chain.blocks.txLocation(hash);
  if (!loc) return undefined;
  const header = await b.chain.blocks.header(loc.height);
  return { blockHeight: loc.height, blockHash: toHex(header!.hash()), index: loc.index };
}

/**
 * Cost units (rpc/method.ts: about a KiB of answer each) of a block's answer: ~70 bytes per
 * transaction hash, ~300 per whole transaction, read from the stored count before the block is.
 */
async function blockCost(b: RpcBackend, height: number | undefined, full: boolean): Promise<number> {
  if (height === undefined) return 1;
  const count = (await b.chain.blocks.transactionCount(height)) ?? 0;
  return 2 + Math.ceil((count * (full ? 300 : 70)) / 1024);
}

/** Page answers: ~700 bytes per header, ~400 per account transaction. */
const pageCost = (limit: number, bytesEach: number) => 1 + Math.ceil((limit * bytesEach) / 1024);

/** Headers (with transaction counts) of up to `limit` blocks below `before`, newest first: one read per block. */
async function blocksPage(b: RpcBackend, page: Page<number>) {
  const top = Math.min(page.before ?? b.chain.height + 1, b.chain.height + 1);
  const heights: number[] = [];
  for (let h = top - 1; h >= 0 && heights.length < page.limit; h--) heights.push(h);
  const blocks = await Promise.all(
    heights.map(async (h) => {
      const [header, count] = await Promise.all([b.chain.blocks.header(h), b.chain.blocks.transactionCount(h)]);
      return header ? { ...headerToJson(header), transactionCount: count ?? 0 } : undefined;
    }),
  );
  const found = blocks.filter((x) => x !== undefined);
  const last = heights.at(-1);
  return { blocks: found, next: last !== undefined && last > 0 && heights.length === page.limit ? last : null };
}

/** Transactions that touched an account, newest first, from the account index (no block scan). */
async function accountPage(b: RpcBackend, address: Uint8Array, page: Page<{ height: number; index: number }>) {
  const store = b.chain.blocks;
  const registry = b.chain.stateMachine.registry;
  // One more than asked for tells whether an older page exists.
  const found = await store.accountTransactions(address, { limit: page.limit + 1, ...(page.before ? { before: page.before } : {}) });
  const entries = found.slice(0, page.limit);
  const heights = [...new Set(entries.map((e) => e.height))];
  const blocks = new Map(
    await Promise.all(heights.map(async (h) => [h, await Promise.all([store.header(h), store.transactions(h), store.receipts(h)])] as const)),
  );
  const transactions = entries.flatMap((e) => {
    const [header, txs, receipts] = blocks.get(e.height)!;
    const tx = txs?.[e.index];
    if (!header || !tx) return [];
    const r = receipts?.[e.index];
    return [
      {
        ...txToJson(tx, registry, { blockHeight: e.height, blockHash: toHex(header.hash()), index: e.index }),
        timestamp: header.timestamp,
        status: r ? (r.ok ? 'success' : 'failed') : null,
        errorCode: r?.errorCode || null,
      },
    ];
  });
  const last = entries.at(-1);
  return { address: formatAddress(address), transactions, next: last && found.length > page.limit ? formatTxCursor(last) : null };
}

export const chainMethods: MethodSpec[] = [
  {
    name: 'chain_getChainId',
    summary: 'The chain id this node runs.',
    params: [],
    result: { name: 'chainId', description: 'chain id', schema: { type: 'string' } },
    example: { params: [], result: 'metanode-devnet' },
    handler: (b) => b.chain.chainId,
  },
  {
    name: 'chain_getHead',
    summary: 'The latest committed block: height, hash, state root and timestamp.',
    params: [],
    result: { name: 'head', description: 'the head', schema: { type: 'object' } },
    example: { params: [], result: { height: 42, hash: H, stateRoot: H, timestamp: 1764086400000 } },
    handler: (b) => {
      const h = b.chain.head;
      return { height: h.height, hash: toHex(h.hash()), stateRoot: toHex(h.stateRoot), timestamp: h.timestamp };
    },
  },
  {
    name: 'chain_getBlockByHeight',
    summary: 'A committed block by height ("latest" for the head); null above the head.',
    params: [P.height('height', 'block height or "latest"'), P.bool('fullTransactions', 'include whole transactions instead of hashes')],
    result: { name: 'block', description: 'the block, or null', schema: blockSchema },
    example: { params: [1, false], result: { height: 1, hash: H, transactionCount: 0, transactions: [], certificate: { round: 0, signers: [0] } } },
    cost: (b, [height, full]) => blockCost(b, height === 'latest' ? b.chain.height : (height as number), full as boolean),
    handler: (b, [height, full]) => block(b, height === 'latest' ? b.chain.height : (height as number), full as boolean),
  },
  {
    name: 'chain_getBlockByHash',
    summary: 'A committed block by hash; null if unknown.',
    params: [P.hash('hash', 'block hash'), P.bool('fullTransactions', 'include whole transactions instead of hashes')],
    result: { name: 'block', description: 'the block, or null', schema: blockSchema },
    example: { params: [H, false], result: { height: 1, hash: H, transactionCount: 0, transactions: [] } },
    cost: async (b, [hash, full]) => blockCost(b, await b.chain.blocks.heightOf(hash as Uint8Array), full as boolean),
    handler: async (b, [hash, full]) => {
      const h = await b.chain.blocks.heightOf(hash as Uint8Array);
      return h === undefined ? null : block(b, h, full as boolean);
    },
  },
  {
    name: 'chain_getBlocks',
    summary: 'A page of block headers (with transactionCount), newest first: up to `limit` (1–100, default 20) blocks below height `before` (default: from the head). Pass the answer\'s `next` as `before` for the next page; `next` is null on the last page.',
    params: [P.page('page', '{limit?, before?}: how many headers, and the height to start below', heightCursor)],
    result: { name: 'page', description: '{blocks: [header + transactionCount], next: height or null}', schema: { type: 'object', properties: { blocks: { type: 'array' }, next: { type: ['integer', 'null'] } } } },
    example: { params: [{ limit: 2 }], result: { blocks: [{ height: 42, hash: H, transactionCount: 3 }, { height: 41, hash: H, transactionCount: 0 }], next: 41 } },
    cost: (_b, [page]) => pageCost((page as Page<number>).limit, 700),
    handler: (b, [page]) => blocksPage(b, page as Page<number>),
  },
  {
    name: 'chain_getAccountTransactions',
    summary: 'A page of the committed transactions that touched an account (as sender, or named by their module, such as a transfer\'s recipient), newest first, with their status. Pass the answer\'s `next` as `before` for older ones; `next` is null on the last page.',
    params: [P.address('address', 'account address'), P.page('page', '{limit?, before?}: how many (1–100, default 20), and the cursor "height:index" to start below', txCursor)],
    result: {
      name: 'page',
      description: '{address, transactions: [transaction + blockHeight, blockHash, index, timestamp, status, errorCode], next: cursor or null}',
      schema: { type: 'object', properties: { address: { type: 'string' }, transactions: { type: 'array' }, next: { type: ['string', 'null'] } } },
    },
    example: {
      params: ['mn1…', { limit: 1 }],
      result: { address: 'mn1…', transactions: [{ hash: H, from: 'mn1…', kind: 'bank.transfer', args: { to: 'mn1…', asset: 'NEX', amount: '5' }, blockHeight: 3, index: 0, timestamp: 1764086400000, status: 'success', errorCode: null }], next: '3:0' },
    },
    cost: (_b, [, page]) => pageCost((page as Page<unknown>).limit, 400),
    handler: (b, [address, page]) => accountPage(b, address as Uint8Array, page as Page<{ height: number; index: number }>),
  },
  {
    name: 'chain_getTransaction',
    summary: 'A committed transaction by hash, with its block and index; null if unknown or still pending.',
    params: [P.hash('hash', 'transaction hash')],
    result: { name: 'transaction', description: 'the transaction, or null', schema: { type: 'object' } },
    example: { params: [H], result: { hash: H, from: 'mn1…', nonce: 0, fee: '1000', kind: 'bank.transfer', args: { to: 'mn1…', asset: 'NEX', amount: '5' }, blockHeight: 3, index: 0 } },
    handler: async (b, [hash]) => {
      const loc = await location(b, hash as Uint8Array);
      if (!loc) return null;
      const txs = await b.chain.blocks.transactions(loc.blockHeight);
      return txToJson(txs![loc.index]!, b.chain.stateMachine.registry, loc);
    },
  },
  {
    name: 'chain_getReceipt',
    summary: 'The receipt of a committed transaction: status, failure reason, fee, events; null if not committed.',
    params: [P.hash('hash', 'transaction hash')],
    result: { name: 'receipt', description: 'the receipt, or null', schema: { type: 'object' } },
    example: {
      params: [H],
      result: { txHash: H, blockHeight: 3, blockHash: H, index: 0, status: 'success', errorCode: null, errorMessage: null, fee: '1000', events: [{ module: 'bank', type: 'transfer', attributes: { from: 'mn1…', to: 'mn1…', asset: 'NEX', amount: '5' } }] },
    },
    handler: async (b, [hash]) => {
      const loc = await location(b, hash as Uint8Array);
      if (!loc) return null;
      const receipts = await b.chain.blocks.receipts(loc.blockHeight);
      return receiptToJson(receipts![loc.index]!, loc);
    },
  },
  {
    name: 'chain_getBlockEvents',
    summary: "The events of a committed block's begin- and end-block hooks (rewards, jailings, a hook's failure), which its header's eventsRoot commits to; null above the head.",
    params: [P.height('height', 'block height or "latest"')],
    result: { name: 'blockEvents', description: '{ height, hash, events }, or null', schema: { type: 'object' } },
    example: { params: [7], result: { height: 7, hash: H, events: [{ module: 'vm', type: 'hook_failed', attributes: { module: 'staking', hook: 'endBlock', code: 'VM_MODULE_FAULT' } }] } },
    cost: async (b, [height]) => {
      const events = await b.chain.blocks.blockEvents(height === 'latest' ? b.chain.height : (height as number));
      return 1 + (events?.length ?? 0) * 0.2;
    },
    handler: async (b, [height]) => {
      const h = height === 'latest' ? b.chain.height : (height as number);
      const [header, events] = await Promise.all([b.chain.blocks.header(h), b.chain.blocks.blockEvents(h)]);
      if (!header || !events) return null;
      return { height: h, hash: toHex(header.hash()), events: blockEventsToJson(events) };
    },
  },
  {
    name: 'chain_getValidators',
    summary: 'The validator set in force at a height (default: the next block); each validator with what modules hold for it at the head (staking: status, tokens, self-bond, delegated, commission, missed blocks, slashes).',
    params: [P.height('height', 'block height or "latest"', false)],
    result: { name: 'validators', description: 'the validator set', schema: { type: 'object' } },
    example: { params: ['latest'], result: { height: 43, hash: H, quorum: '1', totalPower: '1', validators: [{ address: 'mn1…', publicKey: '0x…', blsPublicKey: '0x…', power: '1' }] } },
    handler: (b, [height]) => {
      const h = height === 'latest' ? b.chain.height + 1 : (height as number);
      if (h > b.chain.height + 1) return null;
      const json = validatorSetToJson(h, b.chain.validatorSet(h));
      const ctx = { state: b.chain.state, height: b.chain.height };
      const modules = b.chain.stateMachine.registry.modules;
      return { ...json, validators: json.validators.map((v, i) => Object.assign(v, ...modules.map((m) => m.validatorInfo?.(ctx, b.chain.validatorSet(h).validators[i]!.address) ?? {}))) };
    },
  },
];
