import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@tfjs-diffusion/backend';
import { classAccuracy, type Classifier } from './classifier.js';
import { trainClassifier } from './trainClassifier.js';
import { classifierCache } from './node.js';
import { frechetDistance } from './frechetDistance.js';
import { loadMnist } from '@tfjs-diffusion/data/node';
import { classifierDataset } from './classifierDataset.js';

// The wasm backend trains this convnet in about a minute; the cpu backend's conv gradients would take many.
describe('trainClassifier on MNIST', () => {
  const ds = classifierDataset(loadMnist());
  let dir: string;
  let clf: Classifier;

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', quiet: true });
    dir = await mkdtemp(join(tmpdir(), 'classifier-'));
    clf = await trainClassifier(ds, { cache: classifierCache(dir) });
  }, 600_000);

  afterAll(async () => {
    clf.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('reaches at least 97% test accuracy on held-out digits', () => {
    expect(clf.testAccuracy).toBeGreaterThanOrEqual(0.97);
    // Recounted here from the predictions.
    const pred = clf.predictClasses(ds.test.images);
    let ok = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === ds.test.labels[i]) ok++;
    expect(ok / pred.length).toBeCloseTo(clf.testAccuracy, 10);
    expect(classAccuracy(clf, ds.test.images, ds.test.labels)).toBeCloseTo(clf.testAccuracy, 10);
  });

  it('loads from the cache instead of training again, with the same weights', async () => {
    const before = tf.memory().numTensors;
    const again = await trainClassifier(ds, { cache: classifierCache(dir) });
    expect(again.testAccuracy).toBe(clf.testAccuracy);
    const sample = { data: ds.test.images.data.subarray(0, 50 * 784), shape: [50, 28, 28, 1] };
    const a = clf.features(sample).data;
    const b = again.features(sample).data;
    expect(Array.from(b)).toEqual(Array.from(a));
    again.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 20_000);

  it('gives features whose Fréchet distance separates digit classes', () => {
    const byClass = (c: number, split: typeof ds.test) => {
      const idx: number[] = [];
      split.labels.forEach((l, i) => l === c && idx.push(i));
      const data = new Float32Array(idx.length * 784);
      idx.forEach((i, k) => data.set(split.images.data.subarray(i * 784, (i + 1) * 784), k * 784));
      return clf.features({ data, shape: [idx.length, 28, 28, 1] });
    };
    const trainSevens = byClass(7, ds.train);
    const testSevens = byClass(7, ds.test);
    const testOnes = byClass(1, ds.test);
    const same = frechetDistance(trainSevens, testSevens);
    const other = frechetDistance(trainSevens, testOnes);
    expect(other).toBeGreaterThan(5 * same);
  });

  it('names bad options', async () => {
    await expect(trainClassifier(ds, { epochs: 0 })).rejects.toThrow(/epochs must be a positive integer/);
    await expect(trainClassifier(ds, { downsample: 'avg' as never })).rejects.toThrow(/downsample must be one of/);
  });
});
