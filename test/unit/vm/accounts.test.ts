import { expect } from 'chai';
import { getNonce, nonceKey, Overlay, setNonce } from '../../../vm/index.js';

describe('vm/accounts', () => {
  it('a nonce starts at 0, is stored under auth/nonce/<address> and reads back', () => {
    const state = new Overlay({ getRaw: () => undefined });
    const addr = new Uint8Array(20).fill(7);
    expect(getNonce(state, addr)).to.equal(0n);
    setNonce(state, addr, 41n);
    expect(getNonce(state, addr)).to.equal(41n);
    expect(Buffer.from(nonceKey(addr).subarray(0, 11)).toString()).to.equal('auth/nonce/');
    expect(getNonce(state, new Uint8Array(20).fill(8))).to.equal(0n);
  });
});
