import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { batchSource, gatherShifted, loadDataset, type HostImages } from '../src/dataset.js';

const toy = (n: number): HostImages => {
  const data = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) data.fill(i, i * 784, (i + 1) * 784);
  return { data, labels: Int32Array.from({ length: n }, (_, i) => i % 10), n, height: 28, width: 28, channels: 1, numClasses: 10, classNames: [] };
};

async function ids(src: ReturnType<typeof batchSource>): Promise<number[]> {
  const b = src.next();
  const v = (await b.images.data()) as Float32Array;
  b.images.dispose();
  return Array.from({ length: b.images.shape[0] }, (_, k) => v[k * 784]!);
}

describe('MNIST split', () => {
  it('is [-1, 1], labelled 0-9, disjoint and the same for the same seed', () => {
    const a = loadDataset('mnist', { trainSize: 300, valSize: 50, seed: 3 });
    const b = loadDataset('mnist', { trainSize: 300, valSize: 50, seed: 3 });
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

describe('batchSource', () => {
  it('visits every image once per epoch', async () => {
    const src = batchSource(toy(12), { batchSize: 4, seed: 1, shift: 0, labels: true });
    const seen = [...(await ids(src)), ...(await ids(src)), ...(await ids(src))].sort((x, y) => x - y);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('resumed from its state gives the batches an uninterrupted source gives, across epochs', async () => {
    const set = toy(10);
    const opts = { batchSize: 4, seed: 9, shift: 1, labels: true };
    const straight = batchSource(set, opts);
    const ref: number[][] = [];
    for (let i = 0; i < 8; i++) ref.push(await ids(straight));
    const first = batchSource(set, opts);
    for (let i = 0; i < 3; i++) await ids(first);
    const state = JSON.parse(JSON.stringify(first.getState()));
    const resumed = batchSource(set, opts);
    resumed.setState(state);
    const after: number[][] = [];
    for (let i = 3; i < 8; i++) after.push(await ids(resumed));
    expect(after).toEqual(ref.slice(3));
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('gatherShifted', () => {
  it('moves the image by (dy, dx) and fills with the background -1', () => {
    const set = toy(1);
    set.data.fill(-1);
    set.data[5 * 28 + 7] = 1; // pixel (5, 7)
    const rng = { nextInt: (n: number) => n - 1 } as never; // always the largest shift: +1, +1
    const out = gatherShifted(set, [0], 1, rng);
    expect(out[6 * 28 + 8]).toBe(1);
    expect(out.reduce((a, v) => a + (v === 1 ? 1 : 0), 0)).toBe(1);
    expect(out[0]).toBe(-1);
  });
});
