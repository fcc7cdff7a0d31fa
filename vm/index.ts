export * from './accounts.js';
export * from './errors.js';
export * from './executor.js';
export * from './module.js';
export * from './params.js';
export * from './registry.js';
export * from './state/overlay.js';
export * from './state/world.js';
