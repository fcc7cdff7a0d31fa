import { expect } from 'chai';
import { toKey, utf8 } from '../../../chain/index.js';
import { RpcError, RpcErrorCode, type RpcBackend } from '../../../rpc/index.js';
import { stateAt } from '../../../rpc/methods/state.js';
import { WorldState } from '../../../vm/index.js';
import { SparseMerkleTree } from '../../../vm/state/smt.js';

describe('rpc/methods/state stateAt', () => {
  const world = WorldState.fromEntries([], 0, SparseMerkleTree.empty());
  world.history = 2;
  for (let h = 1; h <= 5; h++) world.apply(new Map([[toKey(utf8('k')), utf8(String(h))]]), world.tree, h);
  const backend = { chain: { state: world, height: 5 } } as unknown as RpcBackend;
  const refused = (height: number): RpcError => {
    try {
      stateAt(backend, height);
    } catch (e) {
      return e as RpcError;
    }
    throw new Error(`height ${height} was not refused`);
  };

  it('reads the head for "latest" and a kept height as it was', () => {
    expect(stateAt(backend, 'latest')).to.deep.include({ state: world, height: 5 });
    const at3 = stateAt(backend, 3);
    expect(at3.height).to.equal(3);
    expect(at3.state.get(utf8('k'))).to.deep.equal(utf8('3'));
  });

  it('refuses a height no longer kept, or above the head, with HeightUnavailable naming the heights it can read', () => {
    const old = refused(2);
    expect(old.code).to.equal(RpcErrorCode.HeightUnavailable);
    expect(old.message).to.equal('the state at height 2 is no longer kept (storage.stateHistory is 2 blocks); this node can read heights 3 to 5');
    expect(refused(6).message).to.equal('the state at height 6 is above the head; this node can read heights 3 to 5');
  });
});
