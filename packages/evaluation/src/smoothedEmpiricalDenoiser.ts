import * as tf from '@tensorflow/tfjs';
import { batchCoefficients, checkChunkSize, empiricalLogits, fromSample, gatherPerRow } from './empiricalLogits.js';
import { noiseCoefficients } from './alphaBar.js';
import { toMatrix } from './imageSet.js';
import { checkOptions, checkPrediction, optionKeys, type NoiseSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import type { ImageSet } from './types.js';

export interface SmoothedEmpiricalDenoiserOptions {
  trainImages: ImageSet;
  schedule: NoiseSchedule;
  /** The smoothing constant c ≥ 0 of the extra temperature T_t = c / σ_t. 0 gives the empirical denoiser over the K neighbours. */
  temperature: number;
  /** Number of nearest training points the softmax runs over (1 … N). */
  k: number;
  /** What `predict` returns; default 'sample'. */
  prediction?: Prediction;
  /** Training points per matMul when scoring all of them; default 2048. */
  chunkSize?: number;
}

const SMOOTHED_KEYS = optionKeys<SmoothedEmpiricalDenoiserOptions>()([
  'trainImages', 'schedule', 'temperature', 'k', 'prediction', 'chunkSize',
]);

/**
 * The temperature-smoothed empirical denoiser ("Temperature Smoothing",
 * Zhou, Zhang and Wright 2026, arXiv:2601.19285): the empirical softmax
 * weights over the K training points nearest to x_t/√ᾱ_t, flattened by an
 * extra temperature that grows as the noise shrinks, where the empirical
 * weights are sharpest:
 *
 *   ℓ_i = −‖x_t − √ᾱ_t x0_i‖² / (2σ_t²),   σ_t = √(1 − ᾱ_t),   T_t = c / σ_t
 *   x̂0 = Σ_{i ∈ kNN(x_t)} softmax_i(ℓ_i / (1 + T_t)) x0_i
 *
 * Dividing by 1 + T_t rather than T_t alone keeps c = 0 exactly the
 * empirical denoiser restricted to the K neighbours; as c → ∞ the weights
 * become uniform and x̂0 tends to the mean of the K neighbours. Equivalently
 * the Gaussian kernel's variance grows from σ_t² to σ_t² + c σ_t.
 */
export class SmoothedEmpiricalDenoiser {
  readonly prediction: Prediction;
  readonly numTrain: number;
  readonly dim: number;
  readonly temperature: number;
  readonly k: number;
  private readonly schedule: NoiseSchedule;
  private readonly train: tf.Tensor2D;
  private readonly halfSq: tf.Tensor2D;
  private readonly chunkSize: number;

  constructor(options: SmoothedEmpiricalDenoiserOptions) {
    checkOptions('SmoothedEmpiricalDenoiser', options, SMOOTHED_KEYS);
    this.prediction = checkPrediction(options.prediction ?? 'sample');
    if (this.prediction === 'flow') throw new Error("SmoothedEmpiricalDenoiser: prediction 'flow' is not supported (its output is in flow scaling); use 'epsilon', 'v' or 'sample'");
    this.chunkSize = checkChunkSize(options.chunkSize ?? 2048);
    if (!(options.temperature >= 0)) {
      throw new RangeError(`temperature must be a number >= 0 (Infinity allowed); got ${options.temperature}`);
    }
    this.temperature = options.temperature;
    this.schedule = options.schedule;
    this.train = toMatrix(options.trainImages, 'trainImages');
    [this.numTrain, this.dim] = this.train.shape;
    if (!Number.isInteger(options.k) || options.k < 1 || options.k > this.numTrain) {
      this.train.dispose();
      throw new RangeError(`k must be an integer in [1, ${this.numTrain}] (the number of training points); got ${options.k}`);
    }
    this.k = options.k;
    this.halfSq = tf.tidy(() => tf.reshape(tf.mul(0.5, tf.sum(tf.square(this.train), 1)), [1, this.numTrain]));
  }

  predict(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D {
    return this.run(x, t, this.prediction);
  }

  /** x̂0(x_t, t), whatever `prediction` is. */
  predictSample(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D {
    return this.run(x, t, 'sample');
  }

  private run(x: tf.Tensor4D, t: tf.Tensor1D, prediction: Prediction): tf.Tensor4D {
    const b = x.shape[0];
    const d = x.size / b;
    if (d !== this.dim) throw new Error(`x must have ${this.dim} values per item like trainImages; got shape [${x.shape.join(', ')}]`);
    // Neighbours are ranked by the unsmoothed logits (the ranking does not depend on the temperature).
    const c = batchCoefficients(this.schedule, t, b);
    const { s } = noiseCoefficients(this.schedule, t.dataSync());
    const inv = new Float32Array(b);
    for (let i = 0; i < b; i++) inv[i] = this.temperature === Infinity ? 0 : 1 / (1 + this.temperature / s[i]!);
    try {
      return tf.tidy(() => {
        const xf = tf.reshape(x, [b, d]) as tf.Tensor2D;
        const topVals: tf.Tensor2D[] = [];
        const topIdx: tf.Tensor2D[] = [];
        // A running top-K over chunks keeps memory at batch × (chunkSize + K).
        for (let start = 0; start < this.numTrain; start += this.chunkSize) {
          const size = Math.min(this.chunkSize, this.numTrain - start);
          const [vals, idx] = tf.tidy(() => {
            const y = tf.slice(this.train, [start, 0], [size, d]);
            const hs = tf.slice(this.halfSq, [0, start], [1, size]);
            const logits = empiricalLogits(xf, y, hs, c);
            const kk = Math.min(this.k, size);
            const top = tf.topk(logits, kk);
            return [top.values, tf.add(top.indices, tf.scalar(start, 'int32'))] as tf.Tensor2D[];
          });
          topVals.push(vals!);
          topIdx.push(idx!);
        }
        const allVals = tf.concat(topVals, 1);
        const allIdx = tf.concat(topIdx, 1);
        const best = tf.topk(allVals, this.k);
        const idx = gatherPerRow(allIdx, best.indices as tf.Tensor2D); // [B, K]
        const logits = tf.mul(best.values, tf.tensor2d(inv, [b, 1]));
        const w = tf.softmax(logits); // [B, K]
        const ys = tf.reshape(tf.gather(this.train, tf.reshape(idx, [-1])), [b, this.k, d]);
        const x0 = tf.reshape(tf.matMul(tf.reshape(w, [b, 1, this.k]), ys), x.shape) as tf.Tensor4D;
        return fromSample(x, x0, c, prediction);
      });
    } finally {
      c.dotScale.dispose();
      c.normScale.dispose();
    }
  }

  dispose(): void {
    this.train.dispose();
    this.halfSq.dispose();
  }
}
