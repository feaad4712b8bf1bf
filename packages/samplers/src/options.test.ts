import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import {
  classifierFreeGuidance, ddim, fromDiffusersConfig, ddpm, dpmSolverPlusPlus2M, dynamicThreshold, euler, eulerAncestral, heun, lms, pndm, sample, startRun,
  SAMPLER_REGISTRY, uniPC, type Denoiser,
} from './index.js';

describe('samplers refuses unknown options', () => {
  const schedule = makeSchedule({ numTrainTimesteps: 10 });
  const denoiser: Denoiser = { prediction: 'epsilon', numClasses: 2, predict: (x) => tf.zerosLike(x) };
  const bogus = { bogus: 1 } as never;
  const cases: [string, () => unknown][] = [
    ['classifierFreeGuidance', () => classifierFreeGuidance(denoiser, { guidanceScale: 2, nullClass: 2, bogus: 1 } as never)],
    ['startRun', () => startRun(ddim(), { schedule, numInferenceSteps: 2, prediction: 'epsilon', bogus: 1 } as never)],
    ['dynamicThreshold', () => dynamicThreshold(bogus)],
    ['ddim', () => ddim(bogus)],
    ['ddpm', () => ddpm(bogus)],
    ['euler', () => euler(bogus)],
    ['eulerAncestral', () => eulerAncestral(bogus)],
    ['heun', () => heun(bogus)],
    ['lms', () => lms(bogus)],
    ['pndm', () => pndm(bogus)],
    ['dpmSolverPlusPlus2M', () => dpmSolverPlusPlus2M(bogus)],
    ['uniPC', () => uniPC(bogus)],
    ['fromDiffusersConfig', () => fromDiffusersConfig({ _class_name: 'DDIMScheduler' }, bogus)],
  ];
  it.each(cases)('%s', (name, call) => {
    const before = tf.memory().numTensors;
    expect(call).toThrow(`${name}: unknown option 'bogus'. Accepted: `);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(SAMPLER_REGISTRY.map((e) => [e.factory, e] as const))('%s takes every option its registry entry lists, and no other', (factory, entry) => {
    const defaults = Object.fromEntries(Object.entries(entry.options).map(([k, o]) => [k, (o as { default: unknown }).default]));
    expect(() => entry.create({ ...defaults, x0Processor: undefined } as never)).not.toThrow();
    expect(() => entry.create(bogus)).toThrow(`${factory}: unknown option 'bogus'. Accepted: `);
  });

  it('points diffusers spellings at the factory option', () => {
    expect(() => ddim({ timestep_spacing: 'trailing' } as never)).toThrow("ddim: unknown option 'timestep_spacing'; did you mean 'timestepSpacing'?");
    expect(() => euler({ spacing: 'trailing' } as never)).toThrow("euler: unknown option 'spacing'; did you mean 'timestepSpacing'?");
    expect(() => euler({ eta: 1 } as never)).toThrow("euler: unknown option 'eta'. Accepted: ");
    expect(() => dpmSolverPlusPlus2M({ use_karras_sigmas: true } as never)).toThrow("did you mean 'useKarrasSigmas'?");
  });

  it('sample, and its guidance', async () => {
    const before = tf.memory().numTensors;
    await expect(sample(denoiser, ddim(), { schedule, numInferenceSteps: 2, shape: [1, 1, 1, 1], bogus: 1 } as never)).rejects.toThrow(
      "sample: unknown option 'bogus'. Accepted: ",
    );
    await expect(sample(denoiser, ddim(), { schedule, num_inference_steps: 2, shape: [1, 1, 1, 1] } as never)).rejects.toThrow(
      "sample: unknown option 'num_inference_steps'; did you mean 'numInferenceSteps'?",
    );
    await expect(sample(denoiser, ddim(), { schedule, numInferenceSteps: 2, shape: [1, 1, 1, 1], guidance: { scale: 3, nullClass: 2 } } as never)).rejects.toThrow(
      "sample: unknown option 'guidance.scale'; did you mean 'guidance.guidanceScale'? Accepted in guidance: ",
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
