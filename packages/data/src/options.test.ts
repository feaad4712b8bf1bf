import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batches, batchSource, circleInRd, colorJitter, gaussianMixture, randomCrop, randomFlip, randomRotation, split, subset,
  swissRoll, twoMoons, type ImageDataset,
} from './index.js';
import { loadFashionMnist, loadImageFolder } from './node.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('data refuses unknown options', () => {
  const ds: ImageDataset = { images: new Float32Array(8), shape: [4, 1, 1, 2], labels: Int32Array.from([0, 1, 0, 1]) };
  const bogus = { bogus: 1 } as never;
  const cases: [string, () => unknown][] = [
    ['batches', () => batches(ds, { batchSize: 2, bogus: 1 } as never)],
    ['batchSource', () => batchSource(ds, { batchSize: 2, bogus: 1 } as never)],
    ['split', () => split(ds, { validation: 1, bogus: 1 } as never)],
    ['subset', () => subset(ds, 2, bogus)],
    ['gaussianMixture', () => gaussianMixture({ n: 4, bogus: 1 } as never)],
    ['twoMoons', () => twoMoons({ n: 4, bogus: 1 } as never)],
    ['swissRoll', () => swissRoll({ n: 4, bogus: 1 } as never)],
    ['circleInRd', () => circleInRd({ n: 4, bogus: 1 } as never)],
    ['randomCrop', () => randomCrop({ padding: 1, bogus: 1 } as never)],
    ['randomFlip', () => randomFlip(bogus)],
    ['randomRotation', () => randomRotation({ degrees: 5, bogus: 1 } as never)],
    ['colorJitter', () => colorJitter(bogus)],
    ['loadFashionMnist', () => loadFashionMnist(bogus)],
  ];
  it.each(cases)('%s', (name, call) => {
    const before = tf.memory().numTensors;
    expect(call).toThrow(`${name}: unknown option 'bogus'. Accepted: `);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loadImageFolder', async () => {
    await expect(loadImageFolder('.', { resolution: 2, bogus: 1 } as never)).rejects.toThrow("loadImageFolder: unknown option 'bogus'. Accepted: 'resolution', 'channels', 'centerCrop'");
  });

  it('names the nearest option', () => {
    expect(() => batches(ds, { batch_size: 2 } as never)).toThrow("batches: unknown option 'batch_size'; did you mean 'batchSize'?");
    expect(() => batchSource(ds, { batchSize: 2, augmentation: () => undefined } as never)).toThrow("did you mean 'augment'?");
    expect(() => split(ds, { validation: 1, stratify: true } as never)).toThrow("did you mean 'stratified'?");
  });

  it('batchSource still passes its batch options through', () => {
    const src = batchSource(ds, { batchSize: 2, seed: 1, shuffle: false, dropLast: true, labels: false });
    const b = src.next();
    expect(b.images.shape).toEqual([2, 1, 1, 2]);
    expect(b.labels).toBeUndefined();
    expect(src.iterator.getState()).toEqual({ epoch: 0, position: 1 });
    b.images.dispose();
  });
});
