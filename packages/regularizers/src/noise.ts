import * as tf from '@tensorflow/tfjs';

/**
 * Offset noise (Guttenberg 2023): ε + s·ξ with one ξ ~ N(0, 1) per (sample,
 * channel), broadcast over height and width, so the model learns to change
 * an image's mean brightness. Returns a new tensor.
 */
export function offsetNoise(noise: tf.Tensor4D, strength: number, seed: number): tf.Tensor4D {
  if (!(strength >= 0)) throw new RangeError(`offsetNoise: strength must be >= 0, got ${strength}`);
  return tf.tidy(() => {
    if (strength === 0) return tf.clone(noise);
    const [b, , , c] = noise.shape;
    return tf.add(noise, tf.mul(tf.randomNormal([b, 1, 1, c], 0, 1, 'float32', seed), strength)) as tf.Tensor4D;
  });
}

/**
 * Input perturbation (Ning et al. 2023, "Input Perturbation Reduces Exposure
 * Bias in Diffusion Models"): the noised input is built from ε + γ·ξ while the
 * regression target stays ε. Returns the perturbed noise for x_t.
 */
export function perturbNoise(noise: tf.Tensor4D, gamma: number, seed: number): tf.Tensor4D {
  if (!(gamma >= 0)) throw new RangeError(`perturbNoise: gamma must be >= 0, got ${gamma}`);
  return tf.tidy(() => {
    if (gamma === 0) return tf.clone(noise);
    return tf.add(noise, tf.mul(tf.randomNormal(noise.shape, 0, 1, 'float32', seed), gamma)) as tf.Tensor4D;
  });
}
