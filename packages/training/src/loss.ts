import * as tf from '@tensorflow/tfjs';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import { conditioningFromHost, disposeConditioning, sliceHostConditioning, type Conditioning, type HostConditioning } from '@tfjs-diffusion/samplers';
import { addNoise, flowNoise, predictionTarget } from './targets.js';
import type { Prediction } from '@tfjs-diffusion/schedules';
import type { TrainableDenoiser } from './types.js';

/**
 * Everything a loss evaluation needs, drawn beforehand by the caller so a
 * step is a pure function of it (and a sharded step equals a whole one).
 */
export interface PreparedBatch {
  x0: tf.Tensor4D;
  /** ε, the regression target's noise (offset noise already added). */
  noise: tf.Tensor4D;
  /** The noise used to build x_t (ε + γξ with input perturbation, else `noise`). */
  inputNoise: tf.Tensor4D;
  /** The model's timesteps, float32: integer training timesteps, or σ·T for flow matching. */
  t: tf.Tensor1D;
  /** ᾱ at each sample's timestep (ones for flow matching, which uses `sigma`). */
  alphaCumprod: tf.Tensor1D;
  /** Flow matching only: each sample's σ of x_σ = (1 − σ) x0 + σ ε. */
  sigma?: tf.Tensor1D;
  /** Per-sample loss weights (min-SNR-γ, or ones). */
  weights: tf.Tensor1D;
  /** Each row's condition, condition dropout already applied. */
  cond?: Conditioning;
  dropoutSeed: number;
  dropoutRate?: number;
}

/** The same batch as plain arrays, structured-cloneable for worker threads. */
export interface PlainBatch {
  shape: [number, number, number, number];
  images: Float32Array;
  noise: Float32Array;
  inputNoise?: Float32Array;
  /** Integer timesteps, or σ·T (float) for flow matching. */
  t: Int32Array | Float32Array;
  alphaCumprod: Float32Array;
  sigma?: Float32Array;
  weights: Float32Array;
  cond?: HostConditioning;
  dropoutSeed: number;
  dropoutRate?: number;
}

/** Weighted MSE: mean over samples of w_i · mean over elements of (f(x_t, t) − target)². */
export function diffusionLoss(denoiser: TrainableDenoiser, prediction: Prediction, b: PreparedBatch): tf.Scalar {
  return tf.tidy(() => {
    if ((prediction === 'flow') !== (b.sigma !== undefined)) throw new Error(`diffusionLoss: a batch ${b.sigma ? 'with' : 'without'} flow sigmas for prediction '${prediction}'`);
    const xt = b.sigma ? flowNoise(b.x0, b.inputNoise, b.sigma) : addNoise(b.x0, b.inputNoise, b.alphaCumprod);
    const target = predictionTarget(prediction, b.x0, b.noise, b.alphaCumprod);
    const out = denoiser.predict(xt, b.t, b.cond, {
      training: true,
      seed: b.dropoutSeed,
      ...(b.dropoutRate !== undefined ? { dropoutRate: b.dropoutRate } : {}),
    });
    const perSample = tf.mean(tf.square(tf.sub(out, target)), [1, 2, 3]);
    return tf.mean(tf.mul(perSample, b.weights)) as tf.Scalar;
  });
}

/** Loss and gradients (by parameter name) over `params`; the caller disposes both. */
export function lossAndGrads(
  denoiser: TrainableDenoiser,
  prediction: Prediction,
  params: readonly NamedParameter[],
  b: PreparedBatch,
): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const { value, grads } = tf.variableGrads(
    () => diffusionLoss(denoiser, prediction, b),
    params.map((p) => p.variable),
  );
  const named: Record<string, tf.Tensor> = {};
  for (const p of params) {
    const g = grads[p.variable.name];
    // a parameter the loss does not reach (e.g. an unused class row) gets a zero gradient
    named[p.name] = g ?? tf.zerosLike(p.variable);
  }
  return { loss: value, grads: named };
}

export function plainToPrepared(b: PlainBatch): PreparedBatch {
  const x0 = tf.tensor4d(b.images, b.shape);
  const noise = tf.tensor4d(b.noise, b.shape);
  return {
    x0,
    noise,
    inputNoise: b.inputNoise ? tf.tensor4d(b.inputNoise, b.shape) : noise,
    t: tf.tensor1d(Float32Array.from(b.t), 'float32'),
    alphaCumprod: tf.tensor1d(b.alphaCumprod, 'float32'),
    ...(b.sigma && { sigma: tf.tensor1d(b.sigma, 'float32') }),
    weights: tf.tensor1d(b.weights, 'float32'),
    cond: conditioningFromHost(b.cond),
    dropoutSeed: b.dropoutSeed,
    dropoutRate: b.dropoutRate,
  };
}

export function disposePrepared(b: PreparedBatch): void {
  tf.dispose([b.x0, b.noise, b.inputNoise, b.t, b.alphaCumprod, b.weights, ...(b.sigma ? [b.sigma] : [])]);
  disposeConditioning(b.cond);
}

/** Rows [start, end) of a plain batch. */
export function slicePlain(b: PlainBatch, start: number, end: number): PlainBatch {
  const per = b.shape[1] * b.shape[2] * b.shape[3];
  return {
    shape: [end - start, b.shape[1], b.shape[2], b.shape[3]],
    images: b.images.slice(start * per, end * per),
    noise: b.noise.slice(start * per, end * per),
    inputNoise: b.inputNoise?.slice(start * per, end * per),
    t: b.t.slice(start, end),
    alphaCumprod: b.alphaCumprod.slice(start, end),
    sigma: b.sigma?.slice(start, end),
    weights: b.weights.slice(start, end),
    cond: sliceHostConditioning(b.cond, start, end),
    dropoutSeed: b.dropoutSeed,
    dropoutRate: b.dropoutRate,
  };
}
