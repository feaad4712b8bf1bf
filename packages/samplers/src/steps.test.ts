import * as tf from '@tensorflow/tfjs';
import { createRng, type NoiseSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { ddim } from './ddim.js';
import { ddpm } from './ddpm.js';
import { dpmSolverPlusPlus2M } from './dpm-solver.js';
import { euler } from './euler.js';
import { eulerAncestral } from './euler-ancestral.js';
import { heun } from './heun.js';
import { SamplerState } from './state.js';
import type { Sampler, StepArgs } from './types.js';

// One step of each sampler against its paper's update, written out here with plain numbers.

const X = [0.3, -1.2, 0.8, 2.0];
const OUT = [0.5, -0.1, 1.1, -0.7];
const SHAPE: [number, number, number, number] = [1, 2, 2, 1];
const PREDICTIONS: Prediction[] = ['epsilon', 'v', 'sample'];
const DUMMY = { numTrainTimesteps: 1000 } as NoiseSchedule;

const t4 = (v: number[]) => tf.tensor4d(v, SHAPE);

/** x0 and ε implied by a model output, from the definitions x = √a x0 + √(1−a) ε and v = √a ε − √(1−a) x0. */
function x0AndEps(pred: Prediction, x: number, out: number, a: number): { x0: number; eps: number } {
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  if (pred === 'epsilon') return { x0: (x - sb * out) / sa, eps: out };
  if (pred === 'v') return { x0: sa * x - sb * out, eps: sb * x + sa * out };
  return { x0: out, eps: (x - sa * out) / sb };
}

/** The noise a step draws: tf.randomNormal with the first seed of the generator. */
function noiseOf(seed: number): number[] {
  return Array.from(tf.tidy(() => tf.randomNormal(SHAPE, 0, 1, 'float32', createRng(seed).nextSeed())).dataSync());
}

function runStep(
  sampler: Sampler,
  pred: Prediction,
  a: number,
  aPrev: number,
  extra: Partial<StepArgs> = {},
  x = X,
  out = OUT,
): { prev: number[]; x0: number[] } {
  const state = extra.state ?? new SamplerState();
  const rng = createRng(7);
  const r = tf.tidy(() => {
    const res = sampler.step({
      i: 0,
      sample: t4(x),
      modelOutput: t4(out),
      prediction: pred,
      t: 500,
      prevT: 400,
      alphaCumprod: a,
      prevAlphaCumprod: aPrev,
      timesteps: [500, 400],
      alphasCumprod: [a, aPrev, 1],
      schedule: DUMMY,
      rng,
      noise: () => tf.randomNormal(SHAPE, 0, 1, 'float32', rng.nextSeed()),
      denoise: () => {
        throw new Error('unexpected model call');
      },
      state,
      ...extra,
    });
    return [tf.clone(res.prevSample), tf.clone(res.predOriginalSample)];
  });
  const [prev, x0] = r.map((t) => Array.from(t.dataSync()));
  r.forEach((t) => t.dispose());
  if (!extra.state) state.dispose();
  return { prev, x0 };
}

function expectClose(actual: number[], expected: number[], tol = 2e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, k) => expect(Math.abs(v - expected[k])).toBeLessThan(tol * Math.max(1, Math.abs(expected[k]))));
}

const A = 0.42;
const A_PREV = 0.71;

describe('DDPM step (Ho et al. 2020 eq. 6-7)', () => {
  for (const pred of PREDICTIONS) {
    for (const varianceType of ['fixed_small', 'fixed_large'] as const) {
      it(`${pred}, ${varianceType}`, () => {
        const { prev, x0 } = runStep(ddpm({ varianceType }), pred, A, A_PREV);
        const alpha = A / A_PREV;
        const beta = 1 - alpha;
        const variance = varianceType === 'fixed_small' ? ((1 - A_PREV) / (1 - A)) * beta : beta;
        const z = noiseOf(7);
        const expX0 = X.map((x, k) => x0AndEps(pred, x, OUT[k], A).x0);
        const mean = X.map((x, k) => (Math.sqrt(A_PREV) * beta * expX0[k]) / (1 - A) + (Math.sqrt(alpha) * (1 - A_PREV) * x) / (1 - A));
        expectClose(x0, expX0);
        expectClose(prev, mean.map((m, k) => m + Math.sqrt(variance) * z[k]));
      });
    }
  }

  it('adds no noise at t = 0 and clips x0 with clipSample', () => {
    const { prev, x0 } = runStep(ddpm({ clipSample: true }), 'sample', A, 1, { t: 0, prevT: -1 }, X, [0.5, -3, 1.5, 0.2]);
    expectClose(x0, [0.5, -1, 1, 0.2]);
    // ᾱ_prev = 1: the posterior mean is x0 itself.
    expectClose(prev, [0.5, -1, 1, 0.2]);
  });
});

