import * as tf from '@tensorflow/tfjs';
import { createRng } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { curriculumRange, curriculumSubset, difficultyOrder, timestepSampler } from './curriculum.js';
import { dropoutSchedule } from './dropoutSchedule.js';
import { dropLabels, dropMask } from './labels.js';
import { minSnrWeight, minSnrWeights } from './minSnr.js';
import { offsetNoise, perturbNoise } from './noise.js';
import { matchesAny } from './pattern.js';

describe('min-SNR-γ', () => {
  it('matches Hang et al. for each prediction type', () => {
    // linear betas 1e-4 … 0.02 over 1000 steps, ᾱ computed here
    const T = 1000;
    const ac = new Float64Array(T);
    let prod = 1;
    for (let i = 0; i < T; i++) {
      prod *= 1 - (1e-4 + ((0.02 - 1e-4) * i) / (T - 1));
      ac[i] = prod;
    }
    const ts = [0, 10, 100, 300, 999];
    const gamma = 5;
    for (const prediction of ['epsilon', 'v', 'sample'] as const) {
      const w = minSnrWeights({ numTrainTimesteps: T, alphasCumprod: ac }, ts, { gamma, prediction });
      ts.forEach((t, i) => {
        const snr = ac[t] / (1 - ac[t]);
        const want = prediction === 'epsilon' ? Math.min(snr, gamma) / snr : prediction === 'v' ? Math.min(snr, gamma) / (snr + 1) : Math.min(snr, gamma);
        expect(w[i]).toBeCloseTo(want, 5);
      });
    }
    expect(minSnrWeight(10, 5, 'epsilon')).toBeCloseTo(0.5, 12);
    expect(minSnrWeight(1, 5, 'epsilon')).toBe(1);
    expect(minSnrWeight(4, 5, 'v')).toBeCloseTo(0.8, 12);
    expect(minSnrWeight(9, 5, 'sample')).toBe(5);
    expect(() => minSnrWeight(1, 5, 'x' as never)).toThrow(/prediction must be one of/);
  });
});

