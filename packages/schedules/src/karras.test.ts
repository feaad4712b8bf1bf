import { describe, expect, it } from 'vitest';
import { exponentialSigmas, karrasSigmas } from './index.js';

describe('karrasSigmas (Karras et al. 2022, eq. 5)', () => {
  it('endpoints are exactly sigmaMax and sigmaMin, descending', () => {
    const s = karrasSigmas(10, 0.0292, 14.6146);
    expect(s.length).toBe(10);
    expect(s[0]).toBe(14.6146);
    expect(s[9]).toBe(0.0292);
    for (let i = 1; i < 10; i++) expect(s[i]!).toBeLessThan(s[i - 1]!);
  });

  it('interior values follow (σmax^{1/ρ} + i/(n−1)(σmin^{1/ρ} − σmax^{1/ρ}))^ρ', () => {
    // EDM defaults σ ∈ [0.002, 80], ρ = 7, n = 3: the middle is ((80^{1/7} + 0.002^{1/7})/2)^7
    const s = karrasSigmas(3, 0.002, 80);
    const mid = ((80 ** (1 / 7) + 0.002 ** (1 / 7)) / 2) ** 7;
    expect(s[1]).toBeCloseTo(mid, 12);
    expect(s[1]).toBeCloseTo(2.5152, 3); // by hand: ((1.87016 + 0.41157)/2)^7 = 1.140865^7
    // ρ = 1 is a straight line
    expect(Array.from(karrasSigmas(5, 1, 5, 1))).toEqual([5, 4, 3, 2, 1]);
    expect(Array.from(karrasSigmas(1, 0.1, 10))).toEqual([10]);
  });

  it('errors name the parameter', () => {
    expect(() => karrasSigmas(0, 0.1, 10)).toThrow('n must be an integer >= 1; got 0');
    expect(() => karrasSigmas(5, 10, 0.1)).toThrow('sigmaMax must be >= sigmaMin (10); got 0.1');
    expect(() => karrasSigmas(5, -1, 1)).toThrow('sigmaMin must be >= 0; got -1');
    expect(() => karrasSigmas(5, 0.1, Infinity)).toThrow('sigmaMax must be a finite number; got Infinity');
    expect(() => karrasSigmas(5, 0.1, 1, 0)).toThrow('rho must be > 0; got 0');
  });
});

describe('exponentialSigmas (diffusers use_exponential_sigmas)', () => {
  it('is exp(linspace(log σmax, log σmin, n)) with exact endpoints', () => {
    const s = exponentialSigmas(5, 0.01, 100);
    // log-even from 100 to 0.01 in 4 steps: a factor 10 per step
    [100, 10, 1, 0.1, 0.01].forEach((v, i) => expect(s[i]).toBeCloseTo(v, 12));
    expect(s[0]).toBe(100);
    expect(s[4]).toBe(0.01);
    expect(Array.from(exponentialSigmas(1, 0.1, 10))).toEqual([10]);
  });

  it('errors name the parameter', () => {
    expect(() => exponentialSigmas(0, 0.1, 10)).toThrow('n must be an integer >= 1; got 0');
    expect(() => exponentialSigmas(3, 0, 10)).toThrow('sigmaMin must be > 0 (log σ); got 0');
    expect(() => exponentialSigmas(3, 10, 1)).toThrow('sigmaMax must be >= sigmaMin (10); got 1');
  });
});
