// Small stand-ins used by this package's tests: a tiny MLP denoiser over
// [B, 1, 1, 2] and a seeded Gaussian-mixture batch source.
import * as tf from '@tensorflow/tfjs';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import { createRng, type Prediction, type RngState } from '@tfjs-diffusion/schedules';
import type { Batch, BatchSource, TrainableDenoiser } from '../types.js';

export class ToyDenoiser implements TrainableDenoiser {
  readonly config = { numClasses: 2, hidden: 64 };
  nanOutput = false;
  private readonly params: NamedParameter[];
  constructor(readonly prediction: Prediction = 'epsilon', seed = 0, hidden = 64) {
    this.config.hidden = hidden;
    const init = (name: string, shape: number[], scale: number, s: number): NamedParameter => ({
      name,
      variable: tf.variable(scale === 0 ? tf.zeros(shape) : tf.randomNormal(shape, 0, scale, 'float32', seed * 100 + s), true),
    });
    const nIn = 2 + 16;
    this.params = [
      init('in.kernel', [nIn, hidden], Math.sqrt(2 / nIn), 1),
      init('in.bias', [hidden], 0, 2),
      init('classEmbed.table', [3, hidden], 0.1, 3),
      init('mid.kernel', [hidden, hidden], Math.sqrt(2 / hidden), 4),
      init('mid.bias', [hidden], 0, 5),
      init('out.kernel', [hidden, 2], Math.sqrt(1 / hidden), 6),
      init('out.bias', [2], 0, 7),
    ];
  }
  private p(name: string): tf.Variable {
    return this.params.find((p) => p.name === name)!.variable;
  }
  parameters(): NamedParameter[] {
    return this.params;
  }
  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: { classLabels?: tf.Tensor1D }): tf.Tensor4D {
    return tf.tidy(() => {
      const b = x.shape[0];
      const freqs = tf.tensor1d(Array.from({ length: 8 }, (_, i) => Math.exp(-Math.log(1000) * i / 8)));
      const arg = tf.mul(tf.reshape(t, [-1, 1]), tf.reshape(freqs, [1, -1]));
      const feat = tf.concat([tf.reshape(x, [b, 2]), tf.sin(arg), tf.cos(arg)], 1);
      let h = tf.add(tf.matMul(feat, this.p('in.kernel')), this.p('in.bias'));
      if (cond?.classLabels) h = tf.add(h, tf.gather(this.p('classEmbed.table'), cond.classLabels));
      h = tf.mul(h, tf.sigmoid(h));
      h = tf.add(tf.matMul(h, this.p('mid.kernel')), this.p('mid.bias'));
      h = tf.mul(h, tf.sigmoid(h));
      let out = tf.add(tf.matMul(h, this.p('out.kernel')), this.p('out.bias'));
      if (this.nanOutput) out = tf.mul(out, NaN);
      return tf.reshape(out, [b, 1, 1, 2]) as tf.Tensor4D;
    });
  }
  dispose(): void {
    for (const p of this.params) p.variable.dispose();
  }
}

/** Two Gaussians at (±1, ±0.5) with σ = 0.1; labels say which. State = the generator's. */
export interface MixtureSource extends BatchSource {
  next(): Batch;
  getState(): RngState;
}

export function mixtureSource(seed: number, batchSize: number): MixtureSource {
  const rng = createRng(seed);
  return {
    next() {
      const xs = new Float32Array(batchSize * 2);
      const labels = new Int32Array(batchSize);
      for (let i = 0; i < batchSize; i++) {
        const k = rng.nextInt(2);
        labels[i] = k;
        xs[2 * i] = (k ? 1 : -1) + 0.1 * rng.normal();
        xs[2 * i + 1] = (k ? 0.5 : -0.5) + 0.1 * rng.normal();
      }
      return { images: tf.tensor4d(xs, [batchSize, 1, 1, 2]), labels };
    },
    getState: () => rng.getState(),
    setState: (s) => rng.setState(s as RngState),
  };
}
