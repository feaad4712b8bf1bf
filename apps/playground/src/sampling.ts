/**
 * Sampling for the page: every sampler the samplers package exports, classifier-free
 * guidance, thresholding, and the predicted x̂0 after every step. No DOM here.
 */
import * as tf from '@tensorflow/tfjs';
import * as samplers from '@tfjs-diffusion/samplers';
import { clip, describeSampler, describeX0Processor, dynamicThreshold, sample, type Sampler, type X0Processor } from '@tfjs-diffusion/samplers';
import type { NoiseSchedule } from '@tfjs-diffusion/schedules';
import type { LoadedModel } from './modelFolder.js';
import { splitRows, WorkerPool, type RowsRequest } from './workers.js';

/** Labels for the sampler factories the page knows by name; any other factory the package exports is listed by its own name. */
const LABELS: Record<string, string> = {
  ddim: 'DDIM',
  ddpm: 'DDPM',
  euler: 'Euler',
  eulerAncestral: 'Euler ancestral',
  heun: 'Heun',
  dpmSolverPlusPlus2M: 'DPM-Solver++ (2M)',
  pndm: 'PNDM',
  lms: 'LMS',
  uniPc: 'UniPC',
  unipc: 'UniPC',
  uniPC: 'UniPC',
};

/** Options the page (like the demo's CLI) gives a factory besides trailing spacing: PNDM as diffusers' pipelines run it. */
const EXTRA: Record<string, Record<string, unknown>> = {
  pndm: { skipPrkSteps: true, setAlphaToOne: true },
};

/** Exports that are functions of an options object but not sampler factories. */
const NOT_SAMPLERS = new Set(['sample', 'describeSampler', 'describeX0Processor', 'samplerFromSpec', 'x0ProcessorFromSpec', 'clip', 'dynamicThreshold', 'classifierFreeGuidance', 'ensemble', 'fromDiffusersConfig', 'startRun', 'eulerFamily', 'eulerStart']);

export interface SamplerEntry {
  /** The factory's export name (what `?sampler=` takes). */
  id: string;
  label: string;
  make: (opts: { eta?: number }) => Sampler;
}

function isSampler(s: unknown): s is Sampler {
  return typeof s === 'object' && s !== null && typeof (s as Sampler).step === 'function' && typeof (s as Sampler).timesteps === 'function';
}

/**
 * The samplers package's sampler factories, found by what they return: every
 * exported function of one options argument that builds a `Sampler` with
 * `{ timestepSpacing: 'trailing' }` (the demo's spacing: the first step starts
 * at the last training timestep). Known ones first, in the package's order.
 */
export function listSamplers(): SamplerEntry[] {
  const out: SamplerEntry[] = [];
  for (const [id, value] of Object.entries(samplers)) {
    if (typeof value !== 'function' || NOT_SAMPLERS.has(id) || value.length > 1 || /^[A-Z]|^(check|make|create|is|to|from|get|read|start|run)/.test(id)) continue;
    const factory = value as (o: Record<string, unknown>) => unknown;
    let probe: unknown;
    try {
      probe = factory({ timestepSpacing: 'trailing' });
    } catch {
      continue;
    }
    if (!isSampler(probe)) continue;
    out.push({
      id,
      label: LABELS[id] ?? id,
      make: ({ eta }) => factory({ timestepSpacing: 'trailing', ...EXTRA[id], ...(eta !== undefined && /ddim|ancestral/i.test(id) ? { eta } : {}) }) as Sampler,
    });
  }
  const known = Object.keys(LABELS);
  return out.sort((a, b) => (known.indexOf(a.id) + 1 || 99) - (known.indexOf(b.id) + 1 || 99));
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
  /** Threads that sampled (the page and its workers). */
  threads: number;
}

/** Sampling on `threads` threads (the page and threads − 1 workers of `pool`). */
export interface Parallel {
  pool: WorkerPool;
  threads: number;
}

