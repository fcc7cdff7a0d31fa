import { formatAddress, stateProofToJson, toHex } from '../../chain/index.js';
import { getNonce } from '../../vm/index.js';
import type { MethodSpec } from '../method.js';
import { P } from '../params.js';

export const stateMethods: MethodSpec[] = [
  {
    name: 'state_getAccount',
    summary: 'An account at the head: its next nonce and what each module holds for it (the bank: its balance of every asset, base units).',
    params: [P.address('address', 'account address')],
    result: { name: 'account', description: 'the account', schema: { type: 'object' } },
    example: { params: ['mn1…'], result: { address: 'mn1…', height: 42, nonce: 3, balances: { GEN: '0', NEX: '999000', FLX: '0', AUR: '0' } } },
    handler: (b, [address]) => {
      const addr = address as Uint8Array;
      const state = b.chain.state;
      const ctx = { state, height: b.chain.height };
      // Each module adds what it holds for the account (the bank: balances).
      const sections = b.chain.stateMachine.registry.modules.map((m) => m.account?.(ctx, addr) ?? {});
      return Object.assign({ address: formatAddress(addr), height: b.chain.height, nonce: Number(getNonce(state, addr)) }, ...sections);
    },
  },
  {
    name: 'state_getProof',
    summary: 'A Merkle proof that a state key has a value (or is absent) in the state root of the head block. Verify it with verifyStateProof (chain/stateproof.ts).',
    params: [P.bytes('key', 'state key as hex, e.g. the bank balance key utf8("bank/bal/") ‖ address ‖ utf8(asset)')],
    result: { name: 'proof', description: 'height, blockHash, stateRoot, key, value (hex or null) and the proof', schema: { type: 'object' } },
    example: { params: ['0x62616e6b2f62616c2f…'], result: { height: 42, blockHash: '0x…', stateRoot: '0x…', key: '0x…', value: '0x83…', proof: { sideNodes: ['0x…'] } } },
    handler: (b, [key]) => {
      const k = key as Uint8Array;
      const state = b.chain.state;
      const head = b.chain.head;
      const value = state.get(k);
      return {
        height: head.height,
        blockHash: toHex(head.hash()),
        stateRoot: toHex(state.root),
        key: toHex(k),
        value: value === undefined ? null : toHex(value),
        proof: stateProofToJson(state.tree.prove(k)),
      };
    },
  },
];
