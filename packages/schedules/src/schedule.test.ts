import { describe, expect, it } from 'vitest';
import { makeSchedule, rescaleZeroTerminalSnr } from './index.js';

const T = 1000;
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('makeSchedule', () => {
  it('linear: endpoints, even spacing and ᾱ as an independent product (Ho et al. 2020)', () => {
    const s = makeSchedule();
    expect(s.numTrainTimesteps).toBe(T);
    expect(s.betas.length).toBe(T);
    expect(s.betas[0]).toBeCloseTo(1e-4, 15);
    expect(s.betas[999]).toBeCloseTo(0.02, 15);
    expect(s.betas[500]).toBeCloseTo(1e-4 + (500 * (0.02 - 1e-4)) / 999, 15);
    let prod = 1;
    for (let t = 0; t < T; t++) prod *= 1 - (1e-4 + (t * (0.02 - 1e-4)) / 999);
    expect(rel(s.alphasCumprod[999]!, prod)).toBeLessThan(1e-12);
    // Known value of the DDPM schedule's final ᾱ.
    expect(s.alphasCumprod[999]).toBeGreaterThan(4.03e-5);
    expect(s.alphasCumprod[999]).toBeLessThan(4.04e-5);
    expect(s.alphas[10]).toBeCloseTo(1 - s.betas[10]!, 15);
  });

  it('scaled_linear: linspace of sqrt, then squared', () => {
    const s = makeSchedule({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 });
    expect(s.betas[0]).toBeCloseTo(0.00085, 15);
    expect(s.betas[999]).toBeCloseTo(0.012, 15);
    const mid = (Math.sqrt(0.00085) + (Math.sqrt(0.012) - Math.sqrt(0.00085)) * (400 / 999)) ** 2;
    expect(rel(s.betas[400]!, mid)).toBeLessThan(1e-13);
    // Stable Diffusion's schedule ends at ᾱ ≈ 0.00466 (terminal SNR ≈ 0.0047, far from 0).
    expect(s.alphasCumprod[999]).toBeGreaterThan(0.0046);
    expect(s.alphasCumprod[999]).toBeLessThan(0.0047);
  });

  it('squaredcos_cap_v2: ᾱ_t = f(t)/f(0) with f the cosine of Nichol & Dhariwal 2021 until the cap bites', () => {
    const s = makeSchedule({ betaSchedule: 'squaredcos_cap_v2' });
    const f = (t: number): number => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    // diffusers' ᾱ[i] covers steps 0..i, i.e. ᾱ(t = i + 1) in the paper's continuous indexing.
    for (const i of [0, 1, 10, 100, 500, 900, 990]) {
      expect(rel(s.alphasCumprod[i]!, f(i + 1) / f(0))).toBeLessThan(1e-10);
    }
    // f(1) = cos²(π/2) = 0, so the last beta is capped at 0.999.
    expect(s.betas[999]).toBe(0.999);
    expect(s.betas[0]).toBeCloseTo(1 - f(1) / f(0), 15);
    for (const b of s.betas) expect(b).toBeLessThanOrEqual(0.999);
  });

  it('sigmoid: sigmoid(linspace(-6, 6)) · (end − start) + start', () => {
    const s = makeSchedule({ betaSchedule: 'sigmoid', betaStart: 0.0001, betaEnd: 0.02 });
    const sig = (x: number): number => 1 / (1 + Math.exp(-x));
    expect(s.betas[0]).toBeCloseTo(sig(-6) * 0.0199 + 0.0001, 15);
    expect(s.betas[999]).toBeCloseTo(sig(6) * 0.0199 + 0.0001, 15);
    expect(s.betas[0]).toBeCloseTo(0.000149205, 9); // sig(-6) = 0.00247262
    const x = -6 + (12 * 321) / 999;
    expect(s.betas[321]).toBeCloseTo(sig(x) * 0.0199 + 0.0001, 15);
  });

  it('ᾱ is strictly decreasing for every named schedule', () => {
    for (const betaSchedule of ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid'] as const) {
      const a = makeSchedule({ betaSchedule }).alphasCumprod;
      for (let i = 1; i < a.length; i++) expect(a[i]!).toBeLessThan(a[i - 1]!);
    }
  });

  it('trainedBetas are used as given', () => {
    const s = makeSchedule({ trainedBetas: [0.1, 0.2, 0.5] });
    expect(s.numTrainTimesteps).toBe(3);
    expect(Array.from(s.alphasCumprod)).toEqual([0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.5]);
  });
});

