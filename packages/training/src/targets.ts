import * as tf from '@tensorflow/tfjs';
import { checkPrediction, type Prediction } from '@tfjs-diffusion/schedules';

function perSample(values: tf.Tensor1D): tf.Tensor4D {
  return tf.reshape(values, [-1, 1, 1, 1]);
}

/** x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε, with ᾱ_t given per sample. */
export function addNoise(x0: tf.Tensor4D, noise: tf.Tensor4D, alphaCumprod: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const a = perSample(alphaCumprod);
    return tf.add(tf.mul(tf.sqrt(a), x0), tf.mul(tf.sqrt(tf.sub(1, a)), noise));
  });
}

/** Flow matching's x_σ = (1 − σ) x0 + σ ε, with σ given per sample. */
export function flowNoise(x0: tf.Tensor4D, noise: tf.Tensor4D, sigma: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const s = perSample(sigma);
    return tf.add(tf.mul(tf.sub(1, s), x0), tf.mul(s, noise));
  });
}

/** The regression target for each prediction type: ε, v = √ᾱ ε − √(1 − ᾱ) x0 (Salimans & Ho 2022), x0, or flow matching's ε − x0. */
export function predictionTarget(
  prediction: Prediction,
  x0: tf.Tensor4D,
  noise: tf.Tensor4D,
  alphaCumprod: tf.Tensor1D,
): tf.Tensor4D {
  checkPrediction(prediction);
  return tf.tidy(() => {
    if (prediction === 'epsilon') return tf.clone(noise);
    if (prediction === 'sample') return tf.clone(x0);
    if (prediction === 'flow') return tf.sub(noise, x0);
    const a = perSample(alphaCumprod);
    return tf.sub(tf.mul(tf.sqrt(a), noise), tf.mul(tf.sqrt(tf.sub(1, a)), x0));
  });
}
