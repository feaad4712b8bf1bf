import { describe, expect, it } from 'vitest';
import { loadDataset, type HostImages } from '../src/dataset.js';

describe('MNIST split', () => {
  it('is [-1, 1], labelled 0-9, disjoint and the same for the same seed', async () => {
    const a = await loadDataset('mnist', { trainSize: 300, valSize: 50, seed: 3 });
    const b = await loadDataset('mnist', { trainSize: 300, valSize: 50, seed: 3 });
    expect(a.train.n).toBe(300);
    expect(a.val.n).toBe(50);
    let lo = Infinity, hi = -Infinity;
    for (const v of a.train.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    expect(lo).toBe(-1);
    expect(hi).toBe(1);
    expect(new Set(a.train.labels).size).toBe(10);
    expect(a.train.data).toEqual(b.train.data);
    // No validation image is also a training image.
    const key = (s: HostImages, i: number) => s.data.subarray(i * 784, (i + 1) * 784).join(',');
    const train = new Set(Array.from({ length: a.train.n }, (_, i) => key(a.train, i)));
    for (let i = 0; i < a.val.n; i++) expect(train.has(key(a.val, i))).toBe(false);
  });
});
