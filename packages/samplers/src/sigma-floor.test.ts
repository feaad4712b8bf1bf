import * as tf from '@tensorflow/tfjs';
import { makeSchedule, sigmaAt, type NoiseSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { dpmSolverPlusPlus2M } from './dpm-solver.js';
import { euler } from './euler.js';
import { eulerAncestral } from './euler-ancestral.js';
import { heun } from './heun.js';
import { lms } from './lms.js';
import { sample } from './sample.js';
import type { Denoiser, Sampler } from './types.js';

// diffusers floors ᾱ at 2⁻²⁴ only where it is exactly 0 (rescale_betas_zero_snr's last step);
// every other schedule keeps its own σ_max = √((1 − ᾱ_{T−1})/ᾱ_{T−1}).
const cosine = makeSchedule({ betaSchedule: 'squaredcos_cap_v2' });
const zeroSnr = makeSchedule({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, rescaleBetasZeroSnr: true });
const sigmaOf = (a: number) => Math.sqrt((1 - a) / a);
const firstSigma = (s: Sampler, schedule: NoiseSchedule) => sigmaOf(s.alphasCumprod!(schedule, s.timesteps(schedule, 10))[0]!);

describe('the σ of the Euler family and DPM-Solver++ at t = T − 1', () => {
  const samplers: [string, Sampler][] = [
    ['euler', euler()], ['euler-a', eulerAncestral()], ['heun', heun()], ['lms', lms()], ['dpm-solver++', dpmSolverPlusPlus2M()],
    ['euler karras', euler({ useKarrasSigmas: true })], ['dpm-solver++ karras', dpmSolverPlusPlus2M({ useKarrasSigmas: true })],
  ];
  it.each(samplers)('%s on the cosine schedule starts at √((1 − ᾱ₉₉₉)/ᾱ₉₉₉)', (_, s) => {
    const a = cosine.alphasCumprod[999]!;
    expect(a).toBeLessThan(2 ** -24); // 2.4e-9: a floor at 2⁻²⁴ would cut σ to 4,096
    expect(firstSigma(s, cosine) / sigmaOf(a)).toBeCloseTo(1, 9);
    expect(firstSigma(s, cosine)).toBeGreaterThan(20_000);
  });
  it.each(samplers)('%s on a zero-terminal-SNR schedule starts at σ of ᾱ = 2⁻²⁴, as diffusers', (_, s) => {
    expect(zeroSnr.alphasCumprod[999]).toBe(0);
    expect(firstSigma(s, zeroSnr)).toBeCloseTo(sigmaOf(2 ** -24), 6);
  });
});

describe('Heun on the cosine schedule', () => {
  // Data N(μ, s²): the exact noise prediction at σ is ε̂ = √(1−ᾱ)(x − √ᾱ μ)/(ᾱ s² + 1 − ᾱ). The
  // denoiser reads ᾱ at the model timestep as the Euler grid does (σ linear between training steps).
  const mu = 0.5, s = 0.2;
  const gaussian: Denoiser = {
    prediction: 'epsilon',
    predict: (x, t) =>
      tf.tidy(() => {
        const a = tf.tensor1d(Array.from(t.dataSync(), (v) => 1 / (1 + sigmaAt(cosine, v, { interpolation: 'linear' }) ** 2))).reshape([-1, 1, 1, 1]);
        const num = tf.mul(tf.sqrt(tf.sub(1, a)), tf.sub(x, tf.mul(tf.sqrt(a), mu)));
        return tf.div(num, tf.add(tf.mul(a, s * s), tf.sub(1, a))) as tf.Tensor4D;
      }),
  };
  it('with the exact Gaussian denoiser gives the data mean and std', async () => {
    const before = tf.memory().numTensors;
    const { samples } = await sample(gaussian, heun(), { schedule: cosine, shape: [4000, 1, 1, 1], numInferenceSteps: 25, seed: 3 });
    const { mean, variance } = tf.moments(samples);
    const [m, v] = [mean.dataSync()[0]!, variance.dataSync()[0]!];
    tf.dispose([samples, mean, variance]);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(m - mu)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(v) - s)).toBeLessThan(0.02);
  });

  it('with Karras σ the std error is the step count\'s (σ from 20,291 down in few steps), shrinking as steps are added', async () => {
    // Measured: std 0.518 at 10 steps, 0.249 at 25, 0.209 at 50 (plain Heun: 0.704, 0.217, 0.201); the mean is within 0.001 throughout.
    const errs: number[] = [];
    for (const n of [10, 25, 50]) {
      const { samples } = await sample(gaussian, heun({ useKarrasSigmas: true }), { schedule: cosine, shape: [4000, 1, 1, 1], numInferenceSteps: n, seed: 3 });
      const { mean, variance } = tf.moments(samples);
      expect(Math.abs(mean.dataSync()[0]! - mu)).toBeLessThan(0.002);
      errs.push(Math.abs(Math.sqrt(variance.dataSync()[0]!) - s));
      tf.dispose([samples, mean, variance]);
    }
    expect(errs[1]!).toBeLessThan(errs[0]!);
    expect(errs[2]!).toBeLessThan(errs[1]!);
    expect(errs[2]!).toBeLessThan(0.015);
  });
});
