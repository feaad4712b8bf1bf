/**
 * Sampling for the page: every sampler of the samplers package's registry, classifier-free
 * guidance, thresholding, and the predicted x̂0 after every step. No DOM here.
 */
import * as tf from '@tensorflow/tfjs';
import { clip, createSampler, SAMPLER_REGISTRY, describeSampler, describeX0Processor, dynamicThreshold, sample, type Sampler, type X0Processor } from '@tfjs-diffusion/samplers';
import type { NoiseSchedule } from '@tfjs-diffusion/schedules';
import type { LoadedModel } from './modelFolder.js';
import { shardRanges } from '@tfjs-diffusion/training';
import { WorkerLost, WorkerPool, type RowsRequest, type SampleWorker } from './workers.js';

export type SigmaPlan = 'default' | 'karras' | 'exponential';
export const SIGMA_PLANS: readonly SigmaPlan[] = ['default', 'karras', 'exponential'];
const PLAN_OPTION = { karras: 'useKarrasSigmas', exponential: 'useExponentialSigmas' } as const;

export interface SamplerEntry {
  /** The factory's export name (what `?sampler=` takes; the registry's short name works too). */
  id: string;
  label: string;
  /** The σ plans the sampler takes besides its own grid's. */
  plans: SigmaPlan[];
  make: (opts: { eta?: number; sigmas?: SigmaPlan }) => Sampler;
}

/**
 * The samplers package's registry, each with the demo's recipe: trailing spacing (the first step
 * starts at the last training timestep), the entry's uniform options, η for the samplers that
 * take it, and a σ plan for those that take one.
 */
export function listSamplers(): SamplerEntry[] {
  return SAMPLER_REGISTRY.map((e): SamplerEntry => {
    const plans = SIGMA_PLANS.filter((p) => p === 'default' || Object.hasOwn(e.options, PLAN_OPTION[p]));
    return {
      id: e.factory,
      label: e.label,
      plans,
      make: ({ eta, sigmas }) => {
        const options: Record<string, unknown> = { ...(Object.hasOwn(e.options, 'timestepSpacing') && { timestepSpacing: 'trailing' }), ...e.uniformOptions };
        if (eta !== undefined && Object.hasOwn(e.options, 'eta')) options.eta = eta;
        if (sigmas !== undefined && sigmas !== 'default') options[PLAN_OPTION[sigmas]] = true;
        return createSampler(e.name, options);
      },
    };
  });
}

export type Threshold = 'none' | 'clip' | 'dynamic';
export const THRESHOLDS: readonly Threshold[] = ['none', 'clip', 'dynamic'];

export function thresholdProcessor(t: Threshold): X0Processor | undefined {
  // The demo's dynamic thresholding: Imagen's percentile 0.995, at most 1.5.
  if (t === 'dynamic') return dynamicThreshold({ dynamicThresholdingRatio: 0.995, sampleMaxValue: 1.5 });
  if (t === 'clip') return clip(1);
  return undefined;
}

export interface SampleRequest {
  sampler: string;
  steps: number;
  /** Classifier-free guidance scale w; 0 or 1 (or an unconditional model) means no guidance. */
  guidance: number;
  threshold: Threshold;
  /** DDIM's / ancestral samplers' η. */
  eta?: number;
  /** σ plan of the samplers that take one (Euler family, DPM-Solver++, UniPC); default their grid's own. */
  sigmas?: SigmaPlan;
  seed: number;
  n: number;
  /** The class of each image (class-conditional models). */
  labels?: number[];
}

export interface SampleResult {
  /** [n, h, w, c] images in the data range (about [-1, 1]). */
  pixels: Float32Array;
  /** Mean wall time of one step (model call(s), sampler update, x̂0 readback). */
  msPerStep: number;
  steps: number;
  /** Threads whose rows are in `pixels` (the page and the workers that delivered). */
  threads: number;
  /**
   * Set when a worker was lost (silent past its bound, unreadable, or
   * crashed): why. Its rows were sampled on the page instead, the pool is
   * disposed, and later runs sample on the page alone.
   */
  workerLost?: string;
}

/** Sampling on `threads` threads (the page and threads − 1 workers of `pool`). */
export interface Parallel {
  pool: WorkerPool;
  threads: number;
}

