export * from './codec.js';
export * from './court.js';
export * from './errors.js';
export * from './records.js';
export * from './tally.js';
