import { describe, expect, it } from 'vitest';
import { DIFFUSERS_DEFAULTS, fromDiffusersConfig, timesteps } from './index.js';

// Stable Diffusion 1.x's scheduler/scheduler_config.json, verbatim.
const SD15 = `{
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

describe('fromDiffusersConfig', () => {
  it('reads a Stable Diffusion config as is (snake_case, unknown keys, null trained_betas)', () => {
    const { schedule, className, options } = fromDiffusersConfig(SD15);
    expect(className).toBe('PNDMScheduler');
    expect(schedule.numTrainTimesteps).toBe(1000);
    expect(schedule.betas[0]).toBeCloseTo(0.00085, 15);
    expect(schedule.betas[999]).toBeCloseTo(0.012, 15);
    const mid = (Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * 500) / 999) ** 2;
    expect(schedule.betas[500]).toBeCloseTo(mid, 15);
    expect(options.stepsOffset).toBe(1);
    expect(options.setAlphaToOne).toBe(false);
    expect(options.clipSample).toBe(false);
    expect(options.predictionType).toBe('epsilon');
    expect(options.timestepSpacing).toBe('leading');
    // SD's 50 steps: 981, 961, …, 1
    expect(timesteps(schedule, 50, { timestepSpacing: options.timestepSpacing, stepsOffset: options.stepsOffset })[0]).toBe(981);
  });

  it('maps every sampling option and v_prediction → v', () => {
    const { options, schedule, scheduleConfig } = fromDiffusersConfig({
      _class_name: 'DDIMScheduler',
      _diffusers_version: '0.25.0',
      num_train_timesteps: 500,
      beta_schedule: 'squaredcos_cap_v2',
      prediction_type: 'v_prediction',
      timestep_spacing: 'trailing',
      rescale_betas_zero_snr: true,
      clip_sample: true,
      clip_sample_range: 2.5,
      thresholding: true,
      dynamic_thresholding_ratio: 0.9,
      sample_max_value: 3,
      set_alpha_to_one: false,
      use_karras_sigmas: true,
      variance_type: 'learned_range',
      timestep_type: 'continuous',
      algorithm_type: 'sde-dpmsolver++',
      solver_order: 3,
      lower_order_final: false,
      final_sigmas_type: 'sigma_min',
      interpolation_type: 'log_linear',
      something_new: { nested: 1 },
    });
    expect(options).toEqual({
      timestepSpacing: 'trailing',
      stepsOffset: 0,
      predictionType: 'v',
      clipSample: true,
      clipSampleRange: 2.5,
      thresholding: true,
      dynamicThresholdingRatio: 0.9,
      sampleMaxValue: 3,
      setAlphaToOne: false,
      useKarrasSigmas: true,
      varianceType: 'learned_range',
      timestepType: 'continuous',
      algorithmType: 'sde-dpmsolver++',
      solverOrder: 3,
      lowerOrderFinal: false,
      finalSigmasType: 'sigma_min',
      interpolationType: 'log_linear',
    });
    expect(scheduleConfig.betaSchedule).toBe('squaredcos_cap_v2');
    expect(schedule.numTrainTimesteps).toBe(500);
    expect(schedule.alphasCumprod[499]).toBe(0);
    expect(fromDiffusersConfig({ prediction_type: 'sample' }).options.predictionType).toBe('sample');
  });

  it('fills missing keys with the DDIM/DDPM constructor defaults', () => {
    const { options, schedule, className } = fromDiffusersConfig({});
    expect(className).toBeNull();
    expect(options).toEqual({
      timestepSpacing: 'leading',
      stepsOffset: 0,
      predictionType: 'epsilon',
      clipSample: true,
      clipSampleRange: 1,
      thresholding: false,
      dynamicThresholdingRatio: 0.995,
      sampleMaxValue: 1,
      setAlphaToOne: true,
      useKarrasSigmas: false,
      varianceType: 'fixed_small',
      timestepType: 'discrete',
      algorithmType: 'dpmsolver++',
      solverOrder: 2,
      lowerOrderFinal: true,
      finalSigmasType: 'zero',
      interpolationType: 'linear',
    });
    expect(DIFFUSERS_DEFAULTS.numTrainTimesteps).toBe(1000);
    expect(schedule.betas[0]).toBeCloseTo(1e-4, 15);
    expect(schedule.betas[999]).toBeCloseTo(0.02, 15);
    // null reads as "not set"
    expect(fromDiffusersConfig({ variance_type: null }).options.varianceType).toBe('fixed_small');
  });

  it("uses the class's own defaults where they differ (Euler: linspace, no clipping)", () => {
    const { options } = fromDiffusersConfig({ _class_name: 'EulerDiscreteScheduler' });
    expect(options.timestepSpacing).toBe('linspace');
    expect(options.clipSample).toBe(false);
  });

  it('takes trained_betas', () => {
    const { schedule } = fromDiffusersConfig({ trained_betas: [0.1, 0.2, 0.3], num_train_timesteps: 3, beta_schedule: 'linear' });
    expect(schedule.numTrainTimesteps).toBe(3);
    expect(schedule.alphasCumprod[2]).toBeCloseTo(0.9 * 0.8 * 0.7, 15);
    expect(fromDiffusersConfig({ trained_betas: [0.1, 0.2] }).schedule.numTrainTimesteps).toBe(2);
  });

  it('errors name the key and the accepted values', () => {
    expect(() => fromDiffusersConfig({ beta_schedule: 'cosine' })).toThrow(
      "beta_schedule must be one of 'linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid'; got 'cosine'",
    );
    expect(() => fromDiffusersConfig({ prediction_type: 'v' })).toThrow(
      "prediction_type must be one of 'epsilon', 'v_prediction', 'sample'; got 'v'",
    );
    expect(() => fromDiffusersConfig({ timestep_spacing: 'uniform' })).toThrow(
      "timestep_spacing must be one of 'leading', 'trailing', 'linspace'; got 'uniform'",
    );
    expect(() => fromDiffusersConfig({ steps_offset: 0.5 })).toThrow('steps_offset must be an integer >= 0; got 0.5');
    expect(() => fromDiffusersConfig({ clip_sample: 'yes' })).toThrow("clip_sample must be true or false; got 'yes'");
    expect(() => fromDiffusersConfig({ beta_start: '0.1' })).toThrow("beta_start must be a finite number; got '0.1'");
    expect(() => fromDiffusersConfig({ trained_betas: [0.1, 0.2], num_train_timesteps: 1000 })).toThrow(
      'trained_betas must have num_train_timesteps (1000) entries; got 2',
    );
    expect(() => fromDiffusersConfig({ trained_betas: 'x' })).toThrow(/trained_betas must be an array of numbers or null/);
    expect(() => fromDiffusersConfig({ solver_order: 4 })).toThrow('solver_order must be one of 1, 2, 3; got 4');
    expect(() => fromDiffusersConfig('{nope')).toThrow(/not valid JSON/);
    expect(() => fromDiffusersConfig('[1]')).toThrow(/expected a JSON object/);
  });
});
