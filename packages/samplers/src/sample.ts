import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkSeed, createRng, optionKeys, type NoiseSchedule } from '@tfjs-diffusion/schedules';
import { classifierFreeGuidance, GUIDANCE_OPTION_KEYS, type GuidanceOptions } from './guidance.js';
import { toFlowScale } from './flow-match.js';
import { startRun } from './run.js';
import { CONDITIONING_FIELDS, disposeConditioning, sliceConditioning, type Conditioning } from './conditioning.js';
import type { Denoiser, Sampler, X0Processor } from './types.js';

export interface SampleOptions {
  /** The training noise schedule of the denoiser. */
  schedule: NoiseSchedule;
  /** Output shape [B, H, W, C]; optional with `initImage`. */
  shape?: [number, number, number, number];
  numInferenceSteps: number;
  /** Seed of the run's generator: the same seed gives the same samples on the same backend. Default 0. */
  seed?: number;
  cond?: Conditioning;
  /** Classifier-free guidance: wraps the denoiser with `classifierFreeGuidance` (same options). Needs a `cond`. */
  guidance?: GuidanceOptions;
  /** Applied to every predicted clean sample, e.g. `dynamicThreshold()` or `clip(1)`. */
  x0Processor?: X0Processor;
  /** Called after each step i of n (i starts past the skipped steps with img2img) with the predicted clean sample (disposed after the call; clone to keep). */
  onStep?: (i: number, n: number, x0: tf.Tensor4D) => void | Promise<void>;
  /** Refuse a result holding NaN or ±Inf (one check after the last step). Default true. */
  checkFinite?: boolean;
  /** Also return the sample and predicted x0 after every step. Default false. */
  returnIntermediates?: boolean;
  /** img2img (SDEdit): start from `initImage` noised to an intermediate level; 1 = from (almost) pure noise. */
  strength?: number;
  /** The clean image img2img starts from, [B, H, W, C] in the data range. */
  initImage?: tf.Tensor4D;
  /**
   * The initial standard-normal draw (diffusers' `latents` before scaling): x_T itself, or the noise
   * added to `initImage`. Default: drawn from the seeded generator. Not disposed.
   */
  noise?: tf.Tensor4D;
  /**
   * Run only rows [start, end) of the batch. `shape`, `cond` (every field), `initImage` and `noise` still describe
   * the whole batch; every random draw (x_T and each step's `StepArgs.noise`) is of the whole batch and
   * keeps these rows, so calls over a partition of the rows give, row for row, the images of one call
   * (how a batch is split over threads). Returns end − start rows.
   */
  rows?: [number, number];
}

export interface SampleOutput {
  samples: tf.Tensor4D;
  /** With `returnIntermediates`: the sample after each step taken. */
  intermediates: tf.Tensor4D[];
  /** With `returnIntermediates`: the predicted clean sample at each step taken. */
  predictions: tf.Tensor4D[];
}

function checkNoise(noise: tf.Tensor4D | undefined, shape: readonly number[]): void {
  if (noise && noise.shape.join() !== shape.join()) {
    throw new Error(`noise must have shape [${shape}]; got [${noise.shape}]`);
  }
}

const SAMPLE_KEYS = optionKeys<SampleOptions>()([
  'schedule', 'shape', 'numInferenceSteps', 'seed', 'cond', 'guidance', 'x0Processor', 'onStep', 'checkFinite',
  'returnIntermediates', 'strength', 'initImage', 'noise', 'rows',
]);

/**
 * The shared sampling loop. The model is always called with the DDPM-scaled
 * x_t = √ᾱ x0 + √(1−ᾱ) ε and a float timestep t; for sigma-space samplers
 * x_t = x_σ / √(1+σ²) and t is the timestep of that σ (σ → t by log-σ
 * interpolation for Karras σ), so every sampler uses the same Denoiser.
 * Starts from x_T ~ N(0, I), or from `initImage` noised to the level of step
 * n − ⌊n·strength⌋ (as diffusers' img2img pipelines).
 */
