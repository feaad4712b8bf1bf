export * from './rng.js';
export * from './prediction.js';
export * from './schedule.js';
export * from './timesteps.js';
export * from './sigmas.js';
export * from './karras.js';
export * from './diffusers-config.js';
export { checkOptions, nearestOption, optionKeys } from './options.js';
export * from './show.js';
