// Node-only parts: checkpoint and model folders on disk, metrics files, worker threads.
export * from './checkpointFiles.js';
export * from './modelFolderFiles.js';
export { exists, nodeFolder, removeStaleTemporaries } from './nodeFolder.js';
export * from './jsonl.js';
export * from './workers.js';
export * from './parallelSampler.js';
