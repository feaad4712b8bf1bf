import type * as tf from '@tensorflow/tfjs';

/**
 * A set of images or vectors: a tensor whose first axis is the item
 * (`[N, H, W, C]`, `[N, 1, 1, D]` or `[N, D]`), or host data with its shape.
 * Items are compared as flat vectors.
 */
export type ImageSet = tf.Tensor | { readonly data: Float32Array; readonly shape: readonly number[] };
