import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '@tfjs-diffusion/schedules';
import { ancestralStep, toD, toDdpmScale } from './formulas.js';
import { eulerFamily, eulerStart, type EulerOptions } from './euler.js';
import type { Sampler, StepArgs, StepResult } from './types.js';
import { defineSampler, DIFFUSERS_SCHEDULE, factoryOptionKeys, SIGMA_PLAN_OPTIONS, spacingOptions } from './entry.js';

export interface EulerAncestralOptions extends EulerOptions {
  /** Fraction of the ancestral noise (k-diffusion's `eta`). Default 1, as diffusers. */
  eta?: number;
}

/**
 * Ancestral Euler (k-diffusion's `sample_euler_ancestral`, diffusers'
 * EulerAncestralDiscreteScheduler): an Euler step to σ_down, then fresh noise
 * of std σ_up, with σ_down² + σ_up² = σ_next².
 */
export function eulerAncestral(options: EulerAncestralOptions = {}): Sampler {
  checkOptions('eulerAncestral', options, factoryOptionKeys(eulerAncestralEntry));
  const eta = options.eta ?? 1;
  if (!(eta >= 0)) throw new Error(`eta must be >= 0; got ${eta}`);
  return {
    ...eulerFamily('euler-ancestral', options),
    spec: { factory: 'eulerAncestral', options },
    step(args: StepArgs): StepResult {
      const { sigma, sigmaNext, x0, x } = eulerStart(args, options);
      const { sigmaDown, sigmaUp } = ancestralStep(sigma, sigmaNext, eta);
      let next = tf.add(x, tf.mul(toD(x, sigma, x0), sigmaDown - sigma));
      if (sigmaUp > 0) {
        const noise = args.noise();
        next = tf.add(next, tf.mul(noise, sigmaUp));
      }
      return { prevSample: toDdpmScale(next as tf.Tensor4D, sigmaNext), predOriginalSample: x0 };
    },
  };
}

export const eulerAncestralEntry = defineSampler({
  name: 'euler-a',
  factory: 'eulerAncestral',
  label: 'Euler ancestral',
  create: eulerAncestral,
  options: {
    ...spacingOptions('linspace'),
    ...SIGMA_PLAN_OPTIONS,
    finalSigmasType: { default: 'zero', doc: "The last noise level: 'zero' or σ at t = 0." },
    eta: { default: 1, doc: "Fraction of the ancestral noise (k-diffusion's `eta`)." },
  },
  diffusers: {
    EulerAncestralDiscreteScheduler: {
      defaults: { ...DIFFUSERS_SCHEDULE, prediction_type: 'epsilon', timestep_spacing: 'linspace', steps_offset: 0, rescale_betas_zero_snr: false },
      build: (c) => eulerAncestral(c.spacing()),
    },
  },
});
