import type * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule, Prediction, Rng } from '@tfjs-diffusion/schedules';
import type { Conditioning } from './conditioning.js';
import type { SamplerState } from './state.js';

/**
 * The model contract. Models, the empirical denoiser and the wrappers of this
 * package satisfy it structurally.
 */
export interface Denoiser {
  /** With 'flow' the contract of `predict` is flow matching's: see there. */
  readonly prediction: Prediction;
  /** Real classes of a class-conditional denoiser (the null class is this index), null when unconditional; when present, `sample()` checks class ids against it once. */
  readonly numClasses?: number | null;
  /**
   * `x`: the noised sample in DDPM scaling, x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε (never Karras-scaled);
   * `t`: float32 timesteps on the training scale [0, numTrainTimesteps − 1], possibly fractional.
   * Returns a tensor of x's shape.
   * A 'flow' denoiser instead takes x_σ = (1 − σ) x0 + σ ε and t = σ · numTrainTimesteps ∈ [0, T] (as
   * diffusers' flow-matching models) and returns the velocity ε − x0; only samplers with `flow` run it.
   */
  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning): tf.Tensor4D;
}

/**
 * A sampler or an x0 processor as a factory of this package and its options
 * (`{ factory: 'ddim', options: { eta: 0 } }`): the call that built it, and,
 * through `describeSampler`, the plain data another thread builds the same one from.
 */
export interface FactorySpec {
  readonly factory: string;
  readonly options: unknown;
}

/** Maps a predicted clean sample to a processed one (clipping, dynamic thresholding). */
export type X0Processor = ((x0: tf.Tensor4D) => tf.Tensor4D) & { readonly spec?: FactorySpec };

/** Options every built-in sampler accepts. */
export interface SamplerBaseOptions {
  /** The sampler's own x0 processor, used when `sample()` is given none (e.g. thresholding from a diffusers config). */
  x0Processor?: X0Processor;
}

/** Everything one step of a sampler gets from the loop. */
export interface StepArgs {
  /** Index of this step in the run, 0 … timesteps.length − 1. */
  i: number;
  /** The current sample, in DDPM scaling, at noise level `alphaCumprod`. */
  sample: tf.Tensor4D;
  /** The denoiser's output at (`sample`, `t`). */
  modelOutput: tf.Tensor4D;
  prediction: Prediction;
  /** Model timestep of this step (possibly fractional) and of the next one (−1 after the last step). */
  t: number;
  prevT: number;
  /** ᾱ of `sample` and of the sample this step returns. */
  alphaCumprod: number;
  prevAlphaCumprod: number;
  /** The whole run: model timesteps and the n + 1 noise levels. */
  timesteps: readonly number[];
  alphasCumprod: readonly number[];
  schedule: NoiseSchedule;
  rng: Rng;
  /**
   * Standard-normal noise of the sample's shape from `rng` (one seed per call). Draw a step's noise
   * through this rather than from `rng` directly: when `sample()` runs some rows of a batch (`rows`),
   * it gives exactly those rows of the whole batch's draw.
   */
  noise(): tf.Tensor4D;
  /** Applied wherever the sampler forms a predicted clean sample. */
  x0Processor?: X0Processor;
  /** One more model evaluation at a DDPM-scaled `x` and timestep `t` (for second-order methods); returns the raw output. */
  denoise(x: tf.Tensor4D, t: number): tf.Tensor4D;
  state: SamplerState;
}

// A type alias (not an interface) so a StepResult is a tf.TensorContainer and can leave a tf.tidy.
export type StepResult = {
  /** The sample at the next (less noisy) level, DDPM scaling. */
  prevSample: tf.Tensor4D;
  /** The predicted clean sample x0 at this step (after the x0 processor). */
  predOriginalSample: tf.Tensor4D;
};

/**
 * One sampling method. The loop in `sample()` is shared: it calls the model at
 * (x_t, t_i) and hands the output to `step`. Every sampler sees and returns
 * samples in DDPM scaling; sigma-space methods convert inside `step`.
 */
export interface Sampler {
  readonly name: string;
  /** How this package's factories built it (see `describeSampler`); absent on a sampler written by hand. */
  readonly spec?: FactorySpec;
  /**
   * A flow-matching sampler: it runs only 'flow' denoisers (which `sample()` calls with x_σ = c(σ)·x_t and
   * t = σ·T), its timesteps are σ·T, and img2img starts at step ⌊n − n·strength⌋ as diffusers' SD3 img2img.
   */
  readonly flow?: boolean;
  /** The model timesteps of a run with `numInferenceSteps` steps, descending. */
  timesteps(schedule: NoiseSchedule, numInferenceSteps: number): number[];
  /**
   * The ᾱ of the sample at each timestep, plus the final level (length n + 1).
   * Optional: by default ᾱ(t_i) from the schedule, then 1 (the clean sample).
   */
  alphasCumprod?(schedule: NoiseSchedule, timesteps: readonly number[]): number[];
  step(args: StepArgs): StepResult;
}
