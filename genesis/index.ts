export * from './dev.js';
export * from './errors.js';
export * from './genesis.js';
export * from './schema.js';
export * from './build.js';
export * from './bulk.js';
