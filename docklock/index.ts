export * from './abi.js';
export * from './errors.js';
export * from './instrument.js';
export * from './options.js';
export * from './runtime.js';
export * from './receipt.js';
export * from './job.js';
export * from './pool.js';
