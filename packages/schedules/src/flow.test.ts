import { describe, expect, it } from 'vitest';
import { betaCdf, betaPpf } from './beta-ppf.js';
import { calculateShift, flowSigmas, flowSigmaToAlphaCumprod, timeShift } from './flow.js';

// diffusers' FlowMatchEulerDiscreteScheduler.set_timesteps written out by hand for each config.
const close = (got: readonly number[], want: readonly number[], digits = 10) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g, `index ${i}`).toBeCloseTo(want[i]!, digits));
};

describe('flowSigmas', () => {
  it('SD3: shift 3, 4 steps (σ_min of the scheduler already shifted, shifted again)', () => {
    const sMin = Math.fround(0.003 / 1.002);
    const lin = [1, 1 - (1 - sMin) / 3, 1 - (2 * (1 - sMin)) / 3, sMin];
    const want = lin.map((s) => (3 * s) / (1 + 2 * s));
    const { sigmas, timesteps } = flowSigmas(4, { shift: 3 });
    close(sigmas, [...want, 0]);
    close(timesteps, want.map((s) => s * 1000), 7);
    expect(sigmas[0]).toBe(1);
    expect(flowSigmas(1, { shift: 3 }).sigmas).toEqual([1, 0]);
  });

  it('shift 1 is the plain linspace from 1 to 1/T', () => {
    close(flowSigmas(3, { numTrainTimesteps: 10 }).sigmas, [1, (1 + Math.fround(0.1)) / 2, Math.fround(0.1), 0]);
  });

  it("Flux: dynamic shifting by mu ('exponential' and 'linear'), shift ignored", () => {
    const lin = [1, (1 + 0.001) / 2, Math.fround(0.001)];
    const e = Math.exp(0.8);
    close(flowSigmas(3, { useDynamicShifting: true, mu: 0.8, shift: 5 }).sigmas, [...lin.map((s) => e / (e + 1 / s - 1)), 0]);
    close(flowSigmas(3, { useDynamicShifting: true, mu: 0.8, timeShiftType: 'linear' }).sigmas, [...lin.map((s) => 0.8 / (0.8 + 1 / s - 1)), 0]);
    expect(timeShift(0, 0.25)).toBeCloseTo(0.25, 15);
  });

  it('shift_terminal stretches 1 − σ so the last level is the terminal', () => {
    const base = flowSigmas(5, { shift: 2 }).sigmas.slice(0, 5);
    const scale = (1 - base[4]!) / (1 - 0.1);
    const got = flowSigmas(5, { shift: 2, shiftTerminal: 0.1 }).sigmas;
    close(got, [...base.map((s) => 1 - (1 - s) / scale), 0]);
    expect(got[4]).toBeCloseTo(0.1, 12);
  });

  it('invert_sigmas: 1 − σ, then 1 appended; timesteps follow', () => {
    const base = flowSigmas(4, { shift: 3 }).sigmas.slice(0, 4);
    const { sigmas, timesteps } = flowSigmas(4, { shift: 3, invertSigmas: true });
    close(sigmas, [...base.map((s) => 1 - s), 1]);
    close(timesteps, base.map((s) => (1 - s) * 1000), 8);
  });

  it('Karras, exponential and beta sigmas between the shifted extremes', () => {
    const base = flowSigmas(6, { shift: 3 }).sigmas.slice(0, 6);
    const [hi, lo] = [base[0]!, base[5]!];
    const karras = [0, 1, 2, 3, 4, 5].map((i) => (hi ** (1 / 7) + (i / 5) * (lo ** (1 / 7) - hi ** (1 / 7))) ** 7);
    close(flowSigmas(6, { shift: 3, useKarrasSigmas: true }).sigmas, [...karras, 0]);
    const exp = [0, 1, 2, 3, 4, 5].map((i) => Math.exp(Math.log(hi) + (i / 5) * (Math.log(lo) - Math.log(hi))));
    close(flowSigmas(6, { shift: 3, useExponentialSigmas: true }).sigmas, [...exp, 0]);
    const beta = flowSigmas(5, { shift: 3, useBetaSigmas: true }).sigmas;
    const b5 = flowSigmas(5, { shift: 3 }).sigmas;
    // Beta(0.6, 0.6) is symmetric: its median is 1/2, so the middle level is halfway.
    close([beta[0]!, beta[2]!, beta[4]!, beta[5]!], [b5[0]!, (b5[0]! + b5[4]!) / 2, b5[4]!, 0]);
    expect(beta[1]! - beta[2]!).toBeCloseTo(beta[2]! - beta[3]!, 10);
  });

  it('refuses what diffusers refuses, naming the option', () => {
    expect(() => flowSigmas(4, { useDynamicShifting: true })).toThrow('mu is required when useDynamicShifting is true');
    expect(() => flowSigmas(4, { useKarrasSigmas: true, useBetaSigmas: true })).toThrow('only one of useKarrasSigmas, useExponentialSigmas, useBetaSigmas');
    expect(() => flowSigmas(4, { shift: 0 })).toThrow('shift must be > 0; got 0');
    expect(() => flowSigmas(4, { timeShiftType: 'log' as never })).toThrow("timeShiftType must be one of 'exponential', 'linear'");
    expect(() => flowSigmas(4, { shift_terminal: 0.1 } as never)).toThrow("did you mean 'shiftTerminal'?");
    expect(() => flowSigmas(0)).toThrow('numInferenceSteps must be an integer >= 1; got 0');
  });
});

