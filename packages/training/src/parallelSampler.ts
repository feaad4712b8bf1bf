// sample() over worker threads (Node only): the backend package's createDataParallel with the
// sampling replica module; each worker samples rows of the batch with its own backend instance.
import * as tf from '@tensorflow/tfjs';
import { createDataParallel, type DataParallel } from '@tfjs-diffusion/backend/node';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import {
  conditioningToHost, describeSampler, describeX0Processor, sample, type Denoiser, type HostTensor, type Sampler, type SampleOptions, type SampleOutput,
} from '@tfjs-diffusion/samplers';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { shardRanges } from './replica.js';
import type { RowsRequest, SamplingReplicaInit } from './samplingReplica.js';

/** A model the workers can rebuild: a models package UNet or MLPDenoiser (a config with `kind`, named parameters). */
export type ParallelSamplingModel = Denoiser & { readonly config?: unknown; parameters(): NamedParameter[] };

/** `sample()`'s options, less what cannot cross threads: `onStep` sees this thread's rows only (the first shard). */
export type ParallelSampleOptions = Omit<SampleOptions, 'returnIntermediates' | 'rows'>;

export interface ParallelSamplerOptions {
  /** Threads in all, this one included. 1: no workers (`sample()` here). Under tfjs-node none (TensorFlow's pool). */
  threads: number;
  /** How workers rebuild the model; default the model's config (with `kind`). */
  init?: SamplingReplicaInit;
}

export interface ParallelSampler {
  /** Threads that sample, this one included. */
  readonly threads: number;
  /** What was requested and what runs, e.g. "threads: 2 requested; 2 replicas on wasm". */
  readonly plan: string;
  /**
   * `sample(denoiser, sampler, options)` with the batch split into `threads` row ranges, one per thread,
   * sampled at the same time. Same seed, same images as one thread: every random draw is the whole
   * batch's (`SampleOptions.rows`). `denoiser` must have the workers' parameters (name, order, size); its
   * current weights are copied to them first. `sampler` and `x0Processor` must be built by the samplers
   * package's factories (`describeSampler`).
   */
  sample(denoiser: ParallelSamplingModel, sampler: Sampler, options: ParallelSampleOptions): Promise<SampleOutput>;
  /** Ends the workers. */
  dispose(): Promise<void>;
}

async function host(t: tf.Tensor | undefined): Promise<HostTensor | undefined> {
  if (!t) return undefined;
  return { data: (await t.data()) as Float32Array | Int32Array, shape: t.shape.slice() };
}

const PARALLEL_SAMPLER_KEYS = optionKeys<ParallelSamplerOptions>()(['threads', 'init']);

/**
 * Starts `threads − 1` worker threads, each building `model` from its config (workers start once;
 * reuse the sampler across calls, then `dispose()`).
 */
export async function createParallelSampler(model: ParallelSamplingModel, opts: ParallelSamplerOptions): Promise<ParallelSampler> {
  checkOptions('createParallelSampler', opts, PARALLEL_SAMPLER_KEYS);
  if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new RangeError(`createParallelSampler: threads must be a positive integer; got ${opts.threads}`);
  let init = opts.init;
  if (!init && opts.threads > 1) {
    const config = model.config as ({ kind?: unknown } & Record<string, unknown>) | undefined;
    if (!config || typeof config.kind !== 'string') {
      throw new Error("createParallelSampler: the model has no config with a 'kind' to rebuild it in workers (a models package UNet or MLPDenoiser has one); pass init");
    }
    init = { model: { ...config, kind: config.kind } };
  }
  const module = new URL(import.meta.url.endsWith('.ts') ? './samplingReplica.ts' : './samplingReplica.js', import.meta.url).href;
  const dp: DataParallel<never> | undefined = opts.threads > 1 ? await createDataParallel({ module, init, threads: opts.threads }) : undefined;
  const threads = dp?.threads ?? 1;
  let busy = false;
  return {
    threads,
    plan: dp?.plan ?? `threads: ${opts.threads}; sampling in this thread`,
    async sample(denoiser, sampler, options) {
      if ((options as SampleOptions).returnIntermediates) throw new Error('parallel sample: returnIntermediates is not supported; use sample() for it');
      if ((options as SampleOptions).rows !== undefined) throw new Error('parallel sample: rows is set by the parallel sampler itself');
      const batch = (options.initImage?.shape ?? options.shape ?? options.noise?.shape)?.[0];
      if (!dp || threads === 1 || batch === undefined || batch < 2) return sample(denoiser, sampler, options);
      if (busy) throw new Error('parallel sample: a call is already running on these workers; await it first');
      busy = true;
      try {
        const ranges = shardRanges(batch, threads);
        const spec = describeSampler(sampler);
        const x0Processor = options.x0Processor ? describeX0Processor(options.x0Processor) : undefined;
        const [cond, initImage, noise] = await Promise.all([conditioningToHost(options.cond), host(options.initImage), host(options.noise)]);
        await dp.syncWeights(denoiser);
        const base: Omit<RowsRequest, 'rows'> = {
          sampler: spec, schedule: options.schedule, shape: options.shape, numInferenceSteps: options.numInferenceSteps, seed: options.seed,
          cond, guidance: options.guidance, x0Processor, checkFinite: options.checkFinite, strength: options.strength, initImage, noise,
        };
        const remote = dp.callWorkers<HostTensor>('sampleRows', ranges.slice(1).map((rows) => ({ ...base, rows })));
        remote.catch(() => {});
        const local = await sample(denoiser, sampler, { ...options, rows: ranges[0] }).catch(async (e: unknown) => {
          // Let the workers finish their rows so the next call finds them idle.
          await remote.catch(() => {});
          throw e;
        });
        let parts: HostTensor[];
        try {
          parts = await remote;
        } catch (e) {
          local.samples.dispose();
          throw e;
        }
        const samples = tf.tidy(() => tf.concat([local.samples, ...parts.map((p) => tf.tensor4d(p.data as Float32Array, p.shape as [number, number, number, number]))]));
        local.samples.dispose();
        return { samples, intermediates: [], predictions: [] };
      } finally {
        busy = false;
      }
    },
    dispose: async () => {
      await dp?.dispose();
    },
  };
}
