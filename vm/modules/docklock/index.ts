export * from './codec.js';
export * from './docklock.js';
export * from './errors.js';
export * from './records.js';