export function checkRequest(r: SampleRequest, m: LoadedModel, entries: SamplerEntry[]): void {
  const ids = entries.map((e) => e.id);
  const entry = entries.find((e) => e.id === r.sampler);
  if (!entry) throw new Error(`sampler must be one of ${ids.join(', ')}; got '${r.sampler}'`);
  if (r.sigmas !== undefined && !SIGMA_PLANS.includes(r.sigmas)) throw new Error(`σ plan must be one of ${SIGMA_PLANS.join(', ')}; got '${r.sigmas}'`);
  if (r.sigmas !== undefined && !entry.plans.includes(r.sigmas)) {
    const takers = entries.filter((e) => e.plans.includes(r.sigmas!)).map((e) => e.label);
    throw new Error(`σ plan ${r.sigmas}: ${entry.label} has no σ plan of its own; ${r.sigmas} σ work with ${takers.join(', ')}`);
  }
  if (!Number.isInteger(r.steps) || r.steps < 1 || r.steps > 1000) throw new Error(`steps must be an integer from 1 to 1000; got ${r.steps}`);
  if (!Number.isFinite(r.guidance) || r.guidance < 0 || r.guidance > 30) throw new Error(`guidance must be a number from 0 to 30; got ${r.guidance}`);
  if (!THRESHOLDS.includes(r.threshold)) throw new Error(`threshold must be one of ${THRESHOLDS.join(', ')}; got '${r.threshold}'`);
  if (!Number.isInteger(r.seed) || r.seed < 0) throw new Error(`seed must be a non-negative integer; got ${r.seed}`);
  if (!Number.isInteger(r.n) || r.n < 1 || r.n > 256) throw new Error(`n must be an integer from 1 to 256; got ${r.n}`);
  if (r.labels) {
    if (m.numClasses === undefined) throw new Error('class needs a class-conditional model; this one is unconditional');
    for (const c of r.labels) if (!Number.isInteger(c) || c < 0 || c >= m.numClasses) throw new Error(`class must be an integer from 0 to ${m.numClasses - 1}; got ${c}`);
  }
}

/**
 * How long a sampling worker may stay silent: it reports before each model
 * evaluation of its rows, which are never more than the page's own rows, so
 * a step of the page's measures the work. The bound is `SILENCE_STEPS` times
 * the page's slowest step so far (while the page is in a step, the time it
 * has spent in it), and never under `SILENCE_FLOOR_MS`, which covers pauses
 * of a busy machine that no step time shows.
 */
export const SILENCE_STEPS = 10;
export const SILENCE_FLOOR_MS = 30_000;

/**
 * Samples r.n images. `onStep(i, n, x0, msPerStep, rows)` gets the predicted
 * clean images of `rows` after step i (a host copy) for the live preview:
 * with workers, of the page's own rows only (the first ones), then of any
 * rows the page samples in place of a lost worker.
 */
