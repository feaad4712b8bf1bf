import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { batchSource, split, toTensor } from '@tfjs-diffusion/data';
import { loadMnist } from '@tfjs-diffusion/data/node';
import { UNet, unetPreset } from '@tfjs-diffusion/models';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from './index.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

describe('training mnist-tiny on MNIST digits', () => {
  it('lowers the fixed-noise validation loss over 240 steps', async () => {
    const { train, validation } = split(loadMnist(), { validation: 128, seed: 0 });
    const val = toTensor(validation);
    const model = new UNet(unetPreset('mnist-tiny', { predictionType: 'v' }), { seed: 0 });
    const trainer = await createTrainer({
      denoiser: model,
      schedule: makeSchedule({ betaSchedule: 'squaredcos_cap_v2' }),
      data: batchSource(train, { batchSize: 16, seed: 0 }),
      validation: { images: val.images, labels: val.labels, timesteps: 8 },
      learningRate: { schedule: 'cosine', peak: 4e-3, warmupSteps: 20, totalSteps: 240 },
      regularizers: { pUncond: 0.1, clipGradNorm: 1 },
      seed: 0,
    });
    const before = (await trainer.evaluate()).loss;
    const { validation: curve } = await trainer.fit({ steps: 240, every: { validate: 80 } });
    const losses = [before, ...curve.map((v) => v.loss)];
    // Falling at every checkpoint, and by a third overall.
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(losses.at(-1)!).toBeLessThan(0.67 * before);
    await trainer.dispose();
    model.dispose();
    tf.dispose([val.images, val.labels]);
  }, 240_000);
});
