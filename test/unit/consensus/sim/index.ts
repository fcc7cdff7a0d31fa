export * from './byzantine.js';
export * from './invariants.js';
export * from './network.js';
export * from './node.js';
export * from './prng.js';
export * from './scheduler.js';
export * from './simulation.js';
