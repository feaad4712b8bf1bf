import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { EmpiricalDenoiser } from './empiricalDenoiser.js';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { alphaBarLogSnr, normalData, uniformData } from './testing/fixtures.js';

const schedule = makeSchedule({ betaSchedule: 'linear', betaStart: 1e-4, betaEnd: 0.02, numTrainTimesteps: 1000 });

function alphaBar(t: number): number {
  return alphaBarLogSnr(schedule.alphasCumprod, t);
}

/** x̂0 straight from the definition: softmax over −‖x − √ᾱ y_i‖² / (2(1 − ᾱ)), in float64. */
function direct(x: Float32Array, ts: number[], train: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(ts.length * d);
  ts.forEach((t, b) => {
    const ab = alphaBar(t);
    const a = Math.sqrt(ab);
    const logits = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let d2 = 0;
      for (let e = 0; e < d; e++) d2 += (x[b * d + e]! - a * train[i * d + e]!) ** 2;
      logits[i] = -d2 / (2 * (1 - ab));
    }
    const m = Math.max(...logits);
    let z = 0;
    for (let i = 0; i < n; i++) z += Math.exp(logits[i]! - m);
    for (let i = 0; i < n; i++) {
      const w = Math.exp(logits[i]! - m) / z;
      for (let e = 0; e < d; e++) out[b * d + e]! += w * train[i * d + e]!;
    }
  });
  return out;
}

describe('EmpiricalDenoiser', () => {
  const n = 11;
  const shape = [1, 2, 3] as const;
  const d = 6;
  const train = uniformData(n, d, 1);
  // Noisy points near, but not at, the training set, so the weights are spread.
  const ts = [3, 120.5, 400, 999];
  const x = new Float32Array(ts.length * d);
  const noise = normalData(ts.length, d, 2);
  ts.forEach((t, b) => {
    const a = Math.sqrt(alphaBar(t));
    const s = Math.sqrt(1 - alphaBar(t));
    for (let e = 0; e < d; e++) x[b * d + e] = a * train[(b % n) * d + e]! + s * noise[b * d + e]!;
  });

  for (const chunkSize of [1, 4, 2048]) {
    it(`equals the direct O(N) posterior mean (chunkSize ${chunkSize})`, () => {
      const den = new EmpiricalDenoiser({ data: train, shape: [n, ...shape] }, schedule, { chunkSize });
      const before = tf.memory().numTensors;
      const xt = tf.tensor4d(x, [ts.length, ...shape]);
      const tt = tf.tensor1d(ts);
      const out = den.predict(xt, tt);
      const got = out.dataSync();
      const want = direct(x, ts, train, n, d);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
      tf.dispose([xt, tt, out]);
      expect(tf.memory().numTensors).toBe(before);
      den.dispose();
    });
  }

  it('the weights really mix several points at high noise (the test above is not trivial)', () => {
    const want = direct(x, ts, train, n, d);
    const last = Array.from(want.slice(3 * d, 4 * d));
    let minDist = Infinity;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let e = 0; e < d; e++) s += (last[e]! - train[i * d + e]!) ** 2;
      minDist = Math.min(minDist, s);
    }
    expect(minDist).toBeGreaterThan(1e-3);
  });

  it('converts to epsilon and v predictions', () => {
    const xt = tf.tensor4d(x, [ts.length, ...shape]);
    const tt = tf.tensor1d(ts);
    const want = direct(x, ts, train, n, d);
    const eps = new EmpiricalDenoiser({ data: train, shape: [n, ...shape] }, schedule, { prediction: 'epsilon' });
    const v = new EmpiricalDenoiser({ data: train, shape: [n, ...shape] }, schedule, { prediction: 'v' });
    const e = eps.predict(xt, tt).dataSync();
    const vv = v.predict(xt, tt).dataSync();
    ts.forEach((t, b) => {
      const a = Math.sqrt(alphaBar(t));
      const s = Math.sqrt(1 - alphaBar(t));
      for (let k = 0; k < d; k++) {
        const i = b * d + k;
        const epsWant = (x[i]! - a * want[i]!) / s;
        expect(e[i]).toBeCloseTo(epsWant, 2);
        expect(vv[i]).toBeCloseTo(a * epsWant - s * want[i]!, 2);
      }
    });
    tf.dispose([xt, tt]);
    eps.dispose();
    v.dispose();
  });

  it('returns the nearest training image at tiny noise, on 784-d images', () => {
    const nn = 300;
    const dd = 784;
    const imgs = uniformData(nn, dd, 5);
    const den = new EmpiricalDenoiser({ data: imgs, shape: [nn, 28, 28, 1] }, schedule, { chunkSize: 64 });
    const ab = schedule.alphasCumprod[0]!; // σ = 0.01
    const picks = [0, 17, 299];
    const xs = new Float32Array(picks.length * dd);
    const nz = normalData(picks.length, dd, 6);
    picks.forEach((p, b) => {
      for (let e = 0; e < dd; e++) xs[b * dd + e] = Math.sqrt(ab) * imgs[p * dd + e]! + Math.sqrt(1 - ab) * nz[b * dd + e]!;
    });
    const xt = tf.tensor4d(xs, [picks.length, 28, 28, 1]);
    const tt = tf.tensor1d([0, 0, 0]);
    const out = den.predict(xt, tt).dataSync();
    expect(out.every(Number.isFinite)).toBe(true);
    picks.forEach((p, b) => {
      for (let e = 0; e < dd; e += 37) expect(out[b * dd + e]).toBeCloseTo(imgs[p * dd + e]!, 5);
    });
    tf.dispose([xt, tt]);
    den.dispose();
  });

  it('names bad parameters', () => {
    expect(() => new EmpiricalDenoiser({ data: train, shape: [n, d] }, schedule, { prediction: 'x0' as never })).toThrow(/prediction must be one of/);
    expect(() => new EmpiricalDenoiser({ data: train, shape: [n, d] }, schedule, { chunkSize: 0 })).toThrow(/chunkSize/);
    const den = new EmpiricalDenoiser({ data: train, shape: [n, d] }, schedule);
    const xt = tf.zeros([1, 1, 1, d]) as tf.Tensor4D;
    const tt = tf.tensor1d([1000]);
    expect(() => den.predict(xt, tt)).toThrow(/t must be in \[0, 999\]/);
    tf.dispose([xt, tt]);
    den.dispose();
  });
});
