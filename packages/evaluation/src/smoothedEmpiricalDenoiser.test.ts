import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { SmoothedEmpiricalDenoiser } from './smoothedEmpiricalDenoiser.js';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { alphaBarLogSnr, normalData, uniformData } from './testing/fixtures.js';

const schedule = makeSchedule({ betaSchedule: 'linear', betaStart: 1e-4, betaEnd: 0.02, numTrainTimesteps: 1000 });
const n = 40;
const d = 8;
const train = uniformData(n, d, 11);
const ts = [5, 250.25, 700];
const x = normalData(ts.length, d, 12);

/** Softmax over the K nearest of −‖x − √ᾱ y‖²/(2σ²) divided by (1 + c/σ), computed directly. */
function direct(c: number, k: number): Float64Array {
  const out = new Float64Array(ts.length * d);
  ts.forEach((t, b) => {
    const ab = alphaBarLogSnr(schedule.alphasCumprod, t);
    const a = Math.sqrt(ab);
    const s = Math.sqrt(1 - ab);
    const d2 = Array.from({ length: n }, (_, i) => {
      let v = 0;
      for (let e = 0; e < d; e++) v += (x[b * d + e]! - a * train[i * d + e]!) ** 2;
      return { i, v };
    }).sort((p, q) => p.v - q.v).slice(0, k);
    const tau = c === Infinity ? Infinity : 1 + c / s;
    const logits = d2.map((p) => (tau === Infinity ? 0 : -p.v / (2 * s * s) / tau));
    const m = Math.max(...logits);
    const w = logits.map((l) => Math.exp(l - m));
    const z = w.reduce((p, q) => p + q, 0);
    d2.forEach((p, j) => {
      for (let e = 0; e < d; e++) out[b * d + e]! += (w[j]! / z) * train[p.i * d + e]!;
    });
  });
  return out;
}

function run(c: number, k: number, chunkSize?: number): Float32Array {
  const den = new SmoothedEmpiricalDenoiser({ trainImages: { data: train, shape: [n, 1, 1, d] }, schedule, temperature: c, k, chunkSize });
  const before = tf.memory().numTensors;
  const xt = tf.tensor4d(x, [ts.length, 1, 1, d]);
  const tt = tf.tensor1d(ts);
  const out = den.predict(xt, tt);
  const data = out.dataSync() as Float32Array;
  tf.dispose([xt, tt, out]);
  expect(tf.memory().numTensors).toBe(before);
  den.dispose();
  return data;
}

describe('SmoothedEmpiricalDenoiser', () => {
  it('with very large c tends to the mean of the K nearest neighbours', () => {
    const got = run(1e12, 5, 7);
    const want = direct(Infinity, 5);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });

  it('with c = 0 equals the empirical denoiser restricted to the K nearest', () => {
    const got = run(0, 6, 9);
    const want = direct(0, 6);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });

  it('for intermediate c divides the logits by 1 + c/σ_t', () => {
    for (const c of [0.05, 1]) {
      const got = run(c, 10);
      const want = direct(c, 10);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
    }
  });

  it('with K = N and c = 0 is the full empirical denoiser', () => {
    const got = run(0, n, 16);
    const want = direct(0, n);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });

  it('names bad parameters', () => {
    const base = { trainImages: { data: train, shape: [n, d] }, schedule };
    expect(() => new SmoothedEmpiricalDenoiser({ ...base, temperature: -1, k: 3 })).toThrow(/temperature must be/);
    expect(() => new SmoothedEmpiricalDenoiser({ ...base, temperature: 1, k: n + 1 })).toThrow(/k must be an integer in \[1, 40\]/);
  });
});
