import { describe, expect, it } from 'vitest';
import {
  alphaCumprodAt,
  alphaCumprodToSigma,
  logSnr,
  makeSchedule,
  sigmaAt,
  sigmaToAlphaCumprod,
  sigmaToTimestep,
  sigmas,
  snr,
} from './index.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

// Independent ᾱ of the DDPM linear schedule, from its closed form.
function linearAbar(t: number): number {
  let p = 1;
  for (let s = 0; s <= t; s++) p *= 1 - (1e-4 + (s * (0.02 - 1e-4)) / 999);
  return p;
}

describe('sigmas, snr, logSnr', () => {
  const s = makeSchedule();

  it('match σ = √((1 − ᾱ)/ᾱ), SNR = ᾱ/(1 − ᾱ), log SNR = −2 log σ', () => {
    const sig = sigmas(s);
    const r = snr(s);
    const l = logSnr(s);
    for (const t of [0, 1, 250, 999]) {
      const a = linearAbar(t);
      expect(rel(sig[t]!, Math.sqrt((1 - a) / a))).toBeLessThan(1e-10);
      expect(rel(r[t]!, a / (1 - a))).toBeLessThan(1e-10);
      expect(Math.abs(l[t]! + 2 * Math.log(sig[t]!))).toBeLessThan(1e-10);
    }
    // β_0 = 1e-4: σ_0 = √(1e-4/0.9999) ≈ 0.0100005
    expect(sig[0]).toBeCloseTo(0.0100005, 7);
    // ᾱ_999 ≈ 4.0358e-5 → σ ≈ 157.4
    expect(sig[999]).toBeGreaterThan(157);
    expect(sig[999]).toBeLessThan(158);
    for (let i = 1; i < 1000; i++) expect(sig[i]!).toBeGreaterThan(sig[i - 1]!);
  });

  it('zero terminal SNR: σ_T = ∞, SNR_T = 0, log SNR_T = −∞', () => {
    const z = makeSchedule({ rescaleBetasZeroSnr: true });
    expect(sigmas(z)[999]).toBe(Infinity);
    expect(snr(z)[999]).toBe(0);
    expect(logSnr(z)[999]).toBe(-Infinity);
  });

  it('ᾱ ↔ σ conversions', () => {
    expect(alphaCumprodToSigma(0.5)).toBe(1);
    expect(alphaCumprodToSigma(0.2)).toBeCloseTo(2, 14);
    expect(alphaCumprodToSigma(1)).toBe(0);
    expect(alphaCumprodToSigma(0)).toBe(Infinity);
    expect(sigmaToAlphaCumprod(2)).toBeCloseTo(0.2, 15);
    expect(sigmaToAlphaCumprod(0)).toBe(1);
    expect(sigmaToAlphaCumprod(Infinity)).toBe(0);
    expect(() => alphaCumprodToSigma(1.5)).toThrow('alphaCumprod must be in [0, 1]; got 1.5');
    expect(() => sigmaToAlphaCumprod(-1)).toThrow(/sigma must be >= 0/);
    expect(() => sigmaToAlphaCumprod(NaN)).toThrow(/sigma must be >= 0/);
  });
});

describe('interpolation at fractional t', () => {
  const s = makeSchedule();

  it('integer t gives the table values', () => {
    for (const t of [0, 17, 500, 999]) {
      expect(alphaCumprodAt(s, t)).toBe(s.alphasCumprod[t]);
      expect(rel(sigmaAt(s, t), Math.sqrt((1 - linearAbar(t)) / linearAbar(t)))).toBeLessThan(1e-10);
    }
  });

  it('log_snr interpolates log σ linearly; linear interpolates σ or ᾱ linearly', () => {
    const a0 = linearAbar(100);
    const a1 = linearAbar(101);
    const s0 = Math.sqrt((1 - a0) / a0);
    const s1 = Math.sqrt((1 - a1) / a1);
    const w = 0.25;
    expect(rel(sigmaAt(s, 100.25), Math.exp(0.75 * Math.log(s0) + w * Math.log(s1)))).toBeLessThan(1e-10);
    expect(rel(sigmaAt(s, 100.25, { interpolation: 'linear' }), 0.75 * s0 + w * s1)).toBeLessThan(1e-10);
    expect(rel(alphaCumprodAt(s, 100.25, { interpolation: 'linear' }), 0.75 * a0 + w * a1)).toBeLessThan(1e-10);
    const sig = Math.exp(0.75 * Math.log(s0) + w * Math.log(s1));
    expect(rel(alphaCumprodAt(s, 100.25), 1 / (1 + sig * sig))).toBeLessThan(1e-10);
  });

  it('rejects t outside [0, T − 1] and unknown interpolation', () => {
    expect(() => alphaCumprodAt(s, -0.1)).toThrow('t must be in [0, 999] (numTrainTimesteps − 1); got -0.1');
    expect(() => sigmaAt(s, 999.5)).toThrow(/t must be in \[0, 999\]/);
    expect(() => sigmaAt(s, NaN)).toThrow(/t must be a finite number/);
    expect(() => sigmaAt(s, 3, { interpolation: 'cubic' as never })).toThrow(
      "interpolation must be one of 'log_snr', 'linear'; got 'cubic'",
    );
  });
});

describe('sigmaToTimestep (diffusers _sigma_to_t)', () => {
  const s = makeSchedule({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 });
  const sig = sigmas(s);

  it('training sigmas map to their integer timesteps', () => {
    for (const t of [0, 1, 2, 400, 998, 999]) expect(sigmaToTimestep(s, sig[t]!)).toBeCloseTo(t, 9);
  });

  it('between neighbours: linear in log σ, from the two neighbouring training sigmas', () => {
    const target = Math.sqrt(sig[300]! * sig[301]!); // geometric mean → t = 300.5
    expect(sigmaToTimestep(s, target)).toBeCloseTo(300.5, 9);
    const l0 = Math.log(sig[42]!);
    const l1 = Math.log(sig[43]!);
    const x = Math.exp(l0 + 0.3 * (l1 - l0));
    expect(sigmaToTimestep(s, x)).toBeCloseTo(42.3, 9);
  });

  it('clamps outside the training range, as diffusers', () => {
    expect(sigmaToTimestep(s, 0)).toBe(0);
    expect(sigmaToTimestep(s, sig[0]! / 2)).toBe(0);
    expect(sigmaToTimestep(s, 1e6)).toBe(999);
    expect(() => sigmaToTimestep(s, -1)).toThrow(/sigma must be >= 0/);
  });

  it('round trip t → σ → t, integer and fractional', () => {
    for (const t of [0, 0.5, 3.7, 123.25, 500, 777.9, 998.5, 999]) {
      expect(sigmaToTimestep(s, sigmaAt(s, t))).toBeCloseTo(t, 8);
    }
  });

  it('zero terminal SNR: finite round trip through the last interval, ∞ maps to T − 1', () => {
    const z = makeSchedule({ rescaleBetasZeroSnr: true });
    expect(sigmaToTimestep(z, Infinity)).toBe(999);
    expect(sigmaAt(z, 999)).toBe(Infinity);
    for (const t of [10.5, 997.2, 998, 998.25, 998.9]) {
      expect(sigmaToTimestep(z, sigmaAt(z, t))).toBeCloseTo(t, 8);
    }
    // Linear in ᾱ over the last interval: ᾱ(998.25) = 0.75 ᾱ_998
    expect(alphaCumprodAt(z, 998.25)).toBeCloseTo(0.75 * z.alphasCumprod[998]!, 15);
  });
});
