// Trains a small MLP denoiser on a 2-D mixture of two Gaussians, then samples it with DDIM.
import * as tf from '@tensorflow/tfjs';
import { MLPDenoiser } from '@tfjs-diffusion/models';
import { ddim, sample } from '@tfjs-diffusion/samplers';
import { createRng, makeSchedule, type RngState } from '@tfjs-diffusion/schedules';
import { createTrainer } from '@tfjs-diffusion/training';

const rng = createRng(0);
const batch = (n: number) => {
  const xs = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const k = rng.nextInt(2) ? 1 : -1;
    xs[2 * i] = k + 0.1 * rng.normal();
    xs[2 * i + 1] = 0.5 * k + 0.1 * rng.normal();
  }
  return tf.tensor4d(xs, [n, 1, 1, 2]);
};

const schedule = makeSchedule({ betaSchedule: 'squaredcos_cap_v2' });
const denoiser = new MLPDenoiser({ dim: 2, hidden: 64, layers: 2 });
const trainer = await createTrainer({
  denoiser,
  schedule,
  data: { next: () => ({ images: batch(128) }), getState: () => rng.getState(), setState: (s: RngState) => rng.setState(s) },
  validation: { images: batch(256) },
  learningRate: { schedule: 'cosine', peak: 3e-3, warmupSteps: 50, totalSteps: 800 },
  regularizers: { ema: { maxDecay: 0.99 }, clipGradNorm: 1, minSnrGamma: 5 },
});
const { validation } = await trainer.fit({ steps: 800, every: { validate: 200 } });
console.log('validation loss:', validation.map((v) => `${v.step}: ${v.loss.toFixed(4)}`).join(', '));

const { samples } = await trainer.ema!.withAveraged(() =>
  sample(denoiser, ddim(), { schedule, shape: [512, 1, 1, 2], numInferenceSteps: 50, seed: 1 }),
);
const xs = await samples.data();
let right = 0;
for (let i = 0; i < 512; i++) if (Math.hypot(Math.abs(xs[2 * i]!) - 1, Math.abs(xs[2 * i + 1]!) - 0.5) < 0.3) right++;
console.log(`${right} of 512 samples lie within 0.3 of a mixture centre`);
await trainer.dispose();
