import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { clipByGlobalNorm, clipScale } from './clip.js';
import { createNonFiniteGuard, NonFiniteError } from './guard.js';

describe('clipByGlobalNorm', () => {
  it('scales by maxNorm/(norm + 1e-6) when the global norm is larger', () => {
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor2d([[0, 4], [12, 0]]);
    const norm = Math.sqrt(9 + 16 + 144); // 13
    const { grads, norm: got } = clipByGlobalNorm({ a, b }, 6.5);
    expect(got).toBeCloseTo(norm, 5);
    const c = 6.5 / (13 + 1e-6);
    expect(Array.from(grads.a.dataSync())).toEqual([3 * c, 0].map((x) => Math.fround(x)).map((x, i) => (i === 0 ? expect.closeTo(x, 5) : 0)));
    const bb = grads.b.dataSync();
    expect(bb[1]).toBeCloseTo(4 * c, 5);
    expect(bb[2]).toBeCloseTo(12 * c, 5);
    const after = Math.hypot(...Array.from(grads.a.dataSync()), ...Array.from(bb));
    expect(after).toBeCloseTo(6.5, 4);
    [a, b, grads.a, grads.b].forEach((t) => t.dispose());
  });

  it('leaves small gradients alone', () => {
    const a = tf.tensor1d([0.3, 0.4]);
    const { grads, norm } = clipByGlobalNorm({ a }, 1);
    expect(norm).toBeCloseTo(0.5, 6);
    expect(Array.from(grads.a.dataSync())).toEqual(Array.from(a.dataSync()));
    a.dispose();
    grads.a.dispose();
  });
});

describe('createNonFiniteGuard', () => {
  it('skips and counts non-finite steps, resets on a finite one, and throws after N in a row', () => {
    const g = createNonFiniteGuard({ maxConsecutiveNonFinite: 3 });
    expect(g.check({ loss: 1 }, 1)).toBe(true);
    expect(g.check({ loss: NaN }, 2)).toBe(false);
    expect(g.check({ loss: 1, gradNorm: Infinity }, 3)).toBe(false);
    expect(g.check({ loss: 0.5 }, 4)).toBe(true);
    expect(g.skipped).toBe(2);
    expect(g.consecutive).toBe(0);
    expect(g.check({ loss: NaN }, 5)).toBe(false);
    expect(g.check({ loss: NaN }, 6)).toBe(false);
    expect(() => g.check({ loss: NaN }, 7)).toThrow(NonFiniteError);
    expect(g.skipped).toBe(5);
  });
});

describe('clipScale', () => {
  it('is min(1, maxNorm/(norm + 1e-6)), and 1 for a norm that is not finite', () => {
    expect(clipScale(13, 6.5)).toBe(6.5 / (13 + 1e-6));
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(0, 1)).toBe(1);
    expect(clipScale(Infinity, 1)).toBe(1);
    expect(clipScale(NaN, 1)).toBe(1);
  });
});
