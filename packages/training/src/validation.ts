// Fixed-noise validation: the noise is drawn once, so successive evaluations compare.
import * as tf from '@tensorflow/tfjs';
import { checkOptions, createRng, optionKeys, type NoiseSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import { labelsArray } from './labels.js';
import { addNoise, flowNoise, predictionTarget } from './targets.js';
import type { TrainableDenoiser, ValidationSet } from './types.js';

export interface ValidationOptions extends ValidationSet {
  /** Timesteps of the validation grid, or how many evenly spaced ones. Default 10. */
  timesteps?: number[] | number;
  /** Seed of the validation noise (drawn once). Default 1234. */
  seed?: number;
  batchSize?: number;
}

export interface EvaluateResult {
  loss: number;
  perTimestep: { t: number; loss: number }[];
}

/** The validation timesteps: the given list (checked), or `n` evenly spaced midpoints of [0, T). */
export function gridTimesteps(T: number, spec: number[] | number | undefined): number[] {
  if (Array.isArray(spec)) {
    for (const t of spec) {
      if (!Number.isInteger(t) || t < 0 || t >= T) throw new RangeError(`validation.timesteps must be integers in [0, ${T - 1}], got ${t}`);
    }
    return spec.slice();
  }
  const n = spec ?? 10;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`validation.timesteps must be a positive integer or a list, got ${n}`);
  return Array.from({ length: n }, (_, i) => Math.min(T - 1, Math.floor(((i + 0.5) * T) / n)));
}

/**
 * A validation set as plain arrays (structured-cloneable): what a worker
 * thread needs to evaluate items of it. `noise[g]` is grid point g's fixed noise.
 */
export interface ValidationData {
  shape: [number, number, number, number];
  images: Float32Array;
  labels?: Int32Array;
  grid: number[];
  alphas: number[];
  /** The schedule's (flow matching's grid σ = (t + 1)/T needs it). */
  numTrainTimesteps: number;
  noise: Float32Array[];
  batchSize: number;
}

/** Rows [s, e) of the validation set at grid point g: the unit of work split over threads. */
export interface ValidationItem {
  g: number;
  s: number;
  e: number;
}

/** Runs validation items somewhere else (worker threads); resolves with each item's sum of per-sample losses. */
export type RemoteValidation = (items: ValidationItem[][]) => Promise<number[][]>;

export interface Validation {
  /** Unweighted MSE on the prediction target, mean over the grid. */
  evaluate(denoiser: TrainableDenoiser, prediction: Prediction): EvaluateResult;
  /**
   * The same result, bit for bit, with the items split round-robin between this
   * thread and `remote.threads − 1` others (each item's sum is added in the
   * sequential order). The others must hold the same weights.
   */
  evaluateParallel(denoiser: TrainableDenoiser, prediction: Prediction, remote: { threads: number; run: RemoteValidation }): Promise<EvaluateResult>;
  /** The set as plain arrays, for `validationEvaluator` in worker threads. */
  data(): ValidationData;
  dispose(): void;
}

interface ValidationTensors {
  images: tf.Tensor4D;
  labels: tf.Tensor1D | undefined;
  noise: tf.Tensor4D[];
  grid: number[];
  alphas: number[];
  numTrainTimesteps: number;
}

/** The sum over rows [s, e) at grid point g of each sample's mean squared error. */
function itemSum(denoiser: TrainableDenoiser, prediction: Prediction, v: ValidationTensors, { g, s, e }: ValidationItem): number {
  return tf.tidy(() => {
    const x0 = tf.slice(v.images, [s, 0, 0, 0], [e - s, -1, -1, -1]) as tf.Tensor4D;
    const eps = tf.slice(v.noise[g]!, [s, 0, 0, 0], [e - s, -1, -1, -1]) as tf.Tensor4D;
    const a = tf.fill([e - s], v.alphas[g]!) as tf.Tensor1D;
    // Flow matching: grid timestep t is σ = (t + 1)/T, the model's timestep σ·T = t + 1.
    const flow = prediction === 'flow';
    const xt = flow ? flowNoise(x0, eps, tf.fill([e - s], (v.grid[g]! + 1) / v.numTrainTimesteps) as tf.Tensor1D) : addNoise(x0, eps, a);
    const target = predictionTarget(prediction, x0, eps, a);
    const cond = v.labels ? { classLabels: tf.slice(v.labels, [s], [e - s]) } : undefined;
    const out = denoiser.predict(xt, tf.fill([e - s], v.grid[g]! + (flow ? 1 : 0)) as tf.Tensor1D, cond);
    return tf.sum(tf.mean(tf.square(tf.sub(out, target)), [1, 2, 3])).dataSync()[0]!;
  });
}

