import * as tf from '@tensorflow/tfjs';
import { makeSchedule, alphaCumprodAt } from '@tfjs-diffusion/schedules';
import { predictX0, sample, type Denoiser, type Sampler } from '@tfjs-diffusion/samplers';

// A sampler from scratch: deterministic Euler in ᾱ space. The loop hands each step
// the current x_t, the model output and the noise levels ᾱ_t → ᾱ_prev; the step
// moves the predicted x0 and ε to the next level.
const eulerInAlphaBar: Sampler = {
  name: 'euler-alpha-bar',
  timesteps: (schedule, n) =>
    Array.from({ length: n }, (_, k) => Math.round(((schedule.numTrainTimesteps - 1) * (n - 1 - k)) / (n - 1))),
  step: ({ sample: x, modelOutput, prediction, alphaCumprod: a, prevAlphaCumprod: aPrev }) => {
    const x0 = predictX0(prediction, x, modelOutput, a);
    const eps = tf.div(tf.sub(x, tf.mul(x0, Math.sqrt(a))), Math.sqrt(1 - a));
    const prevSample = tf.add(tf.mul(x0, Math.sqrt(aPrev)), tf.mul(eps, Math.sqrt(1 - aPrev))) as tf.Tensor4D;
    return { prevSample, predOriginalSample: x0 };
  },
};

const schedule = makeSchedule();
const mu = -1, s = 0.3;
const gaussian: Denoiser = {
  prediction: 'epsilon',
  predict: (x, t) =>
    tf.tidy(() => {
      const a = tf.tensor1d(Array.from(t.dataSync(), (v) => alphaCumprodAt(schedule, v))).reshape([-1, 1, 1, 1]);
      const num = tf.mul(tf.sqrt(tf.sub(1, a)), tf.sub(x, tf.mul(tf.sqrt(a), mu)));
      return tf.div(num, tf.add(tf.mul(a, s * s), tf.sub(1, a))) as tf.Tensor4D;
    }),
};

const { samples } = await sample(gaussian, eulerInAlphaBar, { schedule, shape: [2000, 1, 1, 1], numInferenceSteps: 50, seed: 1 });
const { mean, variance } = tf.moments(samples);
console.log(`mean ${mean.dataSync()[0].toFixed(3)} (−1), std ${Math.sqrt(variance.dataSync()[0]).toFixed(3)} (0.3)`);
tf.dispose([samples, mean, variance]);
