import * as tf from '@tensorflow/tfjs';
import { makeSchedule, alphaCumprodAt } from '@tfjs-diffusion/schedules';
import { ddim, sample, type Denoiser } from '@tfjs-diffusion/samplers';

// Data N(μ = 2, s = 0.5) has an exact noise predictor, so no trained model is needed:
// ε̂(x_t) = √(1−ᾱ)(x_t − √ᾱ μ) / (ᾱ s² + 1 − ᾱ).
const schedule = makeSchedule(); // linear betas, 1000 steps
const mu = 2, s = 0.5;
const gaussian: Denoiser = {
  prediction: 'epsilon',
  predict: (x, t) =>
    tf.tidy(() => {
      const a = tf.tensor1d(Array.from(t.dataSync(), (v) => alphaCumprodAt(schedule, v))).reshape([-1, 1, 1, 1]);
      const num = tf.mul(tf.sqrt(tf.sub(1, a)), tf.sub(x, tf.mul(tf.sqrt(a), mu)));
      return tf.div(num, tf.add(tf.mul(a, s * s), tf.sub(1, a))) as tf.Tensor4D;
    }),
};

const { samples } = await sample(gaussian, ddim({ eta: 0 }), {
  schedule,
  shape: [2000, 1, 1, 1],
  numInferenceSteps: 50,
  seed: 42,
  onStep: (i, n) => void (i % 10 === 0 && console.log(`step ${i + 1}/${n}`)),
});
const { mean, variance } = tf.moments(samples);
console.log(`mean ${mean.dataSync()[0].toFixed(3)} (2), std ${Math.sqrt(variance.dataSync()[0]).toFixed(3)} (0.5)`);
tf.dispose([samples, mean, variance]);
