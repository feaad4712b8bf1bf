// Fixed-noise validation: the noise is drawn once, so successive evaluations compare.
import * as tf from '@tensorflow/tfjs';
import { createRng, type NoiseSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import { labelsArray } from './batch.js';
import { addNoise, predictionTarget } from './targets.js';
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

export interface Validation {
  /** Unweighted MSE on the prediction target, mean over the grid. */
  evaluate(denoiser: TrainableDenoiser, prediction: Prediction): EvaluateResult;
  dispose(): void;
}

/** Copies the validation set and draws its noise (the caller may dispose its own tensors afterwards). */
export function createValidation(v: ValidationOptions, schedule: NoiseSchedule): Validation {
  const grid = gridTimesteps(schedule.numTrainTimesteps, v.timesteps);
  const batchSize = v.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`validation.batchSize must be a positive integer; got ${v.batchSize}`);
  const alphasCumprod = Float32Array.from(schedule.alphasCumprod);
  const rng = createRng(v.seed ?? 1234);
  const labelData = labelsArray(v.labels);
  const images = tf.keep(tf.clone(v.images));
  const labels = labelData ? tf.keep(tf.tensor1d(labelData, 'int32')) : undefined;
  const noise = grid.map(() => tf.keep(tf.randomNormal(v.images.shape, 0, 1, 'float32', rng.nextSeed())));
  const n = images.shape[0];
  return {
    evaluate(denoiser, prediction) {
      const perTimestep = grid.map((t, gi) => {
        let sum = 0;
        for (let s = 0; s < n; s += batchSize) {
          const e = Math.min(n, s + batchSize);
          sum += tf.tidy(() => {
            const x0 = tf.slice(images, [s, 0, 0, 0], [e - s, -1, -1, -1]) as tf.Tensor4D;
            const eps = tf.slice(noise[gi]!, [s, 0, 0, 0], [e - s, -1, -1, -1]) as tf.Tensor4D;
            const a = tf.fill([e - s], alphasCumprod[t]!) as tf.Tensor1D;
            const xt = addNoise(x0, eps, a);
            const target = predictionTarget(prediction, x0, eps, a);
            const cond = labels ? { classLabels: tf.slice(labels, [s], [e - s]) } : undefined;
            const out = denoiser.predict(xt, tf.fill([e - s], t) as tf.Tensor1D, cond);
            return tf.sum(tf.mean(tf.square(tf.sub(out, target)), [1, 2, 3])).dataSync()[0]!;
          });
        }
        return { t, loss: sum / n };
      });
      return { loss: perTimestep.reduce((s, p) => s + p.loss, 0) / perTimestep.length, perTimestep };
    },
    dispose() {
      tf.dispose([images, ...(labels ? [labels] : []), ...noise]);
    },
  };
}
