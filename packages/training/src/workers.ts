// Data parallelism over worker threads (Node only): the backend package's
// createDataParallel with this package's replica module.
import { createDataParallel } from '@tfjs-diffusion/backend/node';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { replicaInit, replicaOf, shardRanges, type ParallelRunner, type ReplicaInit, type StartParallel } from './replica.js';

export interface WorkerThreadsOptions {
  /** Replicas in all, this thread's included. 1 (or less): no workers. */
  threads: number;
  /** How workers rebuild the model; defaults to the denoiser's config (with `kind`). */
  init?: ReplicaInit;
  /** The replica module; defaults to this package's replica.ts / replica.js. */
  module?: string;
}

const WORKER_THREADS_KEYS = optionKeys<WorkerThreadsOptions>()(['threads', 'init', 'module']);

/** `TrainerOptions.parallel` for `threads` worker threads (shards of each batch, gradients averaged, weights synced). */
export function workerThreads(opts: WorkerThreadsOptions): StartParallel {
  checkOptions('workerThreads', opts, WORKER_THREADS_KEYS);
  if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new RangeError(`workerThreads: threads must be a positive integer; got ${opts.threads}`);
  return async ({ denoiser, prediction, freeze }) => {
    if (opts.threads <= 1) return undefined;
    const init = opts.init ?? replicaInit(denoiser, prediction, freeze);
    const module = opts.module ?? new URL(import.meta.url.endsWith('.ts') ? './replica.ts' : './replica.js', import.meta.url).href;
    const dp = await createDataParallel({ module, init, threads: opts.threads });
    const local = replicaOf(denoiser, prediction, freeze);
    // Workers build their models from the config with their own initial weights: start them from ours.
    try {
      await dp.syncWeights(local);
    } catch (e) {
      await dp.dispose();
      throw e;
    }
    let validationSent = false;
    const runner: ParallelRunner = {
      threads: dp.threads,
      async lossAndGrads(batch, slice, opts) {
        const ranges = shardRanges(batch.shape[0], dp.threads);
        // Gradients of the parameters `local` trains: frozen ones are left out where they are averaged.
        return dp.lossAndGrads(local, ranges.map((x) => slice(x)), ranges.map(([a, b]) => b - a), opts);
      },
      syncWeights: () => dp.syncWeights(local),
      async validate(data, items) {
        if (!validationSent) {
          const d = data();
          await dp.callWorkers('setValidation', items.map(() => d));
          validationSent = true;
        }
        return dp.callWorkers<number[]>('validationSums', items);
      },
      dispose: () => dp.dispose(),
    };
    return runner;
  };
}
