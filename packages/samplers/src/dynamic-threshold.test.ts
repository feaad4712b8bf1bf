import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { clip } from './clip.js';
import { dynamicThreshold } from './dynamic-threshold.js';

/** torch.quantile with linear interpolation. */
function quantile(values: number[], q: number): number {
  const s = [...values].sort((x, y) => x - y);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function run(values: number[], shape: [number, number, number, number], fn: (x: tf.Tensor4D) => tf.Tensor4D): number[] {
  const out = tf.tidy(() => fn(tf.tensor4d(values, shape)));
  const v = Array.from(out.dataSync());
  out.dispose();
  return v;
}

// Deterministic spread-out values.
const values = Array.from({ length: 2 * 3 * 3 * 2 }, (_, k) => 3 * Math.sin(k * 1.7) * (k % 2 === 0 ? 1 : 0.4));
const shape: [number, number, number, number] = [2, 3, 3, 2];

describe('dynamicThreshold', () => {
  for (const ratio of [0.995, 0.9, 0.5]) {
    it(`matches Imagen's rule per sample (dynamicThresholdingRatio ${ratio}, sampleMaxValue 2.5)`, () => {
      const got = run(values, shape, dynamicThreshold({ dynamicThresholdingRatio: ratio, sampleMaxValue: 2.5 }));
      for (let b = 0; b < 2; b++) {
        const row = values.slice(b * 18, (b + 1) * 18);
        const s = Math.min(Math.max(quantile(row.map(Math.abs), ratio), 1), 2.5);
        row.forEach((v, k) => expect(got[b * 18 + k]).toBeCloseTo(Math.min(Math.max(v, -s), s) / s, 5));
      }
    });
  }

  it('keeps every value in [-1, 1] and equals clipping when sampleMaxValue = 1', () => {
    const got = run(values, shape, dynamicThreshold({ sampleMaxValue: 1 }));
    const clipped = run(values, shape, clip(1));
    expect(got.every((v) => v >= -1 && v <= 1)).toBe(true);
    got.forEach((v, k) => expect(v).toBeCloseTo(clipped[k], 6));
  });

  it('names bad options', () => {
    expect(() => dynamicThreshold({ dynamicThresholdingRatio: 1.5 })).toThrow(/dynamicThresholdingRatio must be in/);
    expect(() => dynamicThreshold({ sampleMaxValue: 0.5 })).toThrow(/sampleMaxValue must be >= 1/);
  });
});
