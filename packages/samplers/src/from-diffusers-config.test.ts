import * as tf from '@tensorflow/tfjs';
import { createRng, makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { euler } from './euler.js';
import { fromDiffusersConfig } from './from-diffusers-config.js';
import { SamplerState } from './state.js';
import type { Sampler } from './types.js';

const SD = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  steps_offset: 1,
};

/** The x0 a step forms from a 'sample' prediction (the model output itself, then the x0 processor). */
function x0Of(sampler: Sampler, out: number[]): number[] {
  const state = new SamplerState();
  const r = tf.tidy(() =>
    tf.clone(
      sampler.step({
        i: 0,
        sample: tf.zeros([1, 1, 1, out.length]) as tf.Tensor4D,
        modelOutput: tf.tensor4d(out, [1, 1, 1, out.length]),
        prediction: 'sample',
        t: 500,
        prevT: 400,
        alphaCumprod: 0.5,
        prevAlphaCumprod: 0.6,
        timesteps: [500, 400],
        alphasCumprod: [0.5, 0.6, 1],
        schedule: makeSchedule(),
        rng: createRng(0),
        denoise: (x) => tf.zerosLike(x),
        state,
      }).predOriginalSample,
    ),
  );
  state.dispose();
  const v = Array.from(r.dataSync());
  r.dispose();
  return v;
}

describe('fromDiffusersConfig', () => {
  it('reads a Stable Diffusion DDIM config', () => {
    const { sampler, schedule, prediction, className } = fromDiffusersConfig(
      JSON.stringify({ _class_name: 'DDIMScheduler', ...SD, clip_sample: false, set_alpha_to_one: false }),
    );
    expect(className).toBe('DDIMScheduler');
    expect(sampler.name).toBe('ddim');
    expect(prediction).toBe('epsilon');
    const ts = sampler.timesteps(schedule, 50);
    expect(ts[0]).toBe(981);
    expect(ts[49]).toBe(1);
    const levels = sampler.alphasCumprod!(schedule, ts);
    expect(levels[50]).toBe(schedule.alphasCumprod[0]);
    // clip_sample false: x0 is not clipped.
    expect(x0Of(sampler, [3, -0.5])).toEqual([3, -0.5]);
  });

  it('clips by default (DDPM) and thresholds when asked', () => {
    const { sampler } = fromDiffusersConfig({ _class_name: 'DDPMScheduler' });
    expect(x0Of(sampler, [3, -0.5])).toEqual([1, -0.5]);
    const t = fromDiffusersConfig({ _class_name: 'DDPMScheduler', thresholding: true, dynamic_thresholding_ratio: 1, sample_max_value: 2 });
    // s = max|x0| = 3 clamped to 2: clip to [−2, 2], divide by 2.
    const got = x0Of(t.sampler, [3, -0.5]);
    expect(got[0]).toBeCloseTo(1, 6);
    expect(got[1]).toBeCloseTo(-0.25, 6);
  });

  it('reads v-prediction Euler with Karras sigmas as the same grid as euler()', () => {
    const { sampler, schedule, prediction } = fromDiffusersConfig({
      _class_name: 'EulerDiscreteScheduler',
      ...SD,
      prediction_type: 'v_prediction',
      use_karras_sigmas: true,
      timestep_spacing: 'trailing',
    });
    expect(prediction).toBe('v');
    const mine = euler({ useKarrasSigmas: true, timestepSpacing: 'trailing', stepsOffset: 1 });
    expect(sampler.timesteps(schedule, 20)).toEqual(mine.timesteps(schedule, 20));
    expect(sampler.alphasCumprod!(schedule, sampler.timesteps(schedule, 20))).toEqual(
      mine.alphasCumprod!(schedule, mine.timesteps(schedule, 20)),
    );
  });

  it('builds each supported class', () => {
    const names = {
      DDPMScheduler: 'ddpm',
      DDIMScheduler: 'ddim',
      EulerDiscreteScheduler: 'euler',
      EulerAncestralDiscreteScheduler: 'euler-ancestral',
      HeunDiscreteScheduler: 'heun',
      DPMSolverMultistepScheduler: 'dpm-solver++(2m)',
    };
    for (const [cls, name] of Object.entries(names)) expect(fromDiffusersConfig({ _class_name: cls }).sampler.name).toBe(name);
  });

  it('names unsupported classes and options', () => {
    expect(() => fromDiffusersConfig({ _class_name: 'PNDMScheduler' })).toThrow(/_class_name must be one of .*DDIMScheduler.*got "PNDMScheduler"/);
    expect(() => fromDiffusersConfig({ _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'sde-dpmsolver++' })).toThrow(
      /algorithm_type = "sde-dpmsolver\+\+"/,
    );
    expect(() => fromDiffusersConfig({ _class_name: 'DPMSolverMultistepScheduler', solver_order: 3 })).toThrow(/solver_order = 3/);
    expect(() => fromDiffusersConfig({ _class_name: 'DDPMScheduler', variance_type: 'learned_range' })).toThrow(
      /variance_type = "learned_range"/,
    );
    expect(() => fromDiffusersConfig({ _class_name: 'EulerDiscreteScheduler', use_exponential_sigmas: true })).toThrow(
      /use_exponential_sigmas/,
    );
    expect(() => fromDiffusersConfig({ _class_name: 'EulerDiscreteScheduler', interpolation_type: 'log_linear' })).toThrow(
      /interpolation_type = "log_linear"/,
    );
  });
});
