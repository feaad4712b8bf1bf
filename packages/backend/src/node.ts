// Node-only parts of @tfjs-diffusion/backend: data parallelism over worker threads.
export {
  createDataParallel,
  type DataParallel,
  type DataParallelOptions,
  type FromWorker,
  type Replica,
  type ToWorker,
} from './parallel/index.js';
