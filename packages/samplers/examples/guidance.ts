import * as tf from '@tensorflow/tfjs';
import { makeSchedule, alphaCumprodAt } from '@tfjs-diffusion/schedules';
import { dpmSolverPlusPlus2M, dynamicThreshold, sample, type Denoiser } from '@tfjs-diffusion/samplers';

// Two classes, N(−0.5, 0.2²) and N(+0.5, 0.2²); the null class (index 2) is N(0, 0.6²).
// Each has an exact noise predictor, so classifier-free guidance runs without a model.
const schedule = makeSchedule();
const means = [-0.5, 0.5, 0], stds = [0.2, 0.2, 0.6];
const classes: Denoiser = {
  prediction: 'epsilon',
  predict: (x, t, cond) =>
    tf.tidy(() => {
      const a = tf.tensor1d(Array.from(t.dataSync(), (v) => alphaCumprodAt(schedule, v))).reshape([-1, 1, 1, 1]);
      const labels = Array.from(cond!.classLabels!.dataSync());
      const mu = tf.tensor1d(labels.map((c) => means[c])).reshape([-1, 1, 1, 1]);
      const s2 = tf.tensor1d(labels.map((c) => stds[c] ** 2)).reshape([-1, 1, 1, 1]);
      const num = tf.mul(tf.sqrt(tf.sub(1, a)), tf.sub(x, tf.mul(tf.sqrt(a), mu)));
      return tf.div(num, tf.add(tf.mul(a, s2), tf.sub(1, a))) as tf.Tensor4D;
    }),
};

const classLabels = tf.tensor1d([0, 1, 1, 0], 'int32');
const { samples } = await sample(classes, dpmSolverPlusPlus2M({ useKarrasSigmas: true }), {
  schedule,
  shape: [4, 4, 4, 1],
  numInferenceSteps: 20,
  seed: 7,
  cond: { classLabels },
  guidance: { guidanceScale: 7.5, guidanceRescale: 0.7, nullClass: 2 },
  x0Processor: dynamicThreshold({ dynamicThresholdingRatio: 0.995, sampleMaxValue: 1 }),
});
const perImage = tf.mean(samples, [1, 2, 3]);
console.log('class', Array.from(classLabels.dataSync()), 'image means', Array.from(perImage.dataSync(), (v) => v.toFixed(2)));
console.log('all in [-1, 1]:', tf.max(tf.abs(samples)).dataSync()[0] <= 1);
tf.dispose([samples, perImage, classLabels]);
