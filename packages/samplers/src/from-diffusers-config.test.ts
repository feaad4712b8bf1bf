import * as tf from '@tensorflow/tfjs';
import { createRng, makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { euler } from './euler.js';
import { fromDiffusersConfig, SUPPORTED_DIFFUSERS_SCHEDULERS } from './from-diffusers-config.js';
import { SamplerState } from './state.js';
import type { Sampler } from './types.js';

const SD = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  steps_offset: 1,
};

// Stable Diffusion 1.5's scheduler/scheduler_config.json, verbatim.
const SD15_PNDM = `{
  "_class_name": "PNDMScheduler",
  "_diffusers_version": "0.6.0",
  "beta_end": 0.012,
  "beta_schedule": "scaled_linear",
  "beta_start": 0.00085,
  "num_train_timesteps": 1000,
  "set_alpha_to_one": false,
  "skip_prk_steps": true,
  "steps_offset": 1,
  "trained_betas": null,
  "clip_sample": false
}`;

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
        noise: () => tf.zeros([1, 1, 1, out.length]),
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
      PNDMScheduler: 'pndm',
      EulerDiscreteScheduler: 'euler',
      EulerAncestralDiscreteScheduler: 'euler-ancestral',
      HeunDiscreteScheduler: 'heun',
      LMSDiscreteScheduler: 'lms',
      DPMSolverMultistepScheduler: 'dpm-solver++(2m)',
      UniPCMultistepScheduler: 'unipc',
      FlowMatchEulerDiscreteScheduler: 'flow-euler',
      FlowMatchHeunDiscreteScheduler: 'flow-heun',
    };
    expect([...SUPPORTED_DIFFUSERS_SCHEDULERS].sort()).toEqual(Object.keys(names).sort());
    for (const [cls, name] of Object.entries(names)) expect(fromDiffusersConfig({ _class_name: cls }).sampler.name).toBe(name);
  });

  it("reads Stable Diffusion 1.5's PNDM config verbatim: PLMS without the Runge–Kutta warm-up, 51 model calls for 50 steps", () => {
    const { sampler, schedule, className, ignoredKeys } = fromDiffusersConfig(SD15_PNDM);
    expect(className).toBe('PNDMScheduler');
    // clip_sample is not a PNDMScheduler argument: diffusers ignores it with a warning.
    expect(ignoredKeys).toEqual(['clip_sample']);
    const ts = sampler.timesteps(schedule, 50);
    expect(ts.slice(0, 4)).toEqual([981, 961, 961, 941]);
    expect(ts).toHaveLength(51);
    expect(ts[50]).toBe(1);
    // set_alpha_to_one false: the run ends at ᾱ_0, not at the clean sample.
    expect(sampler.alphasCumprod!(schedule, ts)[51]).toBe(schedule.alphasCumprod[0]);
  });

  it("reads a Flax class name as diffusers does (FlaxDDIMScheduler's config builds a DDIMScheduler)", () => {
    const { sampler, className, prediction, ignoredKeys } = fromDiffusersConfig({
      _class_name: 'FlaxDDIMScheduler',
      _diffusers_version: '0.8.0',
      ...SD,
      clip_sample: false,
      prediction_type: 'v_prediction',
      set_alpha_to_one: false,
      skip_prk_steps: true,
      trained_betas: null,
      dtype: 'float32',
    });
    expect(className).toBe('DDIMScheduler');
    expect(sampler.name).toBe('ddim');
    expect(prediction).toBe('v');
    expect(ignoredKeys.sort()).toEqual(['dtype', 'skip_prk_steps']);
  });

  it("switches class on a model's config, as EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config)", () => {
    const { sampler, schedule, className, ignoredKeys } = fromDiffusersConfig(SD15_PNDM, { as: 'EulerAncestralDiscreteScheduler' });
    expect(className).toBe('EulerAncestralDiscreteScheduler');
    expect(sampler.name).toBe('euler-ancestral');
    expect(schedule.betas[999]).toBeCloseTo(0.012, 12);
    // The class's own default spacing (linspace): the PNDM config sets none.
    expect(sampler.timesteps(schedule, 4)).toEqual([999, 666, 333, 0]);
    expect(ignoredKeys.sort()).toEqual(['clip_sample', 'set_alpha_to_one', 'skip_prk_steps']);
    // Keys listed in _use_default_values take the class default, as in diffusers.
    const u = fromDiffusersConfig({ _class_name: 'DDIMScheduler', steps_offset: 1, _use_default_values: ['steps_offset'] });
    expect(u.sampler.timesteps(u.schedule, 50)[0]).toBe(980);
    // HeunDiscreteScheduler's own β defaults apply when the config has none.
    expect(fromDiffusersConfig({}, { as: 'HeunDiscreteScheduler' }).schedule.betas[0]).toBeCloseTo(0.00085, 15);
  });

  it('names unsupported classes and options', () => {
    expect(() => fromDiffusersConfig({ _class_name: 'KarrasVeScheduler' })).toThrow(
      /_class_name must be one of DDIMScheduler, DDPMScheduler, EulerDiscreteScheduler, .*UniPCMultistepScheduler, FlowMatchEulerDiscreteScheduler, FlowMatchHeunDiscreteScheduler \(or the same with a Flax prefix\); got 'KarrasVeScheduler'/,
    );
    expect(() => fromDiffusersConfig({})).toThrow(/_class_name is missing.*pass \{ as: one of DDIMScheduler, DDPMScheduler/);
    expect(() => fromDiffusersConfig({ _class_name: 'DDIMScheduler' }, { as: 'Euler' as never })).toThrow(/as must be one of .*got 'Euler'/);
    expect(() => fromDiffusersConfig('{nope')).toThrow(/not valid JSON/);
    expect(() => fromDiffusersConfig({ _class_name: 'DDIMScheduler', prediction_type: 'v' })).toThrow(
      "prediction_type must be one of 'epsilon', 'v_prediction', 'sample'; got 'v'",
    );
    expect(() => fromDiffusersConfig({ _class_name: 'DDIMScheduler', timestep_spacing: 'uniform' })).toThrow(
      "timestep_spacing must be one of 'leading', 'trailing', 'linspace'; got 'uniform'",
    );
    expect(() => fromDiffusersConfig({ _class_name: 'DDIMScheduler', steps_offset: 0.5 })).toThrow('steps_offset must be an integer >= 0; got 0.5');
    expect(() => fromDiffusersConfig({ _class_name: 'DDIMScheduler', clip_sample: 'yes' })).toThrow("clip_sample must be true or false; got 'yes'");
    expect(() => fromDiffusersConfig({ _class_name: 'UniPCMultistepScheduler', solver_order: 4 })).toThrow(/solver_order = 4/);
    expect(() => fromDiffusersConfig({ _class_name: 'UniPCMultistepScheduler', solver_type: 'x' })).toThrow(/solver_type must be one of 'bh1', 'bh2'/);
    expect(() => fromDiffusersConfig({ _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'sde-dpmsolver++' })).toThrow(
      /algorithm_type = "sde-dpmsolver\+\+"/,
    );
    expect(() => fromDiffusersConfig({ _class_name: 'DPMSolverMultistepScheduler', solver_order: 3 })).toThrow(/solver_order = 3/);
    expect(() => fromDiffusersConfig({ _class_name: 'DDPMScheduler', variance_type: 'learned_range' })).toThrow(
      /variance_type = "learned_range"/,
    );
    // Exponential σ are read for the Euler family (see below), not yet for the multistep solvers.
    expect(() => fromDiffusersConfig({ _class_name: 'DPMSolverMultistepScheduler', use_exponential_sigmas: true })).toThrow(
      /use_exponential_sigmas = true is not supported/,
    );
    expect(() => fromDiffusersConfig({ _class_name: 'EulerDiscreteScheduler', use_exponential_sigmas: true, use_karras_sigmas: true })).toThrow(
      /use_exponential_sigmas = true together with use_karras_sigmas = true/,
    );
    expect(() => fromDiffusersConfig({ _class_name: 'EulerDiscreteScheduler', interpolation_type: 'log_linear' })).toThrow(
      /interpolation_type = "log_linear"/,
    );
  });

  it('reads use_exponential_sigmas for the Euler family: σ evenly spaced in log σ between the grid\'s extremes', () => {
    for (const cls of ['EulerDiscreteScheduler', 'HeunDiscreteScheduler', 'LMSDiscreteScheduler'] as const) {
      const { sampler, schedule } = fromDiffusersConfig({ _class_name: cls, use_exponential_sigmas: true });
      const ts = sampler.timesteps(schedule, 5);
      const sig = sampler.alphasCumprod!(schedule, ts).map((a) => Math.sqrt((1 - a) / a));
      const ac = schedule.alphasCumprod;
      const hi = Math.sqrt((1 - ac[999]!) / ac[999]!);
      const lo = Math.sqrt((1 - ac[0]!) / ac[0]!);
      for (let i = 0; i < 5; i++) expect(sig[i]).toBeCloseTo(Math.exp(Math.log(hi) + (i / 4) * (Math.log(lo) - Math.log(hi))), 8);
      expect(sig[5]).toBe(0);
      expect(ts[0]).toBeCloseTo(999, 6);
      expect(ts[4]).toBeCloseTo(0, 6);
    }
  });
});
