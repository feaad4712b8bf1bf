import * as tf from '@tensorflow/tfjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import type { X0Processor } from './types.js';

export interface DynamicThresholdOptions {
  /** The quantile of |x0| taken as the threshold s (diffusers' `dynamic_thresholding_ratio`). Default 0.995. */
  dynamicThresholdingRatio?: number;
  /** Upper bound of s (diffusers' `sample_max_value`). Default 1, which makes this plain clipping to [−1, 1]. */
  sampleMaxValue?: number;
}

const DYNAMIC_THRESHOLD_KEYS = optionKeys<DynamicThresholdOptions>()(['dynamicThresholdingRatio', 'sampleMaxValue']);

/**
 * Dynamic thresholding of Imagen (Saharia et al. 2022), as diffusers'
 * `_threshold_sample`: per sample, s = the `dynamicThresholdingRatio`-quantile of |x0|
 * (linear interpolation, as torch.quantile), clamped to [1, sampleMaxValue]; x0 ← clip(x0, −s, s) / s.
 */
export function dynamicThreshold(options: DynamicThresholdOptions = {}): X0Processor {
  checkOptions('dynamicThreshold', options, DYNAMIC_THRESHOLD_KEYS);
  const ratio = options.dynamicThresholdingRatio ?? 0.995;
  const maxValue = options.sampleMaxValue ?? 1;
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`dynamicThreshold: dynamicThresholdingRatio must be in [0, 1]; got ${ratio}`);
  if (!(maxValue >= 1)) throw new RangeError(`dynamicThreshold: sampleMaxValue must be >= 1; got ${maxValue}`);
  const processor = (x0: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const [b, h, w, c] = x0.shape;
      const m = h * w * c;
      const abs = tf.abs(tf.reshape(x0, [b, m]));
      // torch.quantile: position q (m − 1) in the ascending order, linear between its neighbours.
      const pos = ratio * (m - 1);
      const lo = Math.floor(pos);
      const frac = pos - lo;
      const k = m - lo; // the top k hold ascending positions lo … m − 1
      const top = tf.topk(abs, Math.min(k, m)).values; // descending
      const lower = tf.slice(top, [0, k - 1], [b, 1]);
      const upper = k >= 2 ? tf.slice(top, [0, k - 2], [b, 1]) : lower;
      const quantile = tf.add(lower, tf.mul(tf.sub(upper, lower), frac));
      const s = tf.reshape(tf.clipByValue(quantile, 1, maxValue), [b, 1, 1, 1]);
      return tf.div(tf.minimum(tf.maximum(x0, tf.neg(s)), s), s) as tf.Tensor4D;
    });
  return Object.assign(processor, { spec: { factory: 'dynamicThreshold', options } });
}
