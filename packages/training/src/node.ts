// Node-only parts: checkpoint and model folders on disk, metrics files, worker threads.
export * from './checkpointFiles.js';
export * from './modelFolder.js';
export * from './jsonl.js';
export * from './workers.js';
export * from './parallelSampler.js';