describe('calculateShift and the DDPM view of a flow level', () => {
  it("is the pipelines' line through (256, 0.5) and (4096, 1.15)", () => {
    expect(calculateShift(256)).toBeCloseTo(0.5, 12);
    expect(calculateShift(4096)).toBeCloseTo(1.15, 12);
    expect(calculateShift(1024)).toBeCloseTo(0.5 + (0.65 * 768) / 3840, 12);
    expect(calculateShift(10, { baseImageSeqLen: 0, maxImageSeqLen: 100, baseShift: 1, maxShift: 2 })).toBeCloseTo(1.1, 12);
    expect(() => calculateShift(10, { base_shift: 1 } as never)).toThrow("did you mean 'baseShift'?");
  });

  it('ᾱ(σ) makes √ᾱ, √(1−ᾱ) proportional to 1 − σ, σ', () => {
    for (const s of [0, 0.1, 0.5, 0.9, 1]) {
      const a = flowSigmaToAlphaCumprod(s);
      expect(Math.sqrt(a) * s).toBeCloseTo(Math.sqrt(1 - a) * (1 - s), 14);
    }
  });
});

describe('betaPpf', () => {
  it('Beta(1/2, 1/2) is the arcsine law: ppf(p) = sin²(πp/2)', () => {
    for (const p of [0.01, 0.2, 0.5, 0.77, 0.99]) expect(betaPpf(p, 0.5, 0.5)).toBeCloseTo(Math.sin((Math.PI * p) / 2) ** 2, 12);
  });
  it('inverts the distribution function, which matches the density integrated numerically', () => {
    const a = 0.6;
    const b = 0.6;
    // ∫_0^x t^{a−1}(1−t)^{b−1} dt / B(a, b) with t = u^{1/a} (removes the endpoint singularity), midpoint rule.
    const integral = (x: number) => {
      const m = 200000;
      let s = 0;
      const top = x ** a;
      for (let i = 0; i < m; i++) {
        const u = ((i + 0.5) / m) * top;
        s += (1 - u ** (1 / a)) ** (b - 1) / a;
      }
      return (s * top) / m;
    };
    const total = integral(0.5) * 2;
    expect(betaCdf(0.3, a, b)).toBeCloseTo(integral(0.3) / total, 5);
    for (const p of [0.05, 0.3, 0.5, 0.9]) expect(betaCdf(betaPpf(p, a, b), a, b)).toBeCloseTo(p, 12);
    expect(betaPpf(0, a, b)).toBe(0);
    expect(betaPpf(1, a, b)).toBe(1);
    expect(() => betaPpf(1.5, a, b)).toThrow('p must be in [0, 1]; got 1.5');
  });
});
