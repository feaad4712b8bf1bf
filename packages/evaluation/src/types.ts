import type * as tf from '@tensorflow/tfjs';

/** What a denoiser's output means (the samplers' contract): ε, v = √ᾱ ε − √(1−ᾱ) x0, or x0. */
export type Prediction = 'epsilon' | 'v' | 'sample';

/**
 * A set of images or vectors: a tensor whose first axis is the item
 * (`[N, H, W, C]`, `[N, 1, 1, D]` or `[N, D]`), or host data with its shape.
 * Items are compared as flat vectors.
 */
export type ImageSet = tf.Tensor | { readonly data: Float32Array; readonly shape: readonly number[] };
