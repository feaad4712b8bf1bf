import * as tf from '@tensorflow/tfjs';
import { makeSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { ddim } from './ddim.js';
import { dpmSolverPlusPlus2M } from './dpm-solver.js';
import { euler } from './euler.js';
import { heun } from './heun.js';
import { runNoiseLevels } from './run.js';
import { sample } from './sample.js';
import type { Denoiser, Sampler } from './types.js';

// Whole deterministic runs against k-diffusion's samplers (sample_euler, sample_heun,
// sample_dpmpp_2m) written out here on plain numbers in σ scaling, from the same noise.

const schedule = makeSchedule({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 });
const MU = 0.6;
const S = 0.7;
const NOISE = [0.3, -1.4, 0.9, 2.1, -0.2, -0.8];

/** The exact denoiser of N(μ, s²) data in σ scaling: D(x; σ) = μ + s² (x − μ) / (s² + σ²). */
const D = (x: number, sigma: number) => MU + (S * S * (x - MU)) / (S * S + sigma * sigma);

type KSampler = (x: number, sigmas: number[]) => number;

const kEuler: KSampler = (x, sigmas) => {
  for (let i = 0; i < sigmas.length - 1; i++) {
    const d = (x - D(x, sigmas[i])) / sigmas[i];
    x = x + d * (sigmas[i + 1] - sigmas[i]);
  }
  return x;
};

const kHeun: KSampler = (x, sigmas) => {
  for (let i = 0; i < sigmas.length - 1; i++) {
    const d = (x - D(x, sigmas[i])) / sigmas[i];
    const dt = sigmas[i + 1] - sigmas[i];
    if (sigmas[i + 1] === 0) {
      x = x + d * dt;
    } else {
      const x2 = x + d * dt;
      const d2 = (x2 - D(x2, sigmas[i + 1])) / sigmas[i + 1];
      x = x + ((d + d2) / 2) * dt;
    }
  }
  return x;
};

const kDpmpp2m: KSampler = (x, sigmas) => {
  const tFn = (s: number) => -Math.log(s);
  let old: number | undefined;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = D(x, sigmas[i]);
    const t = tFn(sigmas[i]);
    const tNext = tFn(sigmas[i + 1]);
    const h = tNext - t;
    const ratio = sigmas[i + 1] / sigmas[i];
    if (old === undefined || sigmas[i + 1] === 0) {
      x = ratio * x - Math.expm1(-h) * denoised;
    } else {
      const r = (t - tFn(sigmas[i - 1])) / h;
      x = ratio * x - Math.expm1(-h) * ((1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old);
    }
    old = denoised;
  }
  return x;
};

/** The same denoiser behind the Denoiser contract: x_t and t in, the requested prediction out. */
function denoiserFor(sampler: Sampler, n: number, prediction: Prediction): Denoiser {
  const ts = sampler.timesteps(schedule, n);
  const levels = runNoiseLevels(sampler, schedule, ts);
  const levelOf = new Map(ts.map((t, k) => [Math.fround(t), levels[k]]));
  expect(levelOf.size).toBe(ts.length);
  return {
    prediction,
    predict: (x, t) => {
      const a = levelOf.get(t.dataSync()[0])!;
      const sigma = Math.sqrt((1 - a) / a);
      const out = Array.from(x.dataSync(), (xt) => {
        const x0 = D(xt / Math.sqrt(a), sigma);
        const eps = (xt - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
        return prediction === 'epsilon' ? eps : prediction === 'v' ? Math.sqrt(a) * eps - Math.sqrt(1 - a) * x0 : x0;
      });
      return tf.tensor4d(out, x.shape);
    },
  };
}

const CASES: [string, Sampler, KSampler, number][] = [
  ['euler, linspace (fractional t)', euler(), kEuler, 10],
  ['euler, karras', euler({ useKarrasSigmas: true }), kEuler, 12],
  ['heun, leading', heun({ timestepSpacing: 'leading', stepsOffset: 1 }), kHeun, 8],
  ['dpm++ 2m, linspace', dpmSolverPlusPlus2M(), kDpmpp2m, 10],
  ['dpm++ 2m, karras, 20 steps', dpmSolverPlusPlus2M({ useKarrasSigmas: true }), kDpmpp2m, 20],
  ['ddim eta 0 = Euler in σ (Karras et al. 2022 §4)', ddim({ timestepSpacing: 'trailing' }), kEuler, 10],
];

describe('whole runs equal k-diffusion from the same noise', () => {
  for (const [name, sampler, kSampler, n] of CASES) {
    for (const prediction of ['epsilon', 'v'] as Prediction[]) {
      it(`${name}, ${prediction}`, async () => {
        const ts = sampler.timesteps(schedule, n);
        const sigmas = runNoiseLevels(sampler, schedule, ts).map((a) => Math.sqrt((1 - a) / a));
        const noise = tf.tensor4d(NOISE, [NOISE.length, 1, 1, 1]);
        const { samples } = await sample(denoiserFor(sampler, n, prediction), sampler, { schedule, numInferenceSteps: n, noise });
        const got = Array.from(samples.dataSync());
        tf.dispose([samples, noise]);
        const expected = NOISE.map((z) => kSampler(z * Math.sqrt(1 + sigmas[0] ** 2), sigmas));
        got.forEach((v, k) => expect(Math.abs(v - expected[k])).toBeLessThan(2e-4 * Math.max(1, Math.abs(expected[k]))));
      });
    }
  }
});
