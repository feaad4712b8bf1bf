import * as tf from '@tensorflow/tfjs';
import { batchCoefficients, checkChunkSize, empiricalLogits, fromSample } from './empiricalLogits.js';
import { toMatrix } from './imageSet.js';
import { checkOptions, checkPrediction, optionKeys, type NoiseSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import type { ImageSet } from './types.js';

export interface EmpiricalDenoiserOptions {
  /** What `predict` returns; default 'sample'. */
  prediction?: Prediction;
  /** Training points per matMul; bounds memory at about batch × chunkSize logits. Default 2048. */
  chunkSize?: number;
}

const EMPIRICAL_DENOISER_KEYS = optionKeys<EmpiricalDenoiserOptions>()(['prediction', 'chunkSize']);

/**
 * The optimal denoiser for a finite training set (the "empirical score"):
 *
 *   x̂0(x_t, t) = Σ_i softmax_i(−‖x_t − √ᾱ_t x0_i‖² / (2(1 − ᾱ_t))) x0_i
 *
 * the posterior mean of x0 when x0 is uniform over the training points
 * (Yi et al. 2023, "On the generalization of diffusion model"; Zhou, Zhang and
 * Wright 2026, eq. for the empirical score). Sampling with it reproduces
 * training images. Implements the samplers' `Denoiser` contract.
 *
 * The softmax runs over chunks of training points with a running
 * log-sum-exp, so memory stays bounded for the whole of MNIST.
 */
export class EmpiricalDenoiser {
  readonly prediction: Prediction;
  readonly numTrain: number;
  readonly dim: number;
  private readonly train: tf.Tensor2D;
  private readonly halfSq: tf.Tensor2D;
  private readonly chunkSize: number;

  constructor(trainImages: ImageSet, private readonly schedule: NoiseSchedule, options: EmpiricalDenoiserOptions = {}) {
    checkOptions('EmpiricalDenoiser', options, EMPIRICAL_DENOISER_KEYS);
    this.prediction = checkPrediction(options.prediction ?? 'sample');
    if (this.prediction === 'flow') throw new Error("EmpiricalDenoiser: prediction 'flow' is not supported (its output is in flow scaling); use 'epsilon', 'v' or 'sample'");
    this.chunkSize = checkChunkSize(options.chunkSize ?? 2048);
    this.train = toMatrix(trainImages, 'trainImages');
    [this.numTrain, this.dim] = this.train.shape;
    this.halfSq = tf.tidy(() => tf.reshape(tf.mul(0.5, tf.sum(tf.square(this.train), 1)), [1, this.numTrain]));
  }

  /** The denoiser's output in its `prediction` parameterisation. */
  predict(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D {
    const c = batchCoefficients(this.schedule, t, x.shape[0]);
    try {
      const x0 = this.posteriorMean(x, c);
      try {
        return fromSample(x, x0, c, this.prediction);
      } finally {
        x0.dispose();
      }
    } finally {
      c.dotScale.dispose();
      c.normScale.dispose();
    }
  }

  /** x̂0(x_t, t), whatever `prediction` is. */
  predictSample(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D {
    const c = batchCoefficients(this.schedule, t, x.shape[0]);
    try {
      return this.posteriorMean(x, c);
    } finally {
      c.dotScale.dispose();
      c.normScale.dispose();
    }
  }

  private posteriorMean(x: tf.Tensor4D, c: ReturnType<typeof batchCoefficients>): tf.Tensor4D {
    const b = x.shape[0];
    const d = x.size / b;
    if (d !== this.dim) throw new Error(`x must have ${this.dim} values per item like trainImages; got shape [${x.shape.join(', ')}]`);
    const xf = tf.reshape(x, [b, d]) as tf.Tensor2D;
    // Running log-sum-exp state: row max m, Σ exp(l − m), Σ exp(l − m) y.
    let m: tf.Tensor2D | undefined;
    let z: tf.Tensor2D | undefined;
    let acc: tf.Tensor2D | undefined;
    try {
      for (let start = 0; start < this.numTrain; start += this.chunkSize) {
        const size = Math.min(this.chunkSize, this.numTrain - start);
        const next = tf.tidy(() => {
          const y = tf.slice(this.train, [start, 0], [size, d]);
          const hs = tf.slice(this.halfSq, [0, start], [1, size]);
          const logits = empiricalLogits(xf, y, hs, c);
          const cm = tf.max(logits, 1, true);
          if (!m || !z || !acc) {
            const w = tf.exp(tf.sub(logits, cm));
            return [cm, tf.sum(w, 1, true), tf.matMul(w, y)] as tf.Tensor2D[];
          }
          const mNew = tf.maximum(m, cm);
          const scale = tf.exp(tf.sub(m, mNew));
          const w = tf.exp(tf.sub(logits, mNew));
          return [mNew, tf.add(tf.mul(z, scale), tf.sum(w, 1, true)), tf.add(tf.mul(acc, scale), tf.matMul(w, y))] as tf.Tensor2D[];
        });
        m?.dispose();
        z?.dispose();
        acc?.dispose();
        [m, z, acc] = next as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      }
      const zz = z!;
      const aa = acc!;
      return tf.tidy(() => tf.reshape(tf.div(aa, zz), x.shape)) as tf.Tensor4D;
    } finally {
      xf.dispose();
      m?.dispose();
      z?.dispose();
      acc?.dispose();
    }
  }

  /** Frees the training set held on the backend. */
  dispose(): void {
    this.train.dispose();
    this.halfSq.dispose();
  }
}