export async function sampleImages(
  m: LoadedModel,
  entries: SamplerEntry[],
  r: SampleRequest,
  onStep?: (i: number, n: number, x0: Float32Array, msPerStep: number, rows: [number, number]) => void | Promise<void>,
  parallel?: Parallel,
): Promise<SampleResult> {
  checkRequest(r, m, entries);
  const entry = entries.find((e) => e.id === r.sampler)!;
  // As the demo's CLI: guidance 0 or 1 samples the conditional model alone.
  const guided = r.labels !== undefined && m.numClasses !== undefined && r.guidance > 0 && r.guidance !== 1;
  const shape: [number, number, number, number] = [r.n, m.height, m.width, m.channels];
  const rowSize = m.height * m.width * m.channels;
  let ranges = shardRanges(r.n, parallel?.threads ?? 1);
  let lost: WorkerLost | undefined;
  let workers: SampleWorker[] = [];
  if (parallel && ranges.length > 1) {
    try {
      workers = await parallel.pool.prepare(m, ranges.length - 1);
    } catch (e) {
      if (!(e instanceof WorkerLost)) throw e;
      // The pool is disposed: every row on the page.
      lost = e;
      ranges = [[0, r.n]];
    }
  }
  // The page's pace, for the workers' silence bound.
  const pace = { slowest: 0, stepStart: performance.now(), stepping: true };
  const silence = () => Math.max(SILENCE_FLOOR_MS, SILENCE_STEPS * Math.max(pace.slowest, pace.stepping ? performance.now() - pace.stepStart : 0));
  // The page samples the first rows; workers the others, started before the page's loop.
  let remote: Promise<PromiseSettledResult<Float32Array>[]> | undefined;
  if (workers.length) {
    const spec = entry.make({ eta: r.eta, sigmas: r.sigmas });
    const x0Spec = thresholdProcessor(r.threshold);
    const base: Omit<RowsRequest, 'rows'> = {
      sampler: describeSampler(spec), x0Processor: x0Spec && describeX0Processor(x0Spec), schedule: m.schedule as NoiseSchedule,
      shape, numInferenceSteps: r.steps, seed: r.seed, cond: r.labels && { classLabels: { data: Int32Array.from(r.labels), shape: [r.labels.length] } },
      guidance: guided ? { guidanceScale: r.guidance, nullClass: m.numClasses! } : undefined,
    };
    remote = Promise.allSettled(workers.map((w, i) => WorkerPool.rows(w, { ...base, rows: ranges[i + 1]! }, silence)));
  }
  const labels = r.labels ? tf.tensor1d(Int32Array.from(r.labels), 'int32') : undefined;
  let stepsDone = 0;
  let stepMs = 0;
  /** `rows` sampled on the page (all of them: `rows` undefined); `steps`: its steps are the run's (else the caller times it). */
  const onPage = async (rows: [number, number] | undefined, steps: boolean): Promise<Float32Array> => {
    let last = performance.now();
    pace.stepStart = last;
    // A fresh sampler per run: samplers keep state between steps.
    const sampler = entry.make({ eta: r.eta, sigmas: r.sigmas });
    const out = await sample(m.model, sampler, {
      schedule: m.schedule as NoiseSchedule,
      shape,
      rows,
      numInferenceSteps: r.steps,
      seed: r.seed,
      cond: labels ? { classLabels: labels } : undefined,
      guidance: guided ? { guidanceScale: r.guidance, nullClass: m.numClasses! } : undefined,
      x0Processor: thresholdProcessor(r.threshold),
      onStep: async (i, n, x0) => {
        const data = (await x0.data()) as Float32Array;
        const now = performance.now();
        pace.slowest = Math.max(pace.slowest, now - last);
        if (steps) {
          stepMs += now - last;
          stepsDone++;
        }
        if (onStep) await onStep(i, n, data, stepMs / Math.max(1, stepsDone), rows ?? [0, r.n]);
        last = pace.stepStart = performance.now();
      },
    });
    try {
      return (await out.samples.data()) as Float32Array;
    } finally {
      tf.dispose([out.samples, ...out.intermediates, ...out.predictions]);
    }
  };
  try {
    let pixels: Float32Array;
    let threads = 1;
    try {
      pixels = await onPage(remote ? ranges[0] : undefined, true);
    } finally {
      pace.stepping = false;
    }
    if (remote) {
      const mine = pixels;
      const w0 = performance.now();
      // Settles within the silence bound even when a worker is gone.
      const parts = await remote;
      remote = undefined;
      // A step's time includes waiting for the workers' rows.
      stepMs += performance.now() - w0;
      pixels = new Float32Array(r.n * rowSize);
      pixels.set(mine, 0);
      const failed = parts.find((p): p is PromiseRejectedResult => p.status === 'rejected' && !(p.reason instanceof WorkerLost));
      const gone = parts.find((p): p is PromiseRejectedResult => p.status === 'rejected' && p.reason instanceof WorkerLost);
      if (gone) {
        lost ??= gone.reason as WorkerLost;
        parallel!.pool.fail(lost);
      }
      // A worker's own error is the run's result, as the page's would be.
      if (failed) throw failed.reason;
      for (const [i, p] of parts.entries()) {
        const rows = ranges[i + 1]!;
        if (p.status === 'fulfilled') {
          pixels.set(p.value, rows[0] * rowSize);
          threads++;
        } else {
          // The lost worker's rows, on the page: the same draws, so the same images.
          const t0 = performance.now();
          pixels.set(await onPage(rows, false), rows[0] * rowSize);
          stepMs += performance.now() - t0;
        }
      }
    }
    return { pixels, msPerStep: stepsDone ? stepMs / stepsDone : NaN, steps: stepsDone, threads, workerLost: lost?.message };
  } catch (e) {
    // Let the workers finish their rows so the next run finds them idle (bounded: a silent one is given up).
    const parts = await remote;
    const gone = parts?.find((p): p is PromiseRejectedResult => p.status === 'rejected' && p.reason instanceof WorkerLost);
    if (gone) parallel!.pool.fail(gone.reason as WorkerLost);
    throw e;
  } finally {
    labels?.dispose();
  }
}
