import * as tf from '@tensorflow/tfjs';
import { alphaCumprodToSigma, checkOptions } from '@tfjs-diffusion/schedules';
import { clip } from './clip.js';
import { predictX0, toD, toDdpmScale, toSigmaScale } from './formulas.js';
import { eulerFamily, type EulerOptions } from './euler.js';
import type { Sampler, StepArgs, StepResult } from './types.js';
import { defineSampler, DIFFUSERS_SCHEDULE, DIFFUSERS_SIGMA_KINDS, factoryOptionKeys, SIGMA_PLAN_OPTIONS, spacingOptions } from './entry.js';

export interface HeunOptions extends Omit<EulerOptions, 'finalSigmasType'> {
  /** Clip x0 to [−clipSampleRange, clipSampleRange] when no x0 processor is given. Default false. */
  clipSample?: boolean;
  clipSampleRange?: number;
}

/**
 * Heun's second-order method, Karras et al. 2022 Algorithm 1 (diffusers'
 * HeunDiscreteScheduler): an Euler step to σ', a second model call there, and
 * the average of both slopes; the last step, to σ = 0, is a plain Euler step.
 * Two model calls per step (the second through `denoise`).
 */
export function heun(options: HeunOptions = {}): Sampler {
  checkOptions('heun', options, factoryOptionKeys(heunEntry));
  const ownProcessor = options.x0Processor ?? (options.clipSample ? clip(options.clipSampleRange ?? 1) : undefined);
  return {
    spec: { factory: 'heun', options },
    ...eulerFamily('heun', { ...options, finalSigmasType: 'zero' }),
    step(args: StepArgs): StepResult {
      const processor = args.x0Processor ?? ownProcessor;
      const sigma = alphaCumprodToSigma(args.alphaCumprod);
      const sigmaNext = alphaCumprodToSigma(args.prevAlphaCumprod);
      const raw = predictX0(args.prediction, args.sample, args.modelOutput, args.alphaCumprod);
      const x0 = processor ? processor(raw) : raw;
      const x = toSigmaScale(args.sample, sigma);
      const d = toD(x, sigma, x0);
      const dt = sigmaNext - sigma;
      const euler = tf.add(x, tf.mul(d, dt)) as tf.Tensor4D;
      if (sigmaNext === 0) return { prevSample: euler, predOriginalSample: x0 };
      const xNext = toDdpmScale(euler, sigmaNext);
      const acNext = args.prevAlphaCumprod;
      const raw2 = predictX0(args.prediction, xNext, args.denoise(xNext, args.prevT), acNext);
      const x02 = processor ? processor(raw2) : raw2;
      const d2 = toD(euler, sigmaNext, x02);
      const next = tf.add(x, tf.mul(tf.add(d, d2), dt / 2)) as tf.Tensor4D;
      return { prevSample: toDdpmScale(next, sigmaNext), predOriginalSample: x0 };
    },
  };
}

export const heunEntry = defineSampler({
  name: 'heun',
  factory: 'heun',
  label: 'Heun',
  create: heun,
  options: {
    ...spacingOptions('linspace'),
    ...SIGMA_PLAN_OPTIONS,
    clipSample: { default: false, doc: 'Clip x0 to [−clipSampleRange, clipSampleRange] when no x0 processor is given.' },
    clipSampleRange: { default: 1, doc: 'The bound of clipSample.' },
  },
  diffusers: {
    HeunDiscreteScheduler: {
      defaults: {
        ...DIFFUSERS_SCHEDULE, beta_start: 0.00085, beta_end: 0.012, prediction_type: 'epsilon', ...DIFFUSERS_SIGMA_KINDS, clip_sample: false,
        clip_sample_range: 1, timestep_spacing: 'linspace', steps_offset: 0,
      },
      build: (c) => heun({ ...c.spacing(), ...c.sigmaPlan(), clipSample: c.bool('clip_sample'), clipSampleRange: c.clipRange() }),
    },
  },
});
