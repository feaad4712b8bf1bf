export * from './dataset.js';
export * from './classes.js';
export * from './split.js';
export * from './batches.js';
export * from './augment.js';
export * from './toys.js';
