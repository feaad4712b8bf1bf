import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkTimestepSpacing, type NoiseSchedule, timesteps as scheduleTimesteps } from '@tfjs-diffusion/schedules';
import { clip } from './clip.js';
import { epsilonFromX0, predictEpsilon, predictX0 } from './formulas.js';
import { checkSteps, type SpacingOptions } from './grids.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';
import { defineSampler, DIFFUSERS_CLIP, DIFFUSERS_SCHEDULE, DIFFUSERS_THRESHOLD, factoryOptionKeys, spacingOptions } from './entry.js';

export interface DdimOptions extends SpacingOptions, SamplerBaseOptions {
  /** Noise scale: 0 = deterministic DDIM, 1 = DDPM's posterior variance. Default 0. */
  eta?: number;
  /** The final ᾱ is 1 (true) or ᾱ_0 (false), as diffusers' `set_alpha_to_one`. Default true. */
  setAlphaToOne?: boolean;
  /** Clip x0 to [−clipSampleRange, clipSampleRange] when no x0 processor is given. Default false (diffusers: true). */
  clipSample?: boolean;
  clipSampleRange?: number;
  /** Recompute ε from the processed x0 (diffusers' `use_clipped_model_output`). Default false. */
  useClippedModelOutput?: boolean;
}

/**
 * DDIM, Song et al. 2021 eq. 12:
 * x_{t'} = √ᾱ_{t'} x̂0 + √(1 − ᾱ_{t'} − σ_t²) ε̂ + σ_t z,
 * σ_t = η √((1−ᾱ_{t'})/(1−ᾱ_t)) √(1 − ᾱ_t/ᾱ_{t'}).
 * The previous timestep is the next entry of the timestep list, so any spacing works.
 */
export function ddim(options: DdimOptions = {}): Sampler {
  checkOptions('ddim', options, factoryOptionKeys(ddimEntry));
  const eta = options.eta ?? 0;
  if (!(eta >= 0)) throw new Error(`eta must be >= 0; got ${eta}`);
  const spacing = checkTimestepSpacing(options.timestepSpacing ?? 'leading');
  const setAlphaToOne = options.setAlphaToOne ?? true;
  const ownProcessor = options.x0Processor ?? (options.clipSample ? clip(options.clipSampleRange ?? 1) : undefined);
  return {
    spec: { factory: 'ddim', options },
    name: 'ddim',
    timesteps(schedule: NoiseSchedule, n: number): number[] {
      checkSteps(n);
      return scheduleTimesteps(schedule, n, { timestepSpacing: spacing, stepsOffset: options.stepsOffset ?? 0 });
    },
    alphasCumprod(schedule: NoiseSchedule, timesteps: readonly number[]): number[] {
      const ac = schedule.alphasCumprod;
      return [...timesteps.map((t) => ac[t]), setAlphaToOne ? 1 : ac[0]];
    },
    step(args: StepArgs): StepResult {
      const { sample, alphaCumprod: at, prevAlphaCumprod: ap } = args;
      const processor = args.x0Processor ?? ownProcessor;
      const raw = predictX0(args.prediction, sample, args.modelOutput, at);
      const x0 = processor ? processor(raw) : raw;
      const eps = options.useClippedModelOutput
        ? epsilonFromX0(sample, x0, at)
        : predictEpsilon(args.prediction, sample, args.modelOutput, at);
      const std = eta * Math.sqrt(((1 - ap) / (1 - at)) * (1 - at / ap));
      let prev = tf.add(tf.mul(x0, Math.sqrt(ap)), tf.mul(eps, Math.sqrt(Math.max(1 - ap - std * std, 0))));
      if (eta > 0) {
        const noise = args.noise();
        prev = tf.add(prev, tf.mul(noise, std));
      }
      return { prevSample: prev as tf.Tensor4D, predOriginalSample: x0 };
    },
  };
}

export const ddimEntry = defineSampler({
  name: 'ddim',
  factory: 'ddim',
  label: 'DDIM',
  create: ddim,
  options: {
    ...spacingOptions('leading'),
    eta: { default: 0, doc: "Noise scale: 0 = deterministic DDIM, 1 = DDPM's posterior variance." },
    setAlphaToOne: { default: true, doc: "The final ᾱ is 1 (true) or ᾱ_0 (diffusers' `set_alpha_to_one`)." },
    clipSample: { default: false, doc: 'Clip x0 to [−clipSampleRange, clipSampleRange] when no x0 processor is given.' },
    clipSampleRange: { default: 1, doc: 'The bound of clipSample.' },
    useClippedModelOutput: { default: false, doc: "Recompute ε from the processed x0 (diffusers' `use_clipped_model_output`)." },
  },
  diffusers: {
    DDIMScheduler: {
      defaults: {
        ...DIFFUSERS_SCHEDULE, ...DIFFUSERS_CLIP, set_alpha_to_one: true, steps_offset: 0, prediction_type: 'epsilon', ...DIFFUSERS_THRESHOLD,
        timestep_spacing: 'leading', rescale_betas_zero_snr: false,
      },
      build: (c) => ddim({ ...c.spacing(), eta: c.eta ?? 0, setAlphaToOne: c.bool('set_alpha_to_one'), x0Processor: c.clipOrThreshold() }),
    },
  },
});
