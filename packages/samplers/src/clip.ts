import * as tf from '@tensorflow/tfjs';
import type { X0Processor } from './types.js';

/** Clips the predicted clean sample to [−range, range] (diffusers' `clip_sample`, `clip_sample_range`). */
export function clip(range = 1): X0Processor {
  if (!(range > 0)) throw new Error(`clip: range must be > 0; got ${range}`);
  return Object.assign((x0: tf.Tensor4D) => tf.clipByValue(x0, -range, range), { spec: { factory: 'clip', options: range } });
}
