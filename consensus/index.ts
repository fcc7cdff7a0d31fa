export * from './blockchain.js';
export * from './errors.js';
export * from './keys.js';
export * from './mempool/index.js';
export * from './ibft/index.js';
export * from './sync.js';
export * from './timer.js';
export * from './verifier/index.js';
