import * as tf from '@tensorflow/tfjs';
import { createRng } from '@tfjs-diffusion/schedules';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createAdamW, createEma, createNonFiniteGuard, curriculumRange, curriculumSubset, dropLabels, dropMask, dropoutSchedule, minSnrWeights,
  timestepSampler,
} from './index.js';

describe('regularizers refuses unknown options', () => {
  const w = tf.variable(tf.zeros([2]), true, 'w');
  const params = [{ name: 'w', variable: w }];
  afterAll(() => w.dispose());
  const bogus = { bogus: 1 } as never;
  const cases: [string, () => unknown][] = [
    ['createAdamW', () => createAdamW(params, bogus)],
    ['createEma', () => createEma(params, bogus)],
    ['createNonFiniteGuard', () => createNonFiniteGuard(bogus)],
    ['curriculumRange', () => curriculumRange(0, { numTrainTimesteps: 10, rampSteps: 5, bogus: 1 } as never)],
    ['curriculumSubset', () => curriculumSubset([1, 2], 0, { rampSteps: 5, bogus: 1 } as never)],
    ['minSnrWeights', () => minSnrWeights({ numTrainTimesteps: 2, alphasCumprod: [0.9, 0.5] }, [0], { prediction: 'v', bogus: 1 } as never)],
    ['dropLabels', () => dropLabels([1], { nullClass: 2, rng: createRng(0), bogus: 1 } as never)],
    ['dropMask', () => dropMask(1, { rng: createRng(0), bogus: 1 } as never)],
    ["timestepSampler (kind 'uniform')", () => timestepSampler({ kind: 'uniform', numTrainTimesteps: 10, bogus: 1 } as never)],
    ["timestepSampler (kind 'curriculum')", () => timestepSampler({ kind: 'curriculum', numTrainTimesteps: 10, rampSteps: 5, bogus: 1 } as never)],
    ["dropoutSchedule (kind 'linear')", () => dropoutSchedule({ kind: 'linear', from: 0, to: 0.1, steps: 5, bogus: 1 } as never)],
  ];
  it.each(cases)('%s', (name, call) => {
    const before = tf.memory().numTensors;
    expect(call).toThrow(`${name}: unknown option 'bogus'. Accepted: `);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('points PyTorch and diffusers spellings at the real option', () => {
    expect(() => createAdamW(params, { lr: 0.01 } as never)).toThrow(
      "createAdamW: unknown option 'lr'; did you mean 'learningRate'? Accepted: 'learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'decayMode', 'noDecay', 'groups'",
    );
    expect(() => createAdamW(params, { weight_decay: 0 } as never)).toThrow("did you mean 'weightDecay'?");
    expect(() => createEma(params, { useWarmup: true } as never)).toThrow("createEma: unknown option 'useWarmup'; did you mean 'useEmaWarmup'?");
    expect(() => createEma(params, { use_ema_warmup: true } as never)).toThrow("did you mean 'useEmaWarmup'?");
  });

  it('checks each parameter group', () => {
    expect(() => createAdamW(params, { groups: [{ match: ['w'], lr_scale: 2 }] } as never)).toThrow(
      "createAdamW: unknown option 'groups[0].lr_scale'; did you mean 'groups[0].learningRateScale'? Accepted in groups[0]: 'match', 'weightDecay', 'learningRateScale'",
    );
  });

  it('keeps undefined values of known options', () => {
    const opt = createAdamW(params, { learningRate: undefined, groups: undefined });
    expect(opt.learningRate).toBe(1e-3);
    opt.dispose();
  });
});
