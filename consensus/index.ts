export * from './blockchain.js';
export * from './errors.js';
export * from './keys.js';
export * from './mempool/index.js';
export * from './solo/options.js';
export * from './solo/producer.js';
