export * from './codec.js';
export * from './errors.js';
export * from './staking.js';
export { Keys as StakingKeys, REWARD_SCALE } from './records.js';
