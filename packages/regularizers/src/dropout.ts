import * as tf from '@tensorflow/tfjs';

/**
 * Inverted dropout: zero each element with probability `rate` and scale the
 * rest by 1 / (1 - rate), so the expected activation is unchanged and
 * inference needs no rescaling. Seeded, so a training step is reproducible.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  if (!(rate >= 0 && rate < 1)) {
    throw new RangeError(`dropout: rate must be in [0, 1), got ${rate}`);
  }
  if (rate === 0) return x;
  return tf.tidy(() => {
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), rate), 'float32');
    return tf.mul(x, tf.mul(keep, 1 / (1 - rate))) as T;
  });
}