describe('DDIM step (Song et al. 2021 eq. 12)', () => {
  for (const pred of PREDICTIONS) {
    for (const eta of [0, 0.7, 1]) {
      it(`${pred}, eta = ${eta}`, () => {
        const { prev } = runStep(ddim({ eta }), pred, A, A_PREV);
        const sigma = eta * Math.sqrt((1 - A_PREV) / (1 - A)) * Math.sqrt(1 - A / A_PREV);
        const z = eta > 0 ? noiseOf(7) : X.map(() => 0);
        const expected = X.map((x, k) => {
          const { x0, eps } = x0AndEps(pred, x, OUT[k], A);
          return Math.sqrt(A_PREV) * x0 + Math.sqrt(1 - A_PREV - sigma ** 2) * eps + sigma * z[k];
        });
        expectClose(prev, expected);
      });
    }
  }

  it('eta = 1 has the DDPM posterior variance', () => {
    const a = runStep(ddim({ eta: 1 }), 'epsilon', A, A_PREV).prev;
    const b = runStep(ddpm({ varianceType: 'fixed_small' }), 'epsilon', A, A_PREV).prev;
    expectClose(a, b);
  });

  it('setAlphaToOne: false ends at ᾱ_0', () => {
    const sched = { numTrainTimesteps: 3, alphasCumprod: Float64Array.from([0.99, 0.6, 0.3]) } as NoiseSchedule;
    expect(ddim({ setAlphaToOne: false }).alphasCumprod!(sched, [2, 1])).toEqual([0.3, 0.6, 0.99]);
    expect(ddim().alphasCumprod!(sched, [2, 1])).toEqual([0.3, 0.6, 1]);
  });
});

/** x0 = D(x_σ; σ) in Karras scaling, per diffusers' Euler schedulers. */
function karrasDenoised(pred: Prediction, xs: number, out: number, sigma: number): number {
  if (pred === 'epsilon') return xs - sigma * out;
  if (pred === 'v') return xs / (sigma ** 2 + 1) - (sigma * out) / Math.sqrt(sigma ** 2 + 1);
  return out;
}

const sigmaOf = (a: number) => Math.sqrt((1 - a) / a);

describe('Euler step (Karras et al. 2022 Algorithm 1 without the correction)', () => {
  for (const pred of PREDICTIONS) {
    for (const aPrev of [A_PREV, 1]) {
      it(`${pred}, ᾱ' = ${aPrev}`, () => {
        const { prev } = runStep(euler(), pred, A, aPrev);
        const s = sigmaOf(A);
        const s2 = sigmaOf(aPrev);
        const expected = X.map((x, k) => {
          const xs = x * Math.sqrt(1 + s * s);
          const d = (xs - karrasDenoised(pred, xs, OUT[k], s)) / s;
          return (xs + (s2 - s) * d) / Math.sqrt(1 + s2 * s2);
        });
        expectClose(prev, expected);
      });
    }
  }
});

describe('Euler ancestral step (k-diffusion sample_euler_ancestral)', () => {
  for (const pred of PREDICTIONS) {
    it(pred, () => {
      const { prev } = runStep(eulerAncestral(), pred, A, A_PREV);
      const s = sigmaOf(A);
      const s2 = sigmaOf(A_PREV);
      const up = Math.sqrt((s2 ** 2 * (s ** 2 - s2 ** 2)) / s ** 2);
      const down = Math.sqrt(s2 ** 2 - up ** 2);
      const z = noiseOf(7);
      const expected = X.map((x, k) => {
        const xs = x * Math.sqrt(1 + s * s);
        const d = (xs - karrasDenoised(pred, xs, OUT[k], s)) / s;
        return (xs + (down - s) * d + up * z[k]) / Math.sqrt(1 + s2 * s2);
      });
      expectClose(prev, expected);
    });
  }
});

