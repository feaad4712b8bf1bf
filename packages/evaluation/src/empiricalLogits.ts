import * as tf from '@tensorflow/tfjs';
import { noiseCoefficients } from './alphaBar.js';
import type { NoiseSchedule, Prediction } from '@tfjs-diffusion/schedules';

export function checkChunkSize(chunkSize: number): number {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a positive integer; got ${chunkSize}`);
  }
  return chunkSize;
}

/** Per-row coefficients of a batch: √ᾱ, √(1−ᾱ) on the host and the two logit scales as [B, 1] tensors. */
export interface BatchCoefficients {
  a: Float64Array;
  s: Float64Array;
  /** √ᾱ / (1 − ᾱ), multiplies x·y. */
  dotScale: tf.Tensor2D;
  /** ᾱ / (1 − ᾱ), multiplies ‖y‖²/2. */
  normScale: tf.Tensor2D;
}

export function batchCoefficients(schedule: NoiseSchedule, t: tf.Tensor1D, batch: number, temperatures?: Float64Array): BatchCoefficients {
  if (t.shape[0] !== batch) throw new Error(`t must have one timestep per batch row (${batch}); got shape [${t.shape.join(', ')}]`);
  const { a, s } = noiseCoefficients(schedule, t.dataSync());
  const dot = new Float32Array(batch);
  const norm = new Float32Array(batch);
  for (let i = 0; i < batch; i++) {
    const s2 = s[i]! * s[i]!;
    const tau = temperatures ? temperatures[i]! : 1;
    dot[i] = a[i]! / s2 / tau;
    norm[i] = (a[i]! * a[i]!) / s2 / tau;
  }
  return { a, s, dotScale: tf.tensor2d(dot, [batch, 1]), normScale: tf.tensor2d(norm, [batch, 1]) };
}

/**
 * Logits −‖x − √ᾱ y_i‖² / (2(1 − ᾱ)) up to a per-row constant: the ‖x‖² term
 * is the same for every training point, so it is dropped; that keeps the
 * logits small and exact where σ is tiny (no cancellation of two huge terms).
 * x: [B, D], y: [Nc, D], halfSq: [1, Nc] = ‖y‖²/2.
 */
export function empiricalLogits(x: tf.Tensor2D, y: tf.Tensor2D, halfSq: tf.Tensor2D, c: BatchCoefficients): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tf.mul(tf.matMul(x, y, false, true), c.dotScale), tf.mul(c.normScale, halfSq)));
}

/** Turns a predicted clean sample into the requested prediction at the batch's noise levels. */
export function fromSample(x: tf.Tensor4D, x0: tf.Tensor4D, c: BatchCoefficients, prediction: Prediction): tf.Tensor4D {
  if (prediction === 'sample') return tf.clone(x0);
  return tf.tidy(() => {
    const b = x.shape[0];
    const a = tf.tensor4d(Float32Array.from(c.a), [b, 1, 1, 1]);
    const s = tf.tensor4d(Float32Array.from(c.s), [b, 1, 1, 1]);
    const eps = tf.div(tf.sub(x, tf.mul(a, x0)), s);
    if (prediction === 'epsilon') return eps as tf.Tensor4D;
    return tf.sub(tf.mul(a, eps), tf.mul(s, x0)) as tf.Tensor4D;
  });
}

/**
 * out[b, j] = values[b, idx[b, j]] through a flat gather (the wasm backend's
 * GatherV2 with batchDims reads out of bounds).
 */
export function gatherPerRow(values: tf.Tensor2D, idx: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, m] = values.shape;
    const offsets = tf.mul(tf.range(0, b, 1, 'int32'), tf.scalar(m, 'int32'));
    const flat = tf.add(tf.cast(idx, 'int32'), tf.reshape(offsets, [b, 1]));
    return tf.reshape(tf.gather(tf.reshape(values, [-1]), tf.reshape(flat, [-1])), idx.shape) as tf.Tensor2D;
  });
}
