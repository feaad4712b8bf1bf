import type { Prediction } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { lagrangeIntegral, lms } from './lms.js';
import { add, maxRelDiff, model, runSampler, scale, SD_SCHEDULE, sub, X_T } from './testing/reference.js';

/** Simpson's rule on one panel: exact for polynomials up to degree 3 (LMS of order ≤ 4). */
function simpson(f: (x: number) => number, a: number, b: number): number {
  return ((b - a) / 6) * (f(a) + 4 * f((a + b) / 2) + f(b));
}

/**
 * diffusers' LMSDiscreteScheduler (scheduling_lms_discrete.py) written out with plain numbers:
 * set_timesteps with 'linspace' spacing (float32 timesteps, σ by np.interp, then 0), and step():
 * x̂0 from the σ-scaled sample, the derivative (x − x̂0)/σ, and get_lms_coefficient's integral of
 * the Lagrange basis over [σ_i, σ_{i+1}] (scipy's quad there, Simpson's rule here: both exact on
 * these cubics). diffusers' sample is x_σ = x_t √(σ² + 1); the model sees x_σ / √(σ² + 1).
 */
function diffusersLms(n: number, prediction: Prediction, order = 4) {
  const T = 1000;
  const ac = SD_SCHEDULE.alphasCumprod;
  const table = Array.from(ac, (a) => Math.sqrt((1 - a) / a));
  const timesteps = Array.from({ length: n }, (_, k) => Math.fround(k === n - 1 ? T - 1 : (k * (T - 1)) / (n - 1))).reverse();
  const interp = (t: number) => {
    const lo = Math.floor(t);
    return lo >= T - 1 ? table[T - 1]! : table[lo]! + (t - lo) * (table[lo + 1]! - table[lo]!);
  };
  const sigmas = [...timesteps.map(interp), 0];
  const derivatives: number[][] = [];
  let x = scale(X_T, Math.sqrt(sigmas[0]! ** 2 + 1));
  const samples: number[][] = [];
  for (let stepIndex = 0; stepIndex < n; stepIndex++) {
    const sigma = sigmas[stepIndex]!;
    const out = model(scale(x, 1 / Math.sqrt(sigma ** 2 + 1)), timesteps[stepIndex]!);
    let pred: number[];
    if (prediction === 'epsilon') pred = sub(x, scale(out, sigma));
    else pred = add(scale(out, -sigma / Math.sqrt(sigma ** 2 + 1)), scale(x, 1 / (sigma ** 2 + 1)));
    derivatives.push(scale(sub(x, pred), 1 / sigma));
    if (derivatives.length > order) derivatives.shift();
    const o = Math.min(stepIndex + 1, order);
    const coeff = (current: number) =>
      simpson(
        (tau) => {
          let prod = 1;
          for (let k = 0; k < o; k++) {
            if (k === current) continue;
            prod *= (tau - sigmas[stepIndex - k]!) / (sigmas[stepIndex - current]! - sigmas[stepIndex - k]!);
          }
          return prod;
        },
        sigmas[stepIndex]!,
        sigmas[stepIndex + 1]!,
      );
    const reversed = [...derivatives].reverse();
    for (let j = 0; j < o; j++) x = add(x, scale(reversed[j]!, coeff(j)));
    samples.push(scale(x, 1 / Math.sqrt(sigmas[stepIndex + 1]! ** 2 + 1))); // back to DDPM scaling
  }
  return { timesteps, samples };
}

describe('lms', () => {
  it('integrates the Lagrange basis exactly (Adams–Bashforth weights on an even grid)', () => {
    // Nodes 0, −1, −2 (newest first), step to 1: the third-order Adams–Bashforth weights 23/12, −16/12, 5/12.
    const w = [0, 1, 2].map((j) => lagrangeIntegral([0, -1, -2], j, 0, 1));
    w.forEach((v, j) => expect(v).toBeCloseTo([23 / 12, -16 / 12, 5 / 12][j]!, 14));
  });

  for (const prediction of ['epsilon', 'v'] as Prediction[]) {
    it(`steps as diffusers' LMSDiscreteScheduler (order 4, linspace), ${prediction}`, () => {
      const ref = diffusersLms(12, prediction);
      const got = runSampler(lms(), 12, prediction);
      expect(got.timesteps).toEqual(ref.timesteps);
      expect(got.leaked).toBe(0);
      got.samples.forEach((s, i) => expect(maxRelDiff(s, ref.samples[i]!)).toBeLessThan(1e-4));
    });
  }

  it('order 2 follows the same rule with two derivatives', () => {
    const ref = diffusersLms(8, 'epsilon', 2);
    const got = runSampler(lms({ order: 2 }), 8, 'epsilon');
    got.samples.forEach((s, i) => expect(maxRelDiff(s, ref.samples[i]!)).toBeLessThan(1e-4));
  });

  it('refuses an order outside 1…8', () => {
    expect(() => lms({ order: 0 })).toThrow('order must be an integer in [1, 8]; got 0');
  });
});
