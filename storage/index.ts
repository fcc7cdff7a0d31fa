export * from './buckets.js';
export * from './chainstore.js';
export * from './errors.js';
export * from './kv.js';
export * from './recordlog.js';
export * from './auditlog.js';
export * from './groupcommit.js';
export * from './scratch.js';
