import * as tf from '@tensorflow/tfjs';
import {
  alphaCumprodAt, checkOptions, checkPrediction, createRng, optionKeys, type NoiseSchedule, type Prediction, type Rng,
} from '@tfjs-diffusion/schedules';
import { SamplerState } from './state.js';
import type { Sampler, StepResult, X0Processor } from './types.js';

export interface SamplingRunOptions {
  schedule: NoiseSchedule;
  numInferenceSteps: number;
  /** What the model outputs. */
  prediction: Prediction;
  /** The run's generator; default `createRng(seed ?? 0)`. */
  rng?: Rng;
  seed?: number;
  x0Processor?: X0Processor;
  /** Model calls a step makes itself (Heun's second evaluation): DDPM-scaled x and a timestep in, raw output out. */
  denoise?: (x: tf.Tensor4D, t: number) => tf.Tensor4D;
  /** A step's standard-normal noise shaped like `like` (`StepArgs.noise`); default one seeded draw from the run's generator. */
  noise?: (like: tf.Tensor4D, rng: Rng) => tf.Tensor4D;
}

/** One seeded standard-normal draw of `like`'s shape from `rng`. */
export const drawNoise = (like: tf.Tensor4D, rng: Rng): tf.Tensor4D => tf.randomNormal(like.shape, 0, 1, 'float32', rng.nextSeed());

/** One run of a sampler driven by hand, like a diffusers scheduler after `set_timesteps`. */
export interface SamplingRun {
  /** Model timesteps, descending. */
  readonly timesteps: readonly number[];
  /** ᾱ of the sample at each timestep, plus the final level (length n + 1). */
  readonly alphasCumprod: readonly number[];
  readonly rng: Rng;
  /**
   * Step i: from `sample` (DDPM scaling, at level alphasCumprod[i]) and the model output at
   * (sample, timesteps[i]) to the next level. The caller owns the returned tensors.
   */
  step(i: number, sample: tf.Tensor4D, modelOutput: tf.Tensor4D): StepResult;
  /** Frees what the sampler kept between steps. */
  dispose(): void;
}

/** A flow-matching sampler runs 'flow' models only, and the others refuse them (their timesteps follow the beta schedule). */
export function checkFlowPair(sampler: Sampler, prediction: Prediction): void {
  if (sampler.flow && prediction !== 'flow') {
    throw new Error(`${sampler.name} samples flow-matching models (prediction 'flow'); this denoiser predicts '${prediction}': use a sampler of the beta schedule (ddim, euler, …)`);
  }
  if (!sampler.flow && prediction === 'flow') {
    throw new Error(`${sampler.name} cannot sample a 'flow' model: its timesteps follow the beta schedule, a flow model's are σ·numTrainTimesteps; use a flow-matching sampler (flowMatchEuler, flowMatchHeun)`);
  }
}

/** The noise level of the sample at each timestep (n + 1 entries: the last is the level after the final step). */
export function runNoiseLevels(sampler: Sampler, schedule: NoiseSchedule, timesteps: readonly number[]): number[] {
  const levels = sampler.alphasCumprod
    ? sampler.alphasCumprod(schedule, timesteps)
    : [...timesteps.map((t) => alphaCumprodAt(schedule, t)), 1];
  if (levels.length !== timesteps.length + 1) {
    throw new Error(`${sampler.name}: alphasCumprod must return timesteps.length + 1 = ${timesteps.length + 1} levels; got ${levels.length}`);
  }
  return levels;
}

const RUN_KEYS = optionKeys<SamplingRunOptions>()(['schedule', 'numInferenceSteps', 'prediction', 'rng', 'seed', 'x0Processor', 'denoise', 'noise']);

/** Plans a run of `sampler` and returns its steps, for loops written by hand (`sample()` is one). */
export function startRun(sampler: Sampler, options: SamplingRunOptions): SamplingRun {
  checkOptions('startRun', options, RUN_KEYS);
  const { schedule, prediction, x0Processor } = options;
  checkPrediction(prediction);
  checkFlowPair(sampler, prediction);
  const timesteps = sampler.timesteps(schedule, options.numInferenceSteps);
  const levels = runNoiseLevels(sampler, schedule, timesteps);
  const rng = options.rng ?? createRng(options.seed ?? 0);
  const state = new SamplerState();
  const noise = options.noise ?? drawNoise;
  const denoise =
    options.denoise ??
    (() => {
      throw new Error(`${sampler.name} calls the model inside its step: pass denoise to startRun`);
    });
  return {
    timesteps,
    alphasCumprod: levels,
    rng,
    step(i, sample, modelOutput) {
      if (!Number.isInteger(i) || i < 0 || i >= timesteps.length) {
        throw new Error(`step index i must be an integer in [0, ${timesteps.length - 1}]; got ${i}`);
      }
      return tf.tidy(() => {
        const r = sampler.step({
          i,
          sample,
          modelOutput,
          prediction,
          t: timesteps[i],
          prevT: i + 1 < timesteps.length ? timesteps[i + 1] : -1,
          alphaCumprod: levels[i],
          prevAlphaCumprod: levels[i + 1],
          timesteps,
          alphasCumprod: levels,
          schedule,
          rng,
          noise: () => noise(sample, rng),
          x0Processor,
          denoise,
          state,
        });
        // Fresh handles, so disposing the input or x0 never frees what a sampler passed through.
        return { prevSample: tf.clone(r.prevSample), predOriginalSample: tf.clone(r.predOriginalSample) };
      });
    },
    dispose: () => state.dispose(),
  };
}
