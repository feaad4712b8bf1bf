import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkTimestepSpacing, type NoiseSchedule, timesteps as scheduleTimesteps } from '@tfjs-diffusion/schedules';
import { clip } from './clip.js';
import { predictX0 } from './formulas.js';
import { checkSteps, type SpacingOptions } from './grids.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';
import { defineSampler, DIFFUSERS_CLIP, DIFFUSERS_SCHEDULE, DIFFUSERS_THRESHOLD, factoryOptionKeys, spacingOptions } from './entry.js';

export type DdpmVariance = 'fixed_small' | 'fixed_large';

export interface DdpmOptions extends SpacingOptions, SamplerBaseOptions {
  /** 'fixed_small' = the posterior variance β̃_t, 'fixed_large' = β_t (diffusers' `variance_type`). Default 'fixed_small'. */
  varianceType?: DdpmVariance;
  /** Clip x0 to [−clipSampleRange, clipSampleRange] when no x0 processor is given. Default false (diffusers: true). */
  clipSample?: boolean;
  clipSampleRange?: number;
}

/**
 * Ancestral sampling of Ho et al. 2020: x_{t'} ~ N(μ̃(x_t, x̂0), σ²) with the
 * posterior mean of eq. 7, μ̃ = √ᾱ_{t'} β / (1−ᾱ_t) x̂0 + √α (1−ᾱ_{t'}) / (1−ᾱ_t) x_t,
 * where α = ᾱ_t/ᾱ_{t'} and β = 1 − α, so skipped steps work (as diffusers' DDPMScheduler).
 * No noise is added at t = 0.
 */
export function ddpm(options: DdpmOptions = {}): Sampler {
  checkOptions('ddpm', options, factoryOptionKeys(ddpmEntry));
  const varianceType = options.varianceType ?? 'fixed_small';
  if (varianceType !== 'fixed_small' && varianceType !== 'fixed_large') {
    throw new Error(`varianceType must be one of 'fixed_small', 'fixed_large'; got '${varianceType}'`);
  }
  const spacing = checkTimestepSpacing(options.timestepSpacing ?? 'leading');
  const ownProcessor = options.x0Processor ?? (options.clipSample ? clip(options.clipSampleRange ?? 1) : undefined);
  return {
    spec: { factory: 'ddpm', options },
    name: 'ddpm',
    timesteps(schedule: NoiseSchedule, n: number): number[] {
      checkSteps(n);
      return scheduleTimesteps(schedule, n, { timestepSpacing: spacing, stepsOffset: options.stepsOffset ?? 0 });
    },
    step(args: StepArgs): StepResult {
      const { sample, alphaCumprod: at, prevAlphaCumprod: ap } = args;
      const processor = args.x0Processor ?? ownProcessor;
      const raw = predictX0(args.prediction, sample, args.modelOutput, at);
      const x0 = processor ? processor(raw) : raw;
      const alpha = at / ap;
      const beta = 1 - alpha;
      const mean = tf.add(tf.mul(x0, (Math.sqrt(ap) * beta) / (1 - at)), tf.mul(sample, (Math.sqrt(alpha) * (1 - ap)) / (1 - at)));
      if (!(args.t > 0)) return { prevSample: mean as tf.Tensor4D, predOriginalSample: x0 };
      const variance = varianceType === 'fixed_small' ? Math.max(((1 - ap) / (1 - at)) * beta, 1e-20) : beta;
      const noise = args.noise();
      return { prevSample: tf.add(mean, tf.mul(noise, Math.sqrt(variance))) as tf.Tensor4D, predOriginalSample: x0 };
    },
  };
}

export const ddpmEntry = defineSampler({
  name: 'ddpm',
  factory: 'ddpm',
  label: 'DDPM',
  create: ddpm,
  options: {
    ...spacingOptions('leading'),
    varianceType: { default: 'fixed_small', doc: "'fixed_small' = the posterior variance β̃_t, 'fixed_large' = β_t (diffusers' `variance_type`)." },
    clipSample: { default: false, doc: 'Clip x0 to [−clipSampleRange, clipSampleRange] when no x0 processor is given.' },
    clipSampleRange: { default: 1, doc: 'The bound of clipSample.' },
  },
  diffusers: {
    DDPMScheduler: {
      defaults: {
        ...DIFFUSERS_SCHEDULE, variance_type: 'fixed_small', ...DIFFUSERS_CLIP, prediction_type: 'epsilon', ...DIFFUSERS_THRESHOLD,
        timestep_spacing: 'leading', steps_offset: 0, rescale_betas_zero_snr: false,
      },
      build(c) {
        const v = c.oneOf('variance_type', ['fixed_small', 'fixed_small_log', 'fixed_large', 'fixed_large_log', 'learned', 'learned_range'] as const);
        if (v !== 'fixed_small' && v !== 'fixed_large') c.unsupported('variance_type', v, "is not supported (use 'fixed_small' or 'fixed_large')");
        return ddpm({ ...c.spacing(), varianceType: v as DdpmVariance, x0Processor: c.clipOrThreshold() });
      },
    },
  },
});
