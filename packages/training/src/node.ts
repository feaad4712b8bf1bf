// Node-only parts: checkpoint and model folders on disk, metrics files, worker threads.
export {
  findCheckpoint,
  loadCheckpoint,
  readCheckpoint,
  resolveCheckpoint,
  resumeTrainer,
  saveCheckpoint,
  writeCheckpoint,
  type WriteCheckpointOptions,
} from './checkpointFiles.js';
export { loadModelFrom, loadWeightsFrom, readModelWeights, writeModelFolder } from './modelFolderFiles.js';
export { exists, nodeFolder, removeStaleTemporaries } from './nodeFolder.js';
export {
  type JsonlWriter,
  jsonlWriter,
  type MetricsLine,
  readJsonl,
  readMetrics,
  truncateMetrics,
} from './jsonl.js';
export { workerThreads, type WorkerThreadsOptions } from './workers.js';
export {
  createParallelSampler,
  type ParallelSampleOptions,
  type ParallelSampler,
  type ParallelSamplerOptions,
  type ParallelSamplingModel,
} from './parallelSampler.js';
