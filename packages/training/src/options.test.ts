import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import {
  createDistiller, createTrainer, createValidation, distill, fit, inferenceWeights, learningRateAt,
  type TrainerOptions,
} from './index.js';
import { encodeModelFolder, loadFolderWeights, loadModelFolder, readModelFolder } from './modelFolder.js';
import { createParallelSampler, loadModelFrom, loadWeightsFrom, readModelWeights, saveCheckpoint, workerThreads, writeCheckpoint } from './node.js';

describe('training refuses unknown options', () => {
  const schedule = makeSchedule({ numTrainTimesteps: 10 });
  const base = { denoiser: { prediction: 'epsilon' }, schedule, data: {} } as unknown as TrainerOptions;
  const distillBase = { teacher: {}, student: {}, schedule, data: {} };
  const bogus = { bogus: 1 } as never;
  const cases: [string, () => unknown][] = [
    ['createTrainer', () => createTrainer({ ...base, bogus: 1 } as never)],
    ['createDistiller', () => createDistiller({ ...distillBase, studentSteps: 2, bogus: 1 } as never)],
    ['distill', () => distill({ ...distillBase, teacherSteps: 4, halvings: 1, stepsPerHalving: 1, bogus: 1 } as never)],
    ['fit', () => fit({} as never, { steps: 1, bogus: 1 } as never)],
    ['createValidation', () => createValidation({ images: {}, bogus: 1 } as never, schedule)],
    ['learningRateAt', () => learningRateAt(0, { peak: 1, bogus: 1 } as never)],
    ['inferenceWeights', () => inferenceWeights({} as never, bogus)],
    ['workerThreads', () => workerThreads({ threads: 1, bogus: 1 } as never)],
    ['createParallelSampler', () => createParallelSampler({} as never, { threads: 1, bogus: 1 } as never)],
    ['readModelFolder', () => readModelFolder({} as never, bogus)],
    ['loadFolderWeights', () => loadFolderWeights({ parameters: () => [] }, {} as never, bogus)],
    ['loadModelFolder', () => loadModelFolder({} as never, bogus)],
    ['encodeModelFolder', () => encodeModelFolder({} as never, bogus)],
    ['readModelWeights', () => readModelWeights('.', bogus)],
    ['loadWeightsFrom', () => loadWeightsFrom({ parameters: () => [] }, '.', bogus)],
    ['loadModelFrom', () => loadModelFrom('.', bogus)],
    ['writeCheckpoint', () => writeCheckpoint('.', {} as never, bogus)],
    ['saveCheckpoint', () => saveCheckpoint({} as never, '.', bogus)],
  ];
  it.each(cases)('%s', async (name, call) => {
    const before = tf.memory().numTensors;
    await expect((async () => call())()).rejects.toThrow(`${name}: unknown option 'bogus'. Accepted: `);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks the nested options, naming the nearest key', async () => {
    const bad = (extra: object) => createTrainer({ ...base, ...extra } as never);
    await expect(bad({ lr: 1e-3 })).rejects.toThrow("createTrainer: unknown option 'lr'; did you mean 'learningRate'?");
    await expect(bad({ regularizers: { ema_decay: 0.999 } })).rejects.toThrow("createTrainer: unknown option 'regularizers.ema_decay'; did you mean 'regularizers.ema'?");
    await expect(bad({ regularizers: { ema: { useWarmup: true } } })).rejects.toThrow(
      "createTrainer: unknown option 'regularizers.ema.useWarmup'; did you mean 'regularizers.ema.useEmaWarmup'?",
    );
    await expect(bad({ optimizer: { betas: [0.9, 0.99] } })).rejects.toThrow("createTrainer: unknown option 'optimizer.betas'; did you mean 'optimizer.beta1'?");
    await expect(bad({ optimizer: { learningRate: 1 } })).rejects.toThrow("createTrainer: unknown option 'optimizer.learningRate'. Accepted in optimizer: 'beta1', 'beta2', 'epsilon', 'groups'");
    await expect(bad({ learningRate: { peak: 1, warmup: 10 } })).rejects.toThrow("createTrainer: unknown option 'learningRate.warmup'; did you mean 'learningRate.warmupSteps'?");
    await expect(bad({ fineTune: { weights: {}, exclude: [] } })).rejects.toThrow("createTrainer: unknown option 'fineTune.exclude'");
    await expect(bad({ validation: { images: {}, batch_size: 8 } })).rejects.toThrow("createTrainer: unknown option 'validation.batch_size'; did you mean 'validation.batchSize'?");
    await expect(fit({} as never, { steps: 1, every: { validation: 5 } } as never)).rejects.toThrow("fit: unknown option 'every.validation'; did you mean 'every.validate'?");
    await expect(distill({ ...distillBase, teacherSteps: 4, halvings: 1, stepsPerHalving: 1, fit: { steps: 3 } } as never)).rejects.toThrow(
      "distill: unknown option 'fit.steps'. Accepted in fit: ",
    );
  });
});