function itemsOf(n: number, gridLength: number, batchSize: number): ValidationItem[] {
  const items: ValidationItem[] = [];
  for (let g = 0; g < gridLength; g++) {
    for (let s = 0; s < n; s += batchSize) items.push({ g, s, e: Math.min(n, s + batchSize) });
  }
  return items;
}

/** Adds the item sums in item order (grid point by grid point, rows in order) into the result. */
function collect(grid: number[], n: number, items: ValidationItem[], sums: number[]): EvaluateResult {
  const totals = grid.map(() => 0);
  items.forEach((it, i) => (totals[it.g]! += sums[i]!));
  const perTimestep = grid.map((t, g) => ({ t, loss: totals[g]! / n }));
  return { loss: perTimestep.reduce((s, p) => s + p.loss, 0) / perTimestep.length, perTimestep };
}

export const VALIDATION_KEYS = optionKeys<ValidationOptions>()(['images', 'labels', 'timesteps', 'seed', 'batchSize']);

/** Copies the validation set and draws its noise (the caller may dispose its own tensors afterwards). */
export function createValidation(v: ValidationOptions, schedule: NoiseSchedule): Validation {
  checkOptions('createValidation', v, VALIDATION_KEYS);
  const grid = gridTimesteps(schedule.numTrainTimesteps, v.timesteps);
  const batchSize = v.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`validation.batchSize must be a positive integer; got ${v.batchSize}`);
  const alphasCumprod = Float32Array.from(schedule.alphasCumprod);
  const rng = createRng(v.seed ?? 1234);
  const labelData = labelsArray(v.labels);
  const images = tf.keep(tf.clone(v.images));
  const labels = labelData ? tf.keep(tf.tensor1d(labelData, 'int32')) : undefined;
  const noise = grid.map(() => tf.keep(tf.randomNormal(v.images.shape, 0, 1, 'float32', rng.nextSeed())) as tf.Tensor4D);
  const n = images.shape[0];
  const tensors: ValidationTensors = { images, labels, noise, grid, alphas: grid.map((t) => alphasCumprod[t]!), numTrainTimesteps: schedule.numTrainTimesteps };
  const items = itemsOf(n, grid.length, batchSize);
  return {
    evaluate(denoiser, prediction) {
      return collect(grid, n, items, items.map((it) => itemSum(denoiser, prediction, tensors, it)));
    },
    async evaluateParallel(denoiser, prediction, remote) {
      const k = Math.max(1, remote.threads);
      const mine = items.filter((_, i) => i % k === 0);
      const theirs = Array.from({ length: k - 1 }, (_, w) => items.filter((_, i) => i % k === w + 1));
      const pending = k > 1 ? remote.run(theirs) : Promise.resolve([]);
      pending.catch(() => {});
      const local = mine.map((it) => itemSum(denoiser, prediction, tensors, it));
      const others = await pending;
      const sums = items.map((_, i) => (i % k === 0 ? local[i / k] : others[(i % k) - 1]![Math.floor(i / k)])!);
      return collect(grid, n, items, sums);
    },
    data() {
      return {
        shape: images.shape as ValidationData['shape'],
        images: images.dataSync() as Float32Array,
        labels: labelData,
        grid: grid.slice(),
        alphas: tensors.alphas.slice(),
        numTrainTimesteps: tensors.numTrainTimesteps,
        noise: noise.map((x) => x.dataSync() as Float32Array),
        batchSize,
      };
    },
    dispose() {
      tf.dispose([images, ...(labels ? [labels] : []), ...noise]);
    },
  };
}

/** A worker thread's side of `evaluateParallel`: the set from `data()`, evaluated item by item on `denoiser`. */
export function validationEvaluator(d: ValidationData) {
  const tensors: ValidationTensors = {
    images: tf.tensor4d(d.images, d.shape),
    labels: d.labels ? tf.tensor1d(d.labels, 'int32') : undefined,
    noise: d.noise.map((x) => tf.tensor4d(x, d.shape)),
    grid: d.grid,
    alphas: d.alphas,
    numTrainTimesteps: d.numTrainTimesteps,
  };
  return {
    sums: (denoiser: TrainableDenoiser, prediction: Prediction, items: ValidationItem[]) => items.map((it) => itemSum(denoiser, prediction, tensors, it)),
    dispose: () => tf.dispose([tensors.images, ...(tensors.labels ? [tensors.labels] : []), ...tensors.noise]),
  };
}
