import * as tf from '@tensorflow/tfjs';
import { alphaCumprodToSigma, checkOptions, checkTimestepSpacing, type NoiseSchedule } from '@tfjs-diffusion/schedules';
import { predictX0, toD, toDdpmScale, toSigmaScale } from './formulas.js';
import { checkSigmaPlan, eulerPlan, type FinalSigmas, type SigmaPlanOptions, type SpacingOptions } from './grids.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';
import { defineSampler, DIFFUSERS_SCHEDULE, DIFFUSERS_SIGMA_KINDS, factoryOptionKeys, SIGMA_PLAN_OPTIONS, spacingOptions } from './entry.js';

export interface EulerOptions extends SpacingOptions, SigmaPlanOptions, SamplerBaseOptions {
  /** The last noise level: 'zero' or σ at t = 0 (diffusers' `final_sigmas_type`). Default 'zero'. */
  finalSigmasType?: FinalSigmas;
}

/** The plan shared by the sigma-space samplers of the Euler family. */
export function eulerFamily(name: string, options: EulerOptions) {
  checkTimestepSpacing(options.timestepSpacing ?? 'linspace');
  checkSigmaPlan(options);
  const plan = (schedule: NoiseSchedule, n: number) => eulerPlan(schedule, n, options);
  return {
    name,
    timesteps: (schedule: NoiseSchedule, n: number): number[] => plan(schedule, n).timesteps,
    alphasCumprod: (schedule: NoiseSchedule, timesteps: readonly number[]): number[] =>
      plan(schedule, timesteps.length).alphasCumprod,
  };
}

/** What every Euler-family step starts with: both σ, the (processed) x̂0 and x in σ scaling. */
export function eulerStart(args: StepArgs, options: SamplerBaseOptions) {
  const sigma = alphaCumprodToSigma(args.alphaCumprod);
  const sigmaNext = alphaCumprodToSigma(args.prevAlphaCumprod);
  const raw = predictX0(args.prediction, args.sample, args.modelOutput, args.alphaCumprod);
  const processor = args.x0Processor ?? options.x0Processor;
  const x0 = processor ? processor(raw) : raw;
  return { sigma, sigmaNext, x0, x: toSigmaScale(args.sample, sigma) };
}

/**
 * Euler's method on the probability-flow ODE, Karras et al. 2022 Algorithm 1
 * without churn (diffusers' EulerDiscreteScheduler): x_{σ'} = x_σ + (σ' − σ)(x_σ − x̂0)/σ.
 * Works in Karras scaling x_σ = x_t √(1+σ²) internally; the model still sees x_t and t.
 */
export function euler(options: EulerOptions = {}): Sampler {
  checkOptions('euler', options, factoryOptionKeys(eulerEntry));
  return {
    ...eulerFamily('euler', options),
    spec: { factory: 'euler', options },
    step(args: StepArgs): StepResult {
      const { sigma, sigmaNext, x0, x } = eulerStart(args, options);
      const next = tf.add(x, tf.mul(toD(x, sigma, x0), sigmaNext - sigma)) as tf.Tensor4D;
      return { prevSample: toDdpmScale(next, sigmaNext), predOriginalSample: x0 };
    },
  };
}

export const eulerEntry = defineSampler({
  name: 'euler',
  factory: 'euler',
  label: 'Euler',
  create: euler,
  options: {
    ...spacingOptions('linspace'),
    ...SIGMA_PLAN_OPTIONS,
    finalSigmasType: { default: 'zero', doc: "The last noise level: 'zero' or σ at t = 0 (diffusers' `final_sigmas_type`)." },
  },
  diffusers: {
    EulerDiscreteScheduler: {
      defaults: {
        ...DIFFUSERS_SCHEDULE, prediction_type: 'epsilon', interpolation_type: 'linear', ...DIFFUSERS_SIGMA_KINDS, sigma_min: null, sigma_max: null,
        timestep_spacing: 'linspace', timestep_type: 'discrete', steps_offset: 0, rescale_betas_zero_snr: false, final_sigmas_type: 'zero',
      },
      build(c) {
        if (c.oneOf('timestep_type', ['discrete', 'continuous'] as const) !== 'discrete') c.unsupported('timestep_type', c.get('timestep_type'));
        if (c.oneOf('interpolation_type', ['linear', 'log_linear'] as const) !== 'linear') c.unsupported('interpolation_type', c.get('interpolation_type'));
        return euler({ ...c.spacing(), ...c.sigmaPlan(), finalSigmasType: c.finalSigmasType() });
      },
    },
  },
});
