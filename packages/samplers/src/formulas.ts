import * as tf from '@tensorflow/tfjs';
import { checkPrediction, type Prediction } from '@tfjs-diffusion/schedules';

/*
 * The few formulas every sampler shares, in DDPM scaling x_t = √ᾱ x0 + √(1−ᾱ) ε
 * and in Karras scaling x_σ = x0 + σ ε = x_t / √ᾱ, with σ² = (1−ᾱ)/ᾱ.
 */

/** The clean sample x0 implied by a model output at noise level ᾱ. */
export function predictX0(prediction: Prediction, sample: tf.Tensor4D, modelOutput: tf.Tensor4D, alphaCumprod: number): tf.Tensor4D {
  const a = Math.sqrt(alphaCumprod);
  const s = Math.sqrt(1 - alphaCumprod);
  switch (prediction) {
    case 'epsilon':
      return tf.div(tf.sub(sample, tf.mul(modelOutput, s)), a) as tf.Tensor4D;
    case 'v':
      return tf.sub(tf.mul(sample, a), tf.mul(modelOutput, s)) as tf.Tensor4D;
    case 'sample':
      return modelOutput;
    case 'flow':
      throw flowRefused('predictX0');
    default:
      checkPrediction(prediction);
      throw new Error('unreachable');
  }
}

/** The noise ε implied by a model output at noise level ᾱ. */
export function predictEpsilon(prediction: Prediction, sample: tf.Tensor4D, modelOutput: tf.Tensor4D, alphaCumprod: number): tf.Tensor4D {
  const a = Math.sqrt(alphaCumprod);
  const s = Math.sqrt(1 - alphaCumprod);
  switch (prediction) {
    case 'epsilon':
      return modelOutput;
    case 'v':
      return tf.add(tf.mul(modelOutput, a), tf.mul(sample, s)) as tf.Tensor4D;
    case 'sample':
      return epsilonFromX0(sample, modelOutput, alphaCumprod);
    case 'flow':
      throw flowRefused('predictEpsilon');
    default:
      checkPrediction(prediction);
      throw new Error('unreachable');
  }
}

function flowRefused(where: string): Error {
  return new Error(`${where}: a 'flow' output is the velocity ε − x0 of x_σ = (1 − σ) x0 + σ ε, not a DDPM-scaled prediction; the flow-matching samplers read it`);
}

/** ε = (x_t − √ᾱ x0) / √(1−ᾱ). */
export function epsilonFromX0(sample: tf.Tensor4D, x0: tf.Tensor4D, alphaCumprod: number): tf.Tensor4D {
  return tf.div(tf.sub(sample, tf.mul(x0, Math.sqrt(alphaCumprod))), Math.sqrt(1 - alphaCumprod)) as tf.Tensor4D;
}

/** The probability-flow ODE derivative dx/dσ = (x − D(x)) / σ in Karras scaling (k-diffusion's `to_d`). */
export function toD(x: tf.Tensor4D, sigma: number, denoised: tf.Tensor4D): tf.Tensor4D {
  return tf.div(tf.sub(x, denoised), sigma) as tf.Tensor4D;
}

/**
 * Splits a step σ_from → σ_to into a deterministic step to σ_down and fresh noise
 * of std σ_up, with σ_down² + σ_up² = σ_to² (k-diffusion's `get_ancestral_step`).
 */
export function ancestralStep(sigmaFrom: number, sigmaTo: number, eta = 1): { sigmaDown: number; sigmaUp: number } {
  if (eta === 0 || sigmaTo === 0) return { sigmaDown: sigmaTo, sigmaUp: 0 };
  const sigmaUp = Math.min(sigmaTo, eta * Math.sqrt((sigmaTo ** 2 * (sigmaFrom ** 2 - sigmaTo ** 2)) / sigmaFrom ** 2));
  return { sigmaDown: Math.sqrt(sigmaTo ** 2 - sigmaUp ** 2), sigmaUp };
}

/** Karras scaling → DDPM scaling: x_t = x_σ / √(1+σ²). */
export function toDdpmScale(xSigma: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return sigma === 0 ? xSigma : (tf.div(xSigma, Math.sqrt(1 + sigma * sigma)) as tf.Tensor4D);
}

/** DDPM scaling → Karras scaling: x_σ = x_t √(1+σ²). */
export function toSigmaScale(xT: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return sigma === 0 ? xT : (tf.mul(xT, Math.sqrt(1 + sigma * sigma)) as tf.Tensor4D);
}
