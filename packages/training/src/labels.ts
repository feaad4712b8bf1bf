// A batch's class labels as host integers, whichever form the batch carries them in.
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './types.js';

/** The labels of a batch as an Int32Array (read from the tensor when they are one), or undefined. */
export function labelsArray(labels: Batch['labels']): Int32Array | undefined {
  if (labels === undefined) return undefined;
  if (labels instanceof tf.Tensor) return Int32Array.from(labels.dataSync());
  return Int32Array.from(labels);
}
