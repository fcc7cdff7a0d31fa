import { STATE_PROOF_FORMAT, formatAddress, toHex, versionedProofToJson } from '../../chain/index.js';
import { getNonce, type ReadOnlyState } from '../../vm/index.js';
import { RpcError, RpcErrorCode, invalidParams } from '../errors.js';
import type { RpcBackend } from '../backend.js';
import type { MethodSpec } from '../method.js';
import { P } from '../params.js';

/** The `height` parameter of a state read: the head ("latest", the default) or a recent height the node keeps. */
export const stateHeightParam = P.height('height', 'the height to read the state at: "latest" (the default) or a recent height (the node keeps the last storage.stateHistory heights)', false);

/** The state at a height (as parsed by stateHeightParam), or a HeightUnavailable error that says which heights are kept. */
export function stateAt(b: RpcBackend, height: number | 'latest'): { state: ReadOnlyState; height: number } {
  const world = b.chain.state;
  const head = b.chain.height;
  if (height === 'latest' || height === head) return { state: world, height: head };
  const state = world.at(height);
  if (state) return { state, height };
  const kept = world.oldestReadable === head ? `only the head ${head}` : `heights ${world.oldestReadable} to ${head}`;
  const why = height > head ? 'is above the head' : `is no longer kept (storage.stateHistory is ${world.history} blocks)`;
  throw new RpcError(RpcErrorCode.HeightUnavailable, `the state at height ${height} ${why}; this node can read ${kept}`, { height, head, oldest: world.oldestReadable });
}

export const stateMethods: MethodSpec[] = [
  {
    name: 'state_getAccount',
    summary: 'An account at the head or a recent height: its next nonce and what each module holds for it (the bank: its balance of every asset, base units).',
    params: [P.address('address', 'account address'), stateHeightParam],
    result: { name: 'account', description: 'the account', schema: { type: 'object' } },
    example: { params: ['mn1…'], result: { address: 'mn1…', height: 42, nonce: 3, balances: { GEN: '0', NEX: '999000', FLX: '0', AUR: '0' } } },
    handler: (b, [address, at]) => {
      const addr = address as Uint8Array;
      const ctx = stateAt(b, at as number | 'latest');
      // Each module adds what it holds for the account (the bank: balances).
      const sections = b.chain.stateMachine.registry.modules.map((m) => m.account?.(ctx, addr) ?? {});
      return Object.assign({ address: formatAddress(addr), height: ctx.height, nonce: Number(getNonce(ctx.state, addr)) }, ...sections);
    },
  },
  {
    name: 'state_getProof',
    summary:
      'A Merkle proof that a state key has a value (or is absent) in the state root of the head block, or of a recent height the node keeps. Verify it with verifyVersionedStateProof (chain/versionedproof.ts); proofFormat is the layout\'s version, fixed by the chain\'s genesis: 1, the sparse Merkle tree (chain/stateproof.ts), or 2, the entry log (chain/stateentry.ts).',
    params: [P.bytes('key', 'state key as hex, e.g. the bank balance key utf8("bank/bal/") ‖ address ‖ utf8(asset)'), stateHeightParam],
    result: { name: 'proof', description: 'height, blockHash, stateRoot, key, value (hex or null), proofFormat and the proof', schema: { type: 'object' } },
    example: { params: ['0x62616e6b2f62616c2f…'], result: { height: 42, blockHash: '0x…', stateRoot: '0x…', key: '0x…', value: '0x83…', proofFormat: STATE_PROOF_FORMAT, proof: { sideNodes: ['0x…'] } } },
    handler: async (b, [key, at]) => {
      const k = key as Uint8Array;
      if (k.length === 0) throw invalidParams('key', 'must not be empty: no state key is');
      const { height } = stateAt(b, at as number | 'latest');
      const head = b.chain.head;
      const p = b.chain.state.proof(height, k)!;
      const header = height === head.height ? head : await b.chain.blocks.header(height);
      if (!header) throw new RpcError(RpcErrorCode.HeightUnavailable, `block ${height} is not stored`, { height });
      return {
        height,
        blockHash: toHex(header.hash()),
        stateRoot: toHex(p.root),
        key: toHex(k),
        value: p.value === undefined ? null : toHex(p.value),
        ...versionedProofToJson(p.proof),
      };
    },
  },
];
