import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainClassifier } from './trainClassifier.js';
import { classifierCache } from './node.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Two separable classes of 2×2 images: a tiny MLP is enough, and fast on cpu.
const set = (n: number) => {
  const data = new Float32Array(n * 4);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  labels.forEach((l, i) => data.fill(l ? 0.8 : -0.8, i * 4, i * 4 + 4));
  return { images: { data, shape: [n, 2, 2, 1] }, labels };
};
const ds = { train: set(16), test: set(8) };
const opts = { conv: [], hidden: [4], epochs: 2, batchSize: 8 };

describe('classifierCache', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clf-cache-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the weights in a folder, loads them for the same options, retrains for others or a damaged file', async () => {
    const cache = classifierCache(dir);
    const a = await trainClassifier(ds, { ...opts, cache });
    expect((await readdir(dir)).sort()).toEqual(['classifier.json', 'classifier.safetensors']); // no temporary files left
    let epochs = 0;
    const b = await trainClassifier(ds, { ...opts, cache, onEpoch: () => epochs++ });
    expect(epochs).toBe(0); // loaded, not trained
    const x = tf.ones([1, 4]);
    expect(Array.from(b.forward(x).logits.dataSync())).toEqual(Array.from(a.forward(x).logits.dataSync()));
    const c = await trainClassifier(ds, { ...opts, epochs: 3, cache, onEpoch: () => epochs++ });
    expect(epochs).toBe(3); // other options: trained again
    const key = JSON.parse(await readFile(join(dir, 'classifier.json'), 'utf8')).key;
    expect(await cache.load(key)).toBeDefined();
    await writeFile(join(dir, 'classifier.safetensors'), 'not safetensors');
    expect(await cache.load(key)).toBeUndefined();
    const before = tf.memory().numTensors;
    const d = await trainClassifier(ds, { ...opts, epochs: 3, cache, onEpoch: () => epochs++ });
    expect(epochs).toBe(6);
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
    [a, b, c, x].forEach((t) => t.dispose());
  });
});
