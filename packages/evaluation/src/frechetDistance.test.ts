import { describe, expect, it } from 'vitest';
import { frechetDistance } from './frechetDistance.js';
import { normalData } from './testing/fixtures.js';

describe('frechetDistance', () => {
  it('is 0 between a set and itself', () => {
    const f = normalData(300, 16, 1);
    // Correlate the features so the covariance is not diagonal.
    for (let i = 0; i < 300; i++) for (let j = 1; j < 16; j++) f[i * 16 + j]! += 0.7 * f[i * 16 + j - 1]!;
    expect(frechetDistance({ data: f, shape: [300, 16] }, { data: f, shape: [300, 16] })).toBeLessThan(1e-8);
  });

  it('approaches ‖μ1 − μ2‖² + Σ(σ1 − σ2)² for Gaussians with diagonal covariances', () => {
    const d = 4;
    const n = 40000;
    const mu1 = [0, 1, -1, 0.5];
    const mu2 = [0.5, 1, 0, -0.5];
    const sd1 = [1, 2, 0.5, 1];
    const sd2 = [2, 1, 0.5, 0.25];
    const make = (mu: number[], sd: number[], seed: number) => {
      const z = normalData(n, d, seed);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j] = mu[j]! + sd[j]! * z[i * d + j]!;
      return { data: z, shape: [n, d] };
    };
    let want = 0;
    for (let j = 0; j < d; j++) want += (mu1[j]! - mu2[j]!) ** 2 + sd1[j]! ** 2 + sd2[j]! ** 2 - 2 * sd1[j]! * sd2[j]!;
    const got = frechetDistance(make(mu1, sd1, 2), make(mu2, sd2, 3));
    expect(want).toBeCloseTo(4.8125, 6);
    expect(Math.abs(got - want)).toBeLessThan(0.06);
  });

  it('names mismatched feature sizes', () => {
    expect(() => frechetDistance({ data: normalData(5, 3, 1), shape: [5, 3] }, { data: normalData(5, 2, 1), shape: [5, 2] })).toThrow(/same feature size/);
  });
});
