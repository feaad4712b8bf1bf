import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ensemble } from './ensemble.js';
import { classifierFreeGuidance } from './guidance.js';
import type { Conditioning } from './conditioning.js';
import type { Denoiser } from './types.js';

// A class-conditional toy: f(x, t, c) = x (1 + c) + t / 1000 + c², one row per label.
const toy: Denoiser = {
  prediction: 'epsilon',
  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning) {
    return tf.tidy(() => {
      const c = tf.reshape(tf.cast(cond!.classLabels!, 'float32'), [-1, 1, 1, 1]);
      const tt = tf.reshape(t, [-1, 1, 1, 1]);
      return tf.add(tf.add(tf.mul(x, tf.add(c, 1)), tf.div(tt, 1000)), tf.square(c)) as tf.Tensor4D;
    });
  },
};
const f = (x: number, t: number, c: number) => x * (1 + c) + t / 1000 + c * c;

const X = [
  [0.3, -1.2, 0.8, 2.0],
  [1.5, 0.1, -0.4, -0.9],
];
const T = [700, 120];
const LABELS = [2, 0];
const NULL = 5;

function guided(w: number, phi: number): number[][] {
  const out = tf.tidy(() =>
    classifierFreeGuidance(toy, { guidanceScale: w, guidanceRescale: phi, nullClass: NULL }).predict(
      tf.tensor4d(X.flat(), [2, 2, 2, 1]),
      tf.tensor1d(T),
      { classLabels: tf.tensor1d(LABELS, 'int32') },
    ),
  );
  const v = Array.from(out.dataSync());
  out.dispose();
  return [v.slice(0, 4), v.slice(4)];
}

function expectClose(a: number[][], b: number[][], tol = 1e-5): void {
  a.flat().forEach((v, k) => expect(Math.abs(v - b.flat()[k])).toBeLessThan(tol * Math.max(1, Math.abs(b.flat()[k]))));
}

const std = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
};

describe('classifierFreeGuidance', () => {
  const cond = X.map((row, b) => row.map((x) => f(x, T[b], LABELS[b])));
  const uncond = X.map((row, b) => row.map((x) => f(x, T[b], NULL)));

  it('w = 1 is the conditional prediction, w = 0 the unconditional one', () => {
    expectClose(guided(1, 0), cond);
    expectClose(guided(0, 0), uncond);
  });

  it('w = 3 extrapolates ε_u + w (ε_c − ε_u)', () => {
    expectClose(guided(3, 0), cond.map((row, b) => row.map((c, k) => uncond[b][k] + 3 * (c - uncond[b][k]))));
  });

  it('guidance rescale follows Lin et al. 2023 eq. 15-16 per sample', () => {
    const phi = 0.7;
    const cfg = cond.map((row, b) => row.map((c, k) => uncond[b][k] + 4 * (c - uncond[b][k])));
    const expected = cfg.map((row, b) => {
      const ratio = std(cond[b]) / std(row);
      return row.map((v) => phi * v * ratio + (1 - phi) * v);
    });
    expectClose(guided(4, phi), expected);
  });

  it('names a missing class label', () => {
    const d = classifierFreeGuidance(toy, { guidanceScale: 2, nullClass: NULL });
    expect(() => d.predict(tf.zeros([1, 1, 1, 1]), tf.zeros([1]))).toThrow(/classLabels/);
  });

  it('does not leak', () => {
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) guided(2, 0.5);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('ensemble', () => {
  const a: Denoiser = { prediction: 'v', predict: (x) => tf.mul(x, 2) as tf.Tensor4D };
  const b: Denoiser = { prediction: 'v', predict: (x) => tf.add(x, 1) as tf.Tensor4D };

  it('is the weighted mean of the predictions', () => {
    const out = tf.tidy(() => ensemble([a, b], [3, 1]).predict(tf.tensor4d([1, -2], [1, 1, 1, 2]), tf.zeros([1])));
    const v = Array.from(out.dataSync());
    out.dispose();
    expect(v[0]).toBeCloseTo((3 * 2 + 1 * 2) / 4, 6);
    expect(v[1]).toBeCloseTo((3 * -4 + 1 * -1) / 4, 6);
  });

  it('refuses mixed prediction types', () => {
    expect(() => ensemble([a, { ...b, prediction: 'epsilon' }])).toThrow(/prediction type.*'v'.*'epsilon'/);
  });
});
