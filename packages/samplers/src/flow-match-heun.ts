import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '@tfjs-diffusion/schedules';
import { defineSampler, factoryOptionKeys } from './entry.js';
import { FLOW_SIGMA_OPTIONS } from './flow-match-euler.js';
import { flowFamily, flowVelocity, fromFlowScale, toFlowScale } from './flow-match.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';

export interface FlowMatchHeunOptions extends SamplerBaseOptions {
  /** σ' = shift·σ/(1 + (shift − 1)σ). Default 1. */
  shift?: number;
}

/**
 * Heun's method on the flow ODE (diffusers' FlowMatchHeunDiscreteScheduler without churn): an Euler
 * step to σ', the velocity there, and the step again with the mean of both velocities; the last step,
 * to σ = 0, is a plain Euler step. 2n − 1 model calls for n steps (the second of a step through `denoise`).
 */
export function flowMatchHeun(options: FlowMatchHeunOptions = {}): Sampler {
  checkOptions('flowMatchHeun', options, factoryOptionKeys(flowMatchHeunEntry));
  const family = flowFamily('flow-heun', { shift: options.shift ?? 1 });
  return {
    name: family.name,
    flow: true,
    timesteps: family.timesteps,
    alphasCumprod: family.alphasCumprod,
    spec: { factory: 'flowMatchHeun', options },
    step(args: StepArgs): StepResult {
      const sigmas = family.plan(args.schedule, args.timesteps.length).sigmas;
      const sigma = sigmas[args.i]!;
      const sigmaNext = sigmas[args.i + 1]!;
      const x = toFlowScale(args.sample, sigma);
      const { v, x0 } = flowVelocity(args, options, x, args.modelOutput, sigma);
      const euler = tf.add(x, tf.mul(v, sigmaNext - sigma)) as tf.Tensor4D;
      if (sigmaNext === 0) return { prevSample: euler, predOriginalSample: x0 };
      const out2 = args.denoise(fromFlowScale(euler, sigmaNext), args.prevT);
      const { v: v2 } = flowVelocity(args, options, euler, out2, sigmaNext);
      const next = tf.add(x, tf.mul(tf.add(v, v2), (sigmaNext - sigma) / 2)) as tf.Tensor4D;
      return { prevSample: fromFlowScale(next, sigmaNext), predOriginalSample: x0 };
    },
  };
}

export const flowMatchHeunEntry = defineSampler({
  name: 'flow-heun',
  factory: 'flowMatchHeun',
  label: 'Flow-matching Heun',
  create: flowMatchHeun,
  options: { shift: FLOW_SIGMA_OPTIONS.shift },
  diffusers: {
    FlowMatchHeunDiscreteScheduler: {
      defaults: { num_train_timesteps: 1000, shift: 1 },
      prediction: 'flow',
      build: (c) => flowMatchHeun({ shift: c.num('shift', (x) => x > 0, 'a number > 0') }),
    },
  },
});
