import * as tf from '@tensorflow/tfjs';
import { checkOptions, TIME_SHIFT_TYPES, type FlowSigmasOptions } from '@tfjs-diffusion/schedules';
import { defineSampler, factoryOptionKeys } from './entry.js';
import { flowFamily, flowVelocity, fromFlowScale, toFlowScale } from './flow-match.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';

export interface FlowMatchEulerOptions extends Omit<FlowSigmasOptions, 'numTrainTimesteps'>, SamplerBaseOptions {
  /** Replace the Euler step by x̂0 renoised to the next level with fresh noise (diffusers' `stochastic_sampling`). Default false. */
  stochasticSampling?: boolean;
}

/**
 * Euler's method on the flow ODE dx_σ/dσ = v(x_σ, σ) (Lipman et al. 2023; Esser et al. 2024):
 * x_{σ'} = x_σ + (σ' − σ) v, diffusers' FlowMatchEulerDiscreteScheduler; with `stochasticSampling`,
 * x_{σ'} = (1 − σ') x̂0 + σ' ε' with x̂0 = x_σ − σ v. Samples models with prediction 'flow' only.
 */
export function flowMatchEuler(options: FlowMatchEulerOptions = {}): Sampler {
  checkOptions('flowMatchEuler', options, factoryOptionKeys(flowMatchEulerEntry));
  const { stochasticSampling = false, x0Processor: _, ...sigmaOptions } = options;
  if (typeof stochasticSampling !== 'boolean') throw new TypeError(`stochasticSampling must be true or false; got ${String(stochasticSampling)}`);
  const family = flowFamily('flow-euler', sigmaOptions);
  return {
    name: family.name,
    flow: true,
    timesteps: family.timesteps,
    alphasCumprod: family.alphasCumprod,
    spec: { factory: 'flowMatchEuler', options },
    step(args: StepArgs): StepResult {
      const sigmas = family.plan(args.schedule, args.timesteps.length).sigmas;
      const sigma = sigmas[args.i]!;
      const sigmaNext = sigmas[args.i + 1]!;
      const x = toFlowScale(args.sample, sigma);
      const { v, x0 } = flowVelocity(args, options, x, args.modelOutput, sigma);
      const next = stochasticSampling
        ? tf.add(tf.mul(x0, 1 - sigmaNext), tf.mul(args.noise(), sigmaNext))
        : tf.add(x, tf.mul(v, sigmaNext - sigma));
      return { prevSample: fromFlowScale(next as tf.Tensor4D, sigmaNext), predOriginalSample: x0 };
    },
  };
}

export const FLOW_SIGMA_OPTIONS = {
  shift: { default: 1, doc: "σ' = shift·σ/(1 + (shift − 1)σ) (diffusers' `shift`; SD3 uses 3)." },
  useDynamicShifting: { default: false, doc: "Shift by `mu` instead, exp(μ)/(exp(μ) + 1/σ − 1) (diffusers' `use_dynamic_shifting`, Flux)." },
  mu: { default: undefined, doc: "The shift of useDynamicShifting, as diffusers' pipelines pass it to set_timesteps (calculateShift computes it)." },
  timeShiftType: { default: 'exponential', doc: `The time shift of useDynamicShifting: ${TIME_SHIFT_TYPES.map((t) => `'${t}'`).join(' or ')} (diffusers' \`time_shift_type\`).` },
  shiftTerminal: { default: null, doc: "Stretch the levels so the last one is this value (diffusers' `shift_terminal`)." },
  invertSigmas: { default: false, doc: "σ → 1 − σ, ending at 1 (diffusers' `invert_sigmas`)." },
  useKarrasSigmas: { default: false, doc: "Karras et al. 2022 spacing (ρ = 7) between the shifted extremes (diffusers' `use_karras_sigmas`)." },
  useExponentialSigmas: { default: false, doc: "Spacing even in log σ between the shifted extremes (diffusers' `use_exponential_sigmas`)." },
  useBetaSigmas: { default: false, doc: "Beta(0.6, 0.6) quantile spacing between the shifted extremes (diffusers' `use_beta_sigmas`)." },
};

export const flowMatchEulerEntry = defineSampler({
  name: 'flow-euler',
  factory: 'flowMatchEuler',
  label: 'Flow-matching Euler',
  create: flowMatchEuler,
  options: {
    ...FLOW_SIGMA_OPTIONS,
    stochasticSampling: { default: false, doc: "Renoise x̂0 to the next level with fresh noise instead of the Euler step (diffusers' `stochastic_sampling`)." },
  },
  diffusers: {
    FlowMatchEulerDiscreteScheduler: {
      defaults: {
        num_train_timesteps: 1000, shift: 1, use_dynamic_shifting: false, base_shift: 0.5, max_shift: 1.15, base_image_seq_len: 256,
        max_image_seq_len: 4096, invert_sigmas: false, shift_terminal: null, use_karras_sigmas: false, use_exponential_sigmas: false,
        use_beta_sigmas: false, time_shift_type: 'exponential', stochastic_sampling: false,
      },
      prediction: 'flow',
      implements: ['use_beta_sigmas', 'use_dynamic_shifting', 'shift_terminal'],
      build(c) {
        const dynamic = c.bool('use_dynamic_shifting');
        const mu = dynamic ? c.mu() : undefined;
        return flowMatchEuler({
          shift: c.num('shift', (x) => x > 0, 'a number > 0'),
          useDynamicShifting: dynamic,
          ...(mu !== undefined ? { mu } : {}),
          timeShiftType: c.oneOf('time_shift_type', TIME_SHIFT_TYPES),
          shiftTerminal: (c.get('shift_terminal') as number | null) ?? null,
          invertSigmas: c.bool('invert_sigmas'),
          useKarrasSigmas: c.bool('use_karras_sigmas'),
          useExponentialSigmas: c.bool('use_exponential_sigmas'),
          useBetaSigmas: c.bool('use_beta_sigmas'),
          stochasticSampling: c.bool('stochastic_sampling'),
        });
      },
    },
  },
});