export function checkRequest(r: SampleRequest, m: LoadedModel, entries: SamplerEntry[]): void {
  const ids = entries.map((e) => e.id);
  if (!ids.includes(r.sampler)) throw new Error(`sampler must be one of ${ids.join(', ')}; got '${r.sampler}'`);
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
 * Samples r.n images. `onStep(i, n, x0)` gets the predicted clean images
 * after step i (a host copy) for the live preview: with workers, of the
 * page's own rows only (the first ones).
 */
export async function sampleImages(
  m: LoadedModel,
  entries: SamplerEntry[],
  r: SampleRequest,
  onStep?: (i: number, n: number, x0: Float32Array, msPerStep: number) => void | Promise<void>,
  parallel?: Parallel,
): Promise<SampleResult> {
  checkRequest(r, m, entries);
  const entry = entries.find((e) => e.id === r.sampler)!;
  // As the demo's CLI: guidance 0 or 1 samples the conditional model alone.
  const guided = r.labels !== undefined && m.numClasses !== undefined && r.guidance > 0 && r.guidance !== 1;
  const sampler = entry.make({ eta: r.eta });
  const x0Processor = thresholdProcessor(r.threshold);
  const shape: [number, number, number, number] = [r.n, m.height, m.width, m.channels];
  const ranges = splitRows(r.n, parallel?.threads ?? 1);
  // The page samples the first rows; workers the others, started before the page's loop.
  let remote: Promise<Float32Array[]> | undefined;
  if (parallel && ranges.length > 1) {
    const workers = await parallel.pool.prepare(m, ranges.length - 1);
    const base: Omit<RowsRequest, 'rows'> = {
      sampler: describeSampler(sampler), x0Processor: x0Processor && describeX0Processor(x0Processor), schedule: m.schedule as NoiseSchedule,
      shape, numInferenceSteps: r.steps, seed: r.seed, classLabels: r.labels && { data: Int32Array.from(r.labels), shape: [r.labels.length] },
      guidance: guided ? { guidanceScale: r.guidance, nullClass: m.numClasses! } : undefined,
    };
    remote = Promise.all(workers.map((w, i) => WorkerPool.rows(w, { ...base, rows: ranges[i + 1]! })));
    remote.catch(() => {});
  }
  const labels = r.labels ? tf.tensor1d(Int32Array.from(r.labels), 'int32') : undefined;
  const t0 = performance.now();
  let last = t0;
  let stepsDone = 0;
  let stepMs = 0;
  try {
    const out = await sample(m.model, sampler, {
      schedule: m.schedule as NoiseSchedule,
      shape,
      rows: remote ? ranges[0] : undefined,
      numInferenceSteps: r.steps,
      seed: r.seed,
      cond: labels ? { classLabels: labels } : undefined,
      guidance: guided ? { guidanceScale: r.guidance, nullClass: m.numClasses! } : undefined,
      x0Processor,
      onStep: async (i, n, x0) => {
        const data = (await x0.data()) as Float32Array;
        const now = performance.now();
        stepMs += now - last;
        stepsDone++;
        if (onStep) await onStep(i, n, data, stepMs / stepsDone);
        last = performance.now();
      },
    });
    const mine = (await out.samples.data()) as Float32Array;
    tf.dispose([out.samples, ...out.intermediates, ...out.predictions]);
    let pixels = mine;
    if (remote) {
      const w0 = performance.now();
      const parts = await remote;
      // A step's time includes waiting for the workers' rows.
      stepMs += performance.now() - w0;
      pixels = new Float32Array(r.n * m.height * m.width * m.channels);
      const row = m.height * m.width * m.channels;
      pixels.set(mine, 0);
      parts.forEach((p, i) => pixels.set(p, ranges[i + 1]![0] * row));
    }
    return { pixels, msPerStep: stepsDone ? stepMs / stepsDone : NaN, steps: stepsDone, threads: ranges.length };
  } catch (e) {
    // Let the workers finish their rows so the next run finds them idle.
    await remote?.catch(() => {});
    throw e;
  } finally {
    labels?.dispose();
  }
}
