import * as tf from '@tensorflow/tfjs';
import { createRng } from '@tfjs-diffusion/schedules';

/**
 * A small MLP ε- or x0-predictor for flattened images or vectors, used by experiments 3 and 4
 * (a U-Net is out of reach for minutes-long CPU runs). With
 * `noiseConditioned: false` it never sees t: the noise-unconditioned network
 * of Zhou, Zhang and Wright 2026.
 */
export class MlpDenoiser {
  readonly prediction: 'epsilon' | 'sample';
  readonly config: { dim: number; hidden: number; noiseConditioned: boolean; numClasses: null };
  private readonly params: { name: string; variable: tf.Variable }[] = [];

  constructor(dim: number, options: { hidden?: number; noiseConditioned?: boolean; seed?: number; prediction?: 'epsilon' | 'sample' } = {}) {
    const hidden = options.hidden ?? 512;
    this.prediction = options.prediction ?? 'epsilon';
    this.config = { dim, hidden, noiseConditioned: options.noiseConditioned ?? true, numClasses: null };
    const rng = createRng(options.seed ?? 0);
    const add = (name: string, shape: number[], scale: number) => {
      const seed = rng.nextSeed();
      this.params.push({ name, variable: tf.tidy(() => tf.variable(scale === 0 ? tf.zeros(shape) : tf.randomNormal(shape, 0, scale, 'float32', seed))) });
    };
    add('in.kernel', [dim, hidden], Math.sqrt(1 / dim));
    add('in.bias', [hidden], 0);
    if (this.config.noiseConditioned) {
      add('temb.kernel', [32, hidden], Math.sqrt(1 / 32));
      add('temb.bias', [hidden], 0);
    }
    add('mid.kernel', [hidden, hidden], Math.sqrt(1 / hidden));
    add('mid.bias', [hidden], 0);
    add('mid2.kernel', [hidden, hidden], Math.sqrt(1 / hidden));
    add('mid2.bias', [hidden], 0);
    add('out.kernel', [hidden, dim], Math.sqrt(1 / hidden) * 0.1);
    add('out.bias', [dim], 0);
  }

  parameters() {
    return this.params;
  }

  private p(name: string): tf.Variable {
    return this.params.find((q) => q.name === name)!.variable;
  }

  predict(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D {
    return tf.tidy(() => {
      const b = x.shape[0];
      const silu = (h: tf.Tensor) => tf.mul(h, tf.sigmoid(h));
      let h = tf.add(tf.matMul(tf.reshape(x, [b, this.config.dim]), this.p('in.kernel')), this.p('in.bias'));
      if (this.config.noiseConditioned) {
        const freqs = tf.tensor1d(Array.from({ length: 16 }, (_, i) => Math.exp((-Math.log(10000) * i) / 16)));
        const arg = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), tf.reshape(freqs, [1, -1]));
        const emb = tf.concat([tf.sin(arg), tf.cos(arg)], 1);
        h = tf.add(h, tf.add(tf.matMul(emb, this.p('temb.kernel')), this.p('temb.bias')));
      }
      h = silu(h);
      h = tf.add(h, silu(tf.add(tf.matMul(h, this.p('mid.kernel')), this.p('mid.bias'))));
      h = tf.add(h, silu(tf.add(tf.matMul(h, this.p('mid2.kernel')), this.p('mid2.bias'))));
      const out = tf.add(tf.matMul(h, this.p('out.kernel')), this.p('out.bias'));
      return tf.reshape(out, x.shape) as tf.Tensor4D;
    });
  }

  dispose(): void {
    for (const p of this.params) p.variable.dispose();
  }
}

/** Batches of `batchSize` images drawn with replacement from a host set, seeded. */
export function randomBatches(set: { data: Float32Array; shape: readonly number[] }, batchSize: number, seed: number) {
  const rng = createRng(seed);
  const n = set.shape[0]!;
  const d = set.data.length / n;
  const buf = new Float32Array(batchSize * d);
  return {
    next: () => {
      for (let i = 0; i < batchSize; i++) {
        const j = rng.nextInt(n);
        buf.set(set.data.subarray(j * d, (j + 1) * d), i * d);
      }
      return { images: tf.tensor4d(buf, [batchSize, ...set.shape.slice(1)] as [number, number, number, number]) };
    },
  };
}
