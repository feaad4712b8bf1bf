import * as tf from '@tensorflow/tfjs';
import { flowSigmas, flowSigmaToAlphaCumprod, type FlowPlan, type FlowSigmasOptions, type NoiseSchedule } from '@tfjs-diffusion/schedules';
import type { SamplerBaseOptions, StepArgs } from './types.js';

/*
 * What the flow-matching samplers share. Their model is a flow model: prediction 'flow', the
 * velocity v = ε − x0 at x_σ = (1 − σ) x0 + σ ε and timestep σ·T. The loop keeps every sample in
 * DDPM scaling, x_t = x_σ / c(σ) with c(σ) = √((1−σ)² + σ²), at ᾱ = (1−σ)²/c² (so img2img's
 * √ᾱ x0 + √(1−ᾱ) ε is diffusers' scale_noise σ ε + (1 − σ) x0); these samplers step in flow scaling.
 */

/** c(σ) = √((1−σ)² + σ²): x_σ = c(σ) · x_t. */
export function flowScale(sigma: number): number {
  return Math.sqrt((1 - sigma) ** 2 + sigma * sigma);
}

/** DDPM scaling → flow scaling at level σ: x_σ = c(σ) x_t. */
export function toFlowScale(xT: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return tf.mul(xT, flowScale(sigma));
}

/** Flow scaling → DDPM scaling at level σ: x_t = x_σ / c(σ). */
export function fromFlowScale(xSigma: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return tf.div(xSigma, flowScale(sigma));
}

/** The plan of a flow sampler: its levels for a schedule's numTrainTimesteps and a step count (the last one cached). */
export function flowFamily(name: string, options: Omit<FlowSigmasOptions, 'numTrainTimesteps'>) {
  flowSigmas(1, options); // checks the options once, at construction
  let last: { T: number; n: number; plan: FlowPlan } | undefined;
  const plan = (schedule: NoiseSchedule, n: number): FlowPlan => {
    const T = schedule.numTrainTimesteps;
    if (last?.T !== T || last.n !== n) last = { T, n, plan: flowSigmas(n, { ...options, numTrainTimesteps: T }) };
    return last.plan;
  };
  return {
    name,
    flow: true as const,
    plan,
    timesteps: (schedule: NoiseSchedule, n: number): number[] => plan(schedule, n).timesteps.slice(),
    alphasCumprod: (schedule: NoiseSchedule, timesteps: readonly number[]): number[] =>
      plan(schedule, timesteps.length).sigmas.map(flowSigmaToAlphaCumprod),
  };
}

/**
 * The velocity at (x_σ, σ) and the x̂0 = x_σ − σ v it implies. With an x0 processor (thresholding)
 * the processed x̂0 is used and v recomputed from it, v = (x_σ − x̂0)/σ, as the other samplers step from a processed x̂0.
 */
export function flowVelocity(args: Pick<StepArgs, 'x0Processor'>, options: SamplerBaseOptions, x: tf.Tensor4D, v: tf.Tensor4D, sigma: number) {
  const x0 = tf.sub(x, tf.mul(v, sigma)) as tf.Tensor4D;
  const processor = args.x0Processor ?? options.x0Processor;
  if (!processor || sigma === 0) return { v, x0 };
  const p = processor(x0);
  return { v: tf.div(tf.sub(x, p), sigma) as tf.Tensor4D, x0: p };
}