export async function sample(denoiser: Denoiser, sampler: Sampler, options: SampleOptions): Promise<SampleOutput> {
  checkOptions('sample', options, SAMPLE_KEYS);
  checkOptions('sample', options.guidance, GUIDANCE_OPTION_KEYS, 'guidance');
  // The loop reads only the fields it knows: another would be dropped silently.
  checkOptions('sample', options.cond, CONDITIONING_FIELDS, 'cond');
  checkSeed('sample: seed', options.seed ?? 0);
  if (options.rows === undefined) return sampleRows(denoiser, sampler, options, undefined);
  const whole = options.initImage?.shape ?? options.shape ?? options.noise?.shape;
  const [a, e] = checkRows(options.rows, whole?.[0]);
  const take = <T extends tf.Tensor>(t: T | undefined): T | undefined => (t === undefined ? undefined : tf.slice(t, [a], [e - a]) as T);
  const cond = sliceConditioning(options.cond, a, e - a);
  const initImage = take(options.initImage);
  const noise = take(options.noise);
  try {
    if (options.cond?.classLabels) await checkClassLabels(options.cond.classLabels, denoiser.numClasses, options.guidance !== undefined);
    const shape = [e - a, ...whole!.slice(1)] as [number, number, number, number];
    return await sampleRows(denoiser, sampler, { ...options, shape: options.initImage ? undefined : shape, cond, initImage, noise }, [a, e, whole![0]]);
  } finally {
    disposeConditioning(cond);
    tf.dispose([initImage, noise].filter((t) => t !== undefined));
  }
}

function checkRows(rows: unknown, batch: number | undefined): [number, number] {
  if (batch === undefined) throw new Error('shape is required (or pass initImage or noise)');
  const ok = Array.isArray(rows) && rows.length === 2 && rows.every(Number.isInteger) && 0 <= rows[0] && rows[0] < rows[1] && rows[1] <= batch;
  if (!ok) throw new Error(`rows must be [start, end] with integers 0 <= start < end <= ${batch} (the batch); got ${JSON.stringify(rows)}`);
  return rows as [number, number];
}

