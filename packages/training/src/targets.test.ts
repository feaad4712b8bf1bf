import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { learningRateAt } from './lrSchedule.js';
import { addNoise, predictionTarget } from './targets.js';

describe('targets', () => {
  const x0v = [0.5, -1, 2, 0.25];
  const epsv = [1, 0.3, -0.7, -2];
  const acs = [0.9, 0.2];
  const x0 = () => tf.tensor4d(x0v, [2, 1, 1, 2]);
  const eps = () => tf.tensor4d(epsv, [2, 1, 1, 2]);
  const ac = () => tf.tensor1d(acs);
  const row = (i: number) => Math.floor(i / 2);

  it('x_t = √ᾱ x0 + √(1−ᾱ) ε', () => {
    const got = addNoise(x0(), eps(), ac()).dataSync();
    x0v.forEach((x, i) => expect(got[i]).toBeCloseTo(Math.sqrt(acs[row(i)]) * x + Math.sqrt(1 - acs[row(i)]) * epsv[i], 6));
  });

  it('epsilon, v and sample targets match their formulas', () => {
    const e = predictionTarget('epsilon', x0(), eps(), ac()).dataSync();
    const v = predictionTarget('v', x0(), eps(), ac()).dataSync();
    const s = predictionTarget('sample', x0(), eps(), ac()).dataSync();
    x0v.forEach((x, i) => {
      const a = acs[row(i)];
      expect(e[i]).toBeCloseTo(epsv[i], 6);
      expect(v[i]).toBeCloseTo(Math.sqrt(a) * epsv[i] - Math.sqrt(1 - a) * x, 6);
      expect(s[i]).toBeCloseTo(x, 6);
    });
    expect(() => predictionTarget('v_prediction' as never, x0(), eps(), ac())).toThrow(/one of 'epsilon', 'v', 'sample'/);
  });
});

describe('learningRateAt', () => {
  it('follows linear warm-up then constant or half-cosine to zero', () => {
    const cfg = { schedule: 'cosine' as const, peak: 0.01, warmupSteps: 10, totalSteps: 110 };
    expect(learningRateAt(0, cfg)).toBe(0);
    expect(learningRateAt(5, cfg)).toBeCloseTo(0.005, 12);
    expect(learningRateAt(10, cfg)).toBeCloseTo(0.01, 12);
    expect(learningRateAt(60, cfg)).toBeCloseTo(0.01 * 0.5 * (1 + Math.cos(Math.PI * 0.5)), 12);
    expect(learningRateAt(85, cfg)).toBeCloseTo(0.01 * 0.5 * (1 + Math.cos(Math.PI * 0.75)), 12);
    expect(learningRateAt(110, cfg)).toBeCloseTo(0, 12);
    expect(learningRateAt(3, { peak: 0.1, warmupSteps: 4 })).toBeCloseTo(0.075, 12);
    expect(learningRateAt(300, { peak: 0.1 })).toBe(0.1);
    expect(() => learningRateAt(0, { peak: 1, schedule: 'cosine' })).toThrow(/totalSteps/);
    expect(() => learningRateAt(0, { peak: 1, schedule: 'step' as never })).toThrow(/one of 'constant', 'cosine'/);
  });
});
