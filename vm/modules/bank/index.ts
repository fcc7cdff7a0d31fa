export * from './bank.js';
export * from './codec.js';
export * from './errors.js';
export * from './genesis.js';
