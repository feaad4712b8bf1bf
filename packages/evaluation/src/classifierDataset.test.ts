import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '@tfjs-diffusion/data';
import { classifierDataset } from './classifierDataset.js';

// 3 classes of 10, 20 and 30 images of 2 values; each image's values name it (i and -i).
function labeled(): ImageDataset {
  const counts = [10, 20, 30];
  const n = 60;
  const images = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  let i = 0;
  counts.forEach((c, k) => {
    for (let j = 0; j < c; j++, i++) {
      images[2 * i] = i;
      images[2 * i + 1] = -i;
      labels[i] = k;
    }
  });
  return { images, shape: [n, 1, 1, 2], labels };
}

const ids = (p: { images: { data: Float32Array } }) => Array.from({ length: p.images.data.length / 2 }, (_, k) => p.images.data[2 * k]!);

describe('classifierDataset', () => {
  it('splits each class by trainFraction into disjoint parts covering every image once', () => {
    const { train, test } = classifierDataset(labeled(), { trainFraction: 0.8, seed: 3 });
    expect(train.images.shape).toEqual([48, 1, 1, 2]);
    expect(test.images.shape).toEqual([12, 1, 1, 2]);
    const perClass = (labels: Int32Array) => [0, 1, 2].map((k) => labels.filter((l) => l === k).length);
    expect(perClass(train.labels)).toEqual([8, 16, 24]);
    expect(perClass(test.labels)).toEqual([2, 4, 6]);
    const all = [...ids(train), ...ids(test)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // labels travel with their images: image i has class 0 below 10, 1 below 30, 2 above
    ids(train).forEach((id, k) => expect(train.labels[k]).toBe(id < 10 ? 0 : id < 30 ? 1 : 2));
    ids(train).forEach((id, k) => expect(train.images.data[2 * k + 1]).toBe(-id));
  });

  it('gives the same split for the same seed, another for another seed', () => {
    const a = classifierDataset(labeled(), { seed: 1 });
    expect(ids(classifierDataset(labeled(), { seed: 1 }).test)).toEqual(ids(a.test));
    expect(ids(classifierDataset(labeled(), { seed: 2 }).test)).not.toEqual(ids(a.test));
  });

  it('rejects a dataset without labels and a trainFraction outside (0, 1)', () => {
    const { labels: _, ...unlabeled } = labeled();
    expect(() => classifierDataset(unlabeled)).toThrow(/no labels/);
    expect(() => classifierDataset(labeled(), { trainFraction: 1 })).toThrow(/options\.trainFraction must be a number in \(0, 1\); got 1/);
    expect(() => classifierDataset(labeled(), { trainFraction: Number.NaN })).toThrow(/trainFraction/);
  });
});