/** The loop; `rows` = [start, end, batch] when this call runs rows of a larger batch (its inputs already sliced). */
async function sampleRows(denoiser: Denoiser, sampler: Sampler, options: SampleOptions, rows: [number, number, number] | undefined): Promise<SampleOutput> {
  const { schedule, numInferenceSteps: n, x0Processor, onStep, returnIntermediates = false, cond, checkFinite = true } = options;
  if (cond?.classLabels && !rows) await checkClassLabels(cond.classLabels, denoiser.numClasses, options.guidance !== undefined);
  let model: Denoiser = denoiser;
  if (options.guidance) {
    model = classifierFreeGuidance(denoiser, options.guidance);
  }
  const rng = createRng(options.seed ?? 0);
  // A draw of the whole batch, these rows kept (tf.randomNormal fills a seeded draw in row-major order).
  const draw = (shape: readonly number[]): tf.Tensor4D => {
    if (!rows) return tf.randomNormal<tf.Rank>(shape.slice(), 0, 1, 'float32', rng.nextSeed()) as tf.Tensor4D;
    const [a, e, b] = rows;
    return tf.tidy(() => tf.slice(tf.randomNormal([b, ...shape.slice(1)], 0, 1, 'float32', rng.nextSeed()), [a], [e - a])) as tf.Tensor4D;
  };
  let batch = 0;
  const T = schedule.numTrainTimesteps;
  // A flow model takes x_σ = c(σ)·x_t at σ = t/T.
  const denoise = (xt: tf.Tensor4D, t: number): tf.Tensor4D =>
    model.predict(sampler.flow ? toFlowScale(xt, t / T) : xt, tf.fill([batch], t, 'float32') as tf.Tensor1D, cond);
  const run = startRun(sampler, {
    schedule, numInferenceSteps: n, prediction: denoiser.prediction, rng, x0Processor, denoise, noise: rows ? (like) => draw(like.shape) : undefined,
  });
  const { timesteps, alphasCumprod: levels } = run;

  let start = 0;
  let x: tf.Tensor4D;
  if (options.initImage !== undefined || options.strength !== undefined) {
    const { initImage, strength = 1 } = options;
    if (initImage === undefined) throw new Error('strength needs initImage');
    if (!(strength > 0 && strength <= 1)) throw new Error(`strength must be in (0, 1]; got ${strength}`);
    if (options.shape && options.shape.join() !== initImage.shape.join()) {
      throw new Error(`shape [${options.shape}] differs from initImage's shape [${initImage.shape}]`);
    }
    const m = timesteps.length;
    // SD3's img2img truncates n − n·strength; SD's rounds n·strength down first.
    start = sampler.flow ? Math.floor(Math.max(m - m * strength, 0)) : Math.max(m - Math.min(Math.floor(m * strength), m), 0);
    if (start >= timesteps.length) throw new Error(`strength ${strength} leaves no step of ${timesteps.length}`);
    const a = levels[start];
    checkNoise(options.noise, initImage.shape);
    x = tf.tidy(() => {
      const noise = options.noise ?? draw(initImage.shape);
      return tf.add(tf.mul(initImage, Math.sqrt(a)), tf.mul(noise, Math.sqrt(1 - a))) as tf.Tensor4D;
    });
  } else {
    const shape = options.shape ?? options.noise?.shape;
    if (!shape) throw new Error('shape is required (or pass initImage or noise)');
    checkNoise(options.noise, shape);
    x = options.noise ? tf.clone(options.noise) : draw(shape);
  }
  batch = x.shape[0];
  const intermediates: tf.Tensor4D[] = [];
  const predictions: tf.Tensor4D[] = [];
  try {
    for (let i = start; i < timesteps.length; i++) {
      const current = x;
      const { prevSample, predOriginalSample } = tf.tidy(() => run.step(i, current, denoise(current, timesteps[i])));
      x = prevSample;
      current.dispose();
      if (returnIntermediates) {
        intermediates.push(tf.clone(x));
        predictions.push(tf.clone(predOriginalSample));
      }
      try {
        if (onStep) await onStep(i, timesteps.length, predOriginalSample);
      } finally {
        predOriginalSample.dispose();
      }
    }
  } catch (err) {
    x.dispose();
    for (const t of [...intermediates, ...predictions]) t.dispose();
    throw err;
  } finally {
    run.dispose();
  }
  if (checkFinite) {
    const bad = tf.tidy(() => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(x)), 'int32')));
    const count = (await bad.data())[0]!;
    bad.dispose();
    if (count > 0) {
      x.dispose();
      for (const t of [...intermediates, ...predictions]) t.dispose();
      throw new Error(
        `sample: ${count} of ${x.size} values of the result are NaN or infinite; the denoiser's weights or inputs are not finite ` +
          '(checkFinite: false returns them anyway)',
      );
    }
  }
  return { samples: x, intermediates, predictions };
}

/**
 * Class ids are read once on the host (not per step): integers in [0, numClasses), or the null
 * class numClasses itself without guidance (an unconditional prediction); out-of-range ids would
 * make the embedding gather read outside its table.
 */
async function checkClassLabels(labels: tf.Tensor, numClasses: number | null | undefined, guided: boolean): Promise<void> {
  if (numClasses === null) throw new Error('sample: cond.classLabels given, but the denoiser is unconditional (numClasses is null)');
  const ids = await labels.data();
  const max = numClasses === undefined ? Infinity : guided ? numClasses - 1 : numClasses;
  for (let i = 0; i < ids.length; i++) {
    const c = ids[i]!;
    if (!Number.isInteger(c) || c < 0 || c > max) {
      const range = numClasses === undefined ? 'non-negative integers' : `integers in [0, ${max}]${guided ? '' : ` (${numClasses} = the null class)`}`;
      throw new Error(`sample: cond.classLabels must be ${range}; got ${c} at index ${i}`);
    }
  }
}
