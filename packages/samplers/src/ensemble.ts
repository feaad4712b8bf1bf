import * as tf from '@tensorflow/tfjs';
import type { Conditioning } from './conditioning.js';
import type { Denoiser } from './types.js';

/** A Denoiser whose output is the weighted mean Σ w_i f_i(x, t) / Σ w_i of denoisers of one prediction type. */
export function ensemble(denoisers: readonly Denoiser[], weights?: readonly number[]): Denoiser {
  if (denoisers.length === 0) throw new Error('ensemble: denoisers must not be empty');
  const prediction = denoisers[0].prediction;
  const other = denoisers.find((d) => d.prediction !== prediction);
  if (other) {
    throw new Error(`ensemble: all denoisers must share one prediction type; got '${prediction}' and '${other.prediction}'`);
  }
  const w = weights ?? denoisers.map(() => 1);
  if (w.length !== denoisers.length) throw new Error(`ensemble: weights must have ${denoisers.length} entries; got ${w.length}`);
  const total = w.reduce((a, b) => a + b, 0);
  if (w.some((v) => !Number.isFinite(v)) || total === 0) throw new Error(`ensemble: weights must be finite with a non-zero sum; got [${w}]`);
  return {
    prediction,
    predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning): tf.Tensor4D {
      return tf.tidy(() => tf.addN(denoisers.map((d, i) => tf.mul(d.predict(x, t, cond), w[i] / total))) as tf.Tensor4D);
    },
  };
}
