export * from './errors.js';
export * from './mempool.js';
export * from './options.js';
export * from './relay.js';
export * from './journal.js';