describe('zero terminal SNR (Lin et al. 2023, Algorithm 1)', () => {
  for (const betaSchedule of ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const) {
    it(`${betaSchedule}: ᾱ_T = 0, ᾱ_0 kept, √ᾱ shifted and scaled`, () => {
      const base = makeSchedule({ betaSchedule, betaStart: 0.00085, betaEnd: 0.012 });
      const z = makeSchedule({ betaSchedule, betaStart: 0.00085, betaEnd: 0.012, rescaleBetasZeroSnr: true });
      expect(z.alphasCumprod[999]).toBe(0);
      expect(z.betas[999]).toBe(1);
      expect(rel(z.alphasCumprod[0]!, base.alphasCumprod[0]!)).toBeLessThan(1e-15);
      // Independent: √ᾱ'_t = (√ᾱ_t − √ᾱ_T) · √ᾱ_0 / (√ᾱ_0 − √ᾱ_T)
      const s0 = Math.sqrt(base.alphasCumprod[0]!);
      const sT = Math.sqrt(base.alphasCumprod[999]!);
      for (const t of [1, 50, 400, 800, 998]) {
        const want = ((Math.sqrt(base.alphasCumprod[t]!) - sT) * s0) / (s0 - sT);
        expect(rel(Math.sqrt(z.alphasCumprod[t]!), want)).toBeLessThan(1e-10);
      }
      for (let i = 1; i < 1000; i++) expect(z.alphasCumprod[i]!).toBeLessThan(z.alphasCumprod[i - 1]!);
    });
  }

  it('rescaleZeroTerminalSnr works on raw betas', () => {
    const b = rescaleZeroTerminalSnr([0.1, 0.2, 0.3]);
    expect(b[2]).toBe(1);
    expect(b[0]).toBeCloseTo(0.1, 15);
    // √ᾱ = [√.9, √.72, √.504] → shifted/scaled: middle = (√.72 − √.504)·√.9/(√.9 − √.504)
    const mid = ((Math.sqrt(0.72) - Math.sqrt(0.504)) * Math.sqrt(0.9)) / (Math.sqrt(0.9) - Math.sqrt(0.504));
    expect(1 - b[1]!).toBeCloseTo((mid * mid) / 0.9, 14);
  });
});

describe('makeSchedule errors', () => {
  it('names the parameter and the accepted values', () => {
    expect(() => makeSchedule({ betaSchedule: 'cosine' as never })).toThrow(
      "betaSchedule must be one of 'linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid'; got 'cosine'",
    );
    expect(() => makeSchedule({ numTrainTimesteps: 10.5 })).toThrow(/numTrainTimesteps must be an integer/);
    expect(() => makeSchedule({ betaStart: NaN })).toThrow(/betaStart must be a finite number/);
    expect(() => makeSchedule({ betaEnd: Infinity })).toThrow(/betaEnd must be a finite number/);
    expect(() => makeSchedule({ betaStart: 0 })).toThrow(/betas.*\[0\] must be in \(0, 1\)/);
    expect(() => makeSchedule({ betaEnd: 1.5 })).toThrow(/must be in \(0, 1\)/);
    expect(() => makeSchedule({ trainedBetas: [0.1, 0.2], numTrainTimesteps: 3 })).toThrow(
      /trainedBetas must have numTrainTimesteps \(3\) entries; got 2/,
    );
    expect(() => makeSchedule({ trainedBetas: [0.1, NaN] })).toThrow(/trainedBetas\[1\] must be a finite number/);
    expect(() => makeSchedule({ trainedBetas: [1, 0.5] })).toThrow(/trainedBetas\[0\]/);
    // β = 1 at the very end is the zero-SNR case and is accepted.
    expect(makeSchedule({ trainedBetas: [0.1, 1] }).alphasCumprod[1]).toBe(0);
  });
});
