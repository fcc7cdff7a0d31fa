export * from './codec.js';
export * from './enc.js';
export * from './errors.js';
export * from './params.js';
export * from './placement.js';
export * from './records.js';
export * from './reward.js';
export * from './spec.js';
