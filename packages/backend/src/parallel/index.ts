export * from './types.js';
export * from './dataParallel.js';
