export * from './rng.js';
export * from './schedule.js';
export * from './timesteps.js';