describe('Heun step (Karras et al. 2022 Algorithm 1)', () => {
  // A second model evaluation that is an affine map of its input, written out below.
  const model2 = (xt: number) => 0.5 * xt + 0.1;
  for (const pred of PREDICTIONS) {
    it(pred, () => {
      const calls: number[] = [];
      const denoise = (x: tf.Tensor4D, t: number) => {
        calls.push(t);
        return tf.add(tf.mul(x, 0.5), 0.1) as tf.Tensor4D;
      };
      const { prev } = runStep(heun(), pred, A, A_PREV, { denoise });
      expect(calls).toEqual([400]);
      const s = sigmaOf(A);
      const s2 = sigmaOf(A_PREV);
      const expected = X.map((x, k) => {
        const xs = x * Math.sqrt(1 + s * s);
        const d = (xs - karrasDenoised(pred, xs, OUT[k], s)) / s;
        const xe = xs + (s2 - s) * d;
        const out2 = model2(xe / Math.sqrt(1 + s2 * s2));
        const d2 = (xe - karrasDenoised(pred, xe, out2, s2)) / s2;
        return (xs + ((s2 - s) * (d + d2)) / 2) / Math.sqrt(1 + s2 * s2);
      });
      expectClose(prev, expected);
    });
  }

  it('the step to σ = 0 is a plain Euler step with one model call', () => {
    const { prev } = runStep(heun(), 'epsilon', A, 1, { prevT: -1 });
    const s = sigmaOf(A);
    expectClose(prev, X.map((x, k) => x * Math.sqrt(1 + s * s) - s * OUT[k]));
  });
});

describe('DPM-Solver++(2M) steps (Lu et al. 2022 Algorithm 2)', () => {
  const levels = [0.2, 0.45, 0.8, 1];
  const OUT2 = [-0.3, 0.9, 0.2, 0.6];
  const lam = (a: number) => Math.log(Math.sqrt(a) / Math.sqrt(1 - a));
  for (const pred of PREDICTIONS) {
    it(`${pred}: first step first order, second step 2M`, () => {
      const sampler = dpmSolverPlusPlus2M();
      const state = new SamplerState();
      const common = { timesteps: Array.from({ length: 20 }, (_, k) => 900 - k * 10), alphasCumprod: levels, state };
      const s1 = runStep(sampler, pred, levels[0], levels[1], { ...common, i: 0 });
      const s2 = runStep(sampler, pred, levels[1], levels[2], { ...common, i: 1 }, s1.prev, OUT2);
      state.dispose();

      const [a0, a1, a2] = levels;
      const h1 = lam(a1) - lam(a0);
      const x0a = X.map((x, k) => x0AndEps(pred, x, OUT[k], a0).x0);
      const x1 = X.map((x, k) => (Math.sqrt(1 - a1) / Math.sqrt(1 - a0)) * x - Math.sqrt(a1) * (Math.exp(-h1) - 1) * x0a[k]);
      expectClose(s1.prev, x1);

      const h2 = lam(a2) - lam(a1);
      const r = h1 / h2;
      const x0b = x1.map((x, k) => x0AndEps(pred, x, OUT2[k], a1).x0);
      const expected = x1.map((x, k) => {
        const D = (1 + 1 / (2 * r)) * x0b[k] - (1 / (2 * r)) * x0a[k];
        return (Math.sqrt(1 - a2) / Math.sqrt(1 - a1)) * x - Math.sqrt(a2) * (Math.exp(-h2) - 1) * D;
      });
      expectClose(s2.prev, expected, 5e-5);
    });
  }

  it('the last step to σ = 0 returns x0 (first order)', () => {
    const sampler = dpmSolverPlusPlus2M();
    const state = new SamplerState();
    const common = { timesteps: [900, 500], alphasCumprod: [0.2, 0.6, 1], state };
    runStep(sampler, 'epsilon', 0.2, 0.6, { ...common, i: 0 });
    const { prev, x0 } = runStep(sampler, 'epsilon', 0.6, 1, { ...common, i: 1 });
    state.dispose();
    expectClose(prev, x0);
  });
});
