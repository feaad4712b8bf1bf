import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '@tfjs-diffusion/schedules';
import { eulerFamily, eulerStart } from './euler.js';
import { toD, toDdpmScale } from './formulas.js';
import type { SigmaPlanOptions, SpacingOptions } from './grids.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';
import { defineSampler, DIFFUSERS_SCHEDULE, DIFFUSERS_SIGMA_KINDS, factoryOptionKeys, SIGMA_PLAN_OPTIONS, spacingOptions } from './entry.js';

export interface LmsOptions extends SpacingOptions, SigmaPlanOptions, SamplerBaseOptions {
  /** How many past derivatives the multistep formula uses (diffusers' `step(order=4)`). 1–8, default 4. */
  order?: number;
}

/**
 * ∫_{from}^{to} ℓ_j(τ) dτ for the Lagrange basis polynomial ℓ_j over the nodes
 * (ℓ_j(nodes[j]) = 1, ℓ_j(nodes[k]) = 0 for k ≠ j), integrated exactly from its coefficients.
 */
export function lagrangeIntegral(nodes: readonly number[], j: number, from: number, to: number): number {
  let poly = [1]; // coefficients, constant term first
  for (let k = 0; k < nodes.length; k++) {
    if (k === j) continue;
    const d = nodes[j]! - nodes[k]!;
    const next = new Array<number>(poly.length + 1).fill(0);
    for (let p = 0; p < poly.length; p++) {
      next[p + 1]! += poly[p]! / d;
      next[p]! -= (poly[p]! * nodes[k]!) / d;
    }
    poly = next;
  }
  let s = 0;
  for (let p = 0; p < poly.length; p++) s += (poly[p]! * (to ** (p + 1) - from ** (p + 1))) / (p + 1);
  return s;
}

/**
 * Linear multistep (Adams–Bashforth) on the probability-flow ODE dx/dσ = (x − x̂0)/σ in Karras
 * scaling, as k-diffusion's `sample_lms` and diffusers' LMSDiscreteScheduler: with the last q
 * derivatives d_{i−k} at σ_{i−k} (q = min(steps taken, order)),
 *   x_{i+1} = x_i + Σ_k c_k d_{i−k},  c_k = ∫_{σ_i}^{σ_{i+1}} Π_{l≠k} (τ − σ_{i−l})/(σ_{i−k} − σ_{i−l}) dτ
 * (the integrated Lagrange basis through the past σ; diffusers integrates numerically with
 * scipy's quad, here the polynomials are integrated exactly). Grid as EulerDiscreteScheduler.
 */
export function lms(options: LmsOptions = {}): Sampler {
  checkOptions('lms', options, factoryOptionKeys(lmsEntry));
  const order = options.order ?? 4;
  if (!Number.isInteger(order) || order < 1 || order > 8) throw new RangeError(`order must be an integer in [1, 8]; got ${String(order)}`);
  return {
    spec: { factory: 'lms', options },
    ...eulerFamily('lms', { ...options, finalSigmasType: 'zero' }),
    step(args: StepArgs): StepResult {
      const { state } = args;
      const { sigma, sigmaNext, x0, x } = eulerStart(args, options);
      const d = toD(x, sigma, x0);
      const count = state.get<number>('count') ?? 0;
      const past = Array.from({ length: count }, (_, k) => state.getTensor<tf.Tensor4D>(`d${k}`)!);
      const derivatives = [d, ...past].slice(0, order); // newest first
      const sigmas = [sigma, ...(state.get<number[]>('sigmas') ?? [])].slice(0, order);
      let next: tf.Tensor = x;
      for (let k = 0; k < derivatives.length; k++) {
        next = tf.add(next, tf.mul(derivatives[k]!, lagrangeIntegral(sigmas, k, sigma, sigmaNext)));
      }
      for (let k = derivatives.length - 1; k >= 0; k--) state.setTensor(`d${k}`, derivatives[k]!);
      state.set('count', derivatives.length);
      state.set('sigmas', sigmas);
      return { prevSample: toDdpmScale(next as tf.Tensor4D, sigmaNext), predOriginalSample: x0 };
    },
  };
}

export const lmsEntry = defineSampler({
  name: 'lms',
  factory: 'lms',
  label: 'LMS',
  create: lms,
  options: {
    ...spacingOptions('linspace'),
    ...SIGMA_PLAN_OPTIONS,
    order: { default: 4, doc: "How many past derivatives the multistep formula uses (diffusers' `step(order=4)`), 1–8." },
  },
  diffusers: {
    LMSDiscreteScheduler: {
      defaults: { ...DIFFUSERS_SCHEDULE, ...DIFFUSERS_SIGMA_KINDS, prediction_type: 'epsilon', timestep_spacing: 'linspace', steps_offset: 0 },
      build: (c) => lms({ ...c.spacing(), ...c.sigmaPlan() }),
    },
  },
});