describe('noise options', () => {
  it('offset noise is constant over H, W for each (sample, channel) and has the given scale', () => {
    const zeros = tf.zeros([64, 3, 4, 2]) as tf.Tensor4D;
    const out = offsetNoise(zeros, 0.5, 7);
    const d = out.arraySync() as number[][][][];
    for (const img of d) for (let c = 0; c < 2; c++) {
      const v = img[0][0][c];
      for (const row of img) for (const px of row) expect(px[c]).toBe(v);
    }
    const vals = d.flatMap((img) => [img[0][0][0], img[0][0][1]]);
    const std = Math.sqrt(vals.reduce((s, x) => s + x * x, 0) / vals.length);
    expect(std).toBeGreaterThan(0.35);
    expect(std).toBeLessThan(0.65);
    zeros.dispose();
    out.dispose();
  });

  it('input perturbation adds γ·ξ element-wise', () => {
    const eps = tf.randomNormal([8, 4, 4, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const p = perturbNoise(eps, 0.1, 3);
    const diff = tf.sub(p, eps);
    const std = Math.sqrt(tf.mean(tf.square(diff)).dataSync()[0]);
    expect(std).toBeGreaterThan(0.07);
    expect(std).toBeLessThan(0.13);
    [eps, p, diff].forEach((t) => t.dispose());
  });
});

describe('dropLabels', () => {
  it('replaces a label by the null class with probability pUncond', () => {
    const labels = Array.from({ length: 20_000 }, (_, i) => i % 10);
    const out = dropLabels(labels, { pUncond: 0.2, nullClass: 10, rng: createRng(1) });
    let nulls = 0;
    out.forEach((v, i) => (v === 10 ? nulls++ : expect(v).toBe(labels[i])));
    expect(nulls / labels.length).toBeGreaterThan(0.19);
    expect(nulls / labels.length).toBeLessThan(0.21);
  });

  it('is dropMask applied to the labels: the same draws, one per row', () => {
    const labels = Array.from({ length: 50 }, (_, i) => i % 10);
    const drop = dropMask(labels.length, { pUncond: 0.3, rng: createRng(7) });
    expect(drop.some(Boolean) && !drop.every(Boolean)).toBe(true);
    expect(Array.from(dropLabels(labels, { pUncond: 0.3, nullClass: 10, rng: createRng(7) }))).toEqual(labels.map((l, i) => (drop[i] ? 10 : l)));
    const rng = createRng(7);
    dropMask(3, { pUncond: 0.3, rng });
    const next = createRng(7);
    for (let i = 0; i < 3; i++) next.next();
    expect(rng.next()).toBe(next.next());
    expect(() => dropMask(2, { pUncond: 1.5, rng })).toThrow(/pUncond must be in \[0, 1\]/);
  });
});

describe('dropoutSchedule', () => {
  it('gives constant, linear and step rates', () => {
    expect(dropoutSchedule(0.1)(500)).toBe(0.1);
    const lin = dropoutSchedule({ kind: 'linear', from: 0, to: 0.2, steps: 100 });
    expect(lin(0)).toBe(0);
    expect(lin(50)).toBeCloseTo(0.1, 12);
    expect(lin(1000)).toBeCloseTo(0.2, 12);
    const st = dropoutSchedule({ kind: 'step', rates: [0, 0.1, 0.3], boundaries: [10, 20] });
    expect([0, 9, 10, 19, 20, 99].map(st)).toEqual([0, 0, 0.1, 0.1, 0.3, 0.3]);
    expect(() => dropoutSchedule({ kind: 'step', rates: [0.1], boundaries: [10] })).toThrow(/boundaries.length \+ 1/);
    expect(() => dropoutSchedule(1.2)).toThrow(/\[0, 1\)/);
  });
});

describe('curriculum', () => {
  it('uniform sampler covers [0, T)', () => {
    const s = timestepSampler({ kind: 'uniform', numTrainTimesteps: 10 });
    const t = s(0, 5000, createRng(2));
    expect(Math.min(...t)).toBe(0);
    expect(Math.max(...t)).toBe(9);
  });

  it('easy-to-hard sampler starts at high t and widens to the full range', () => {
    const cfg = { kind: 'curriculum' as const, numTrainTimesteps: 1000, startFraction: 0.25, rampSteps: 100 };
    const s = timestepSampler(cfg);
    const rng = createRng(3);
    expect(curriculumRange(0, cfg)).toEqual([750, 1000]);
    expect(curriculumRange(50, cfg)).toEqual([375, 1000]);
    expect(curriculumRange(200, cfg)).toEqual([0, 1000]);
    expect(Math.min(...s(0, 2000, rng))).toBeGreaterThanOrEqual(750);
    const late = s(100, 5000, rng);
    expect(Math.min(...late)).toBeLessThan(10);
  });

  it('orders data easy first and admits a growing subset', () => {
    const scores = [0.5, 0.1, 0.9, 0.3];
    expect(Array.from(difficultyOrder(scores))).toEqual([1, 3, 0, 2]);
    expect(Array.from(curriculumSubset(scores, 0, { startFraction: 0.5, rampSteps: 10 }))).toEqual([1, 3]);
    expect(Array.from(curriculumSubset(scores, 10, { startFraction: 0.5, rampSteps: 10 }))).toEqual([1, 3, 0, 2]);
  });
});

describe('name patterns', () => {
  it('matches globs over dotted names', () => {
    expect(matchesAny('down.0.res.0.conv1.bias', ['*.bias'])).toBe(true);
    expect(matchesAny('down.0.res.0.conv1.kernel', ['*.bias', '*norm*'])).toBe(false);
    expect(matchesAny('down.0.x', ['down.0.*'])).toBe(true);
    expect(matchesAny('down.10.x', ['down.1.*'])).toBe(false);
    expect(matchesAny('downX0.x', ['down.0.*'])).toBe(false);
  });
});
