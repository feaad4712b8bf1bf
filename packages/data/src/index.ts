export * from './dataset.js';
export * from './mnist.js';
export * from './split.js';
export * from './batches.js';
export * from './augment.js';
export * from './folder.js';
export * from './toys.js';
