import { describe, expect, it } from 'vitest';
import { DIFFUSERS_SCHEDULE_DEFAULTS, scheduleFromDiffusersConfig } from './index.js';

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

describe('scheduleFromDiffusersConfig', () => {
  it('reads the schedule of a Stable Diffusion config as is (snake_case, sampler keys left alone, null trained_betas)', () => {
    const { schedule, scheduleConfig } = scheduleFromDiffusersConfig(SD15);
    expect(scheduleConfig).toEqual({ numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', rescaleBetasZeroSnr: false });
    expect(schedule.betas[0]).toBeCloseTo(0.00085, 15);
    expect(schedule.betas[999]).toBeCloseTo(0.012, 15);
    const mid = (Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * 500) / 999) ** 2;
    expect(schedule.betas[500]).toBeCloseTo(mid, 15);
  });

  it('does not look at sampler keys, even bad ones', () => {
    const { scheduleConfig } = scheduleFromDiffusersConfig({ prediction_type: 'nonsense', solver_order: 9, timestep_spacing: 1 });
    expect(scheduleConfig.numTrainTimesteps).toBe(1000);
  });

  it('reads zero-terminal-SNR rescaling and a cosine schedule', () => {
    const { schedule, scheduleConfig } = scheduleFromDiffusersConfig({ num_train_timesteps: 500, beta_schedule: 'squaredcos_cap_v2', rescale_betas_zero_snr: true });
    expect(scheduleConfig.betaSchedule).toBe('squaredcos_cap_v2');
    expect(schedule.numTrainTimesteps).toBe(500);
    expect(schedule.alphasCumprod[499]).toBe(0);
  });

  it("fills missing or null keys with diffusers' DDPM/DDIM defaults, or with the caller's", () => {
    const { schedule } = scheduleFromDiffusersConfig({ beta_start: null });
    expect(DIFFUSERS_SCHEDULE_DEFAULTS.numTrainTimesteps).toBe(1000);
    expect(schedule.betas[0]).toBeCloseTo(1e-4, 15);
    expect(schedule.betas[999]).toBeCloseTo(0.02, 15);
    // HeunDiscreteScheduler's constructor defaults: beta_start 0.00085, beta_end 0.012
    const heun = scheduleFromDiffusersConfig({}, { betaStart: 0.00085, betaEnd: 0.012 }).schedule;
    expect(heun.betas[0]).toBeCloseTo(0.00085, 15);
    expect(heun.betas[999]).toBeCloseTo(0.012, 15);
  });

  it('takes trained_betas', () => {
    const { schedule } = scheduleFromDiffusersConfig({ trained_betas: [0.1, 0.2, 0.3], num_train_timesteps: 3, beta_schedule: 'linear' });
    expect(schedule.numTrainTimesteps).toBe(3);
    expect(schedule.alphasCumprod[2]).toBeCloseTo(0.9 * 0.8 * 0.7, 15);
    expect(scheduleFromDiffusersConfig({ trained_betas: [0.1, 0.2] }).schedule.numTrainTimesteps).toBe(2);
  });

  it('errors name the key and the accepted values', () => {
    expect(() => scheduleFromDiffusersConfig({ beta_schedule: 'cosine' })).toThrow(
      "beta_schedule must be one of 'linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid'; got 'cosine'",
    );
    expect(() => scheduleFromDiffusersConfig({ beta_start: '0.1' })).toThrow("beta_start must be a finite number; got '0.1'");
    expect(() => scheduleFromDiffusersConfig({ num_train_timesteps: 1.5 })).toThrow('num_train_timesteps must be an integer in [2, 100000]; got 1.5');
    expect(() => scheduleFromDiffusersConfig({ rescale_betas_zero_snr: 1 })).toThrow('rescale_betas_zero_snr must be true or false; got 1');
    expect(() => scheduleFromDiffusersConfig({ trained_betas: [0.1, 0.2], num_train_timesteps: 1000 })).toThrow(
      'trained_betas must have num_train_timesteps (1000) entries; got 2',
    );
    expect(() => scheduleFromDiffusersConfig({ trained_betas: 'x' })).toThrow(/trained_betas must be an array of numbers or null/);
    expect(() => scheduleFromDiffusersConfig('{nope')).toThrow(/not valid JSON/);
    expect(() => scheduleFromDiffusersConfig('[1]')).toThrow(/expected a JSON object/);
  });
});
