export * from './types.js';
export * from './targets.js';
export * from './lrSchedule.js';
export * from './loss.js';
export * from './jsonl.js';
export * from './checkpoint.js';
export * from './trainer.js';
export * from './parallel.js';
