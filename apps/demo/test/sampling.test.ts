import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, buildSchedule, modelConfig, sampleImages, type GridRequest } from '../src/build.js';
import { presetConfig } from '../src/presets.js';

describe('sampleImages in chunks', () => {
  const c = presetConfig('mnist-tiny');
  c.model.overrides = { blockOutChannels: [8, 8], normNumGroups: 4 };
  let model: ReturnType<typeof buildModel>;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = buildModel(modelConfig(c, 10), 0);
  });
  afterAll(() => model.dispose());

  const req = (n: number, seed: number, labels: number[]): GridRequest => ({
    sampler: 'ddim', steps: 2, guidance: 2, guidanceRescale: 0, threshold: 'clip', eta: 0,
    seed, labels, n, numClasses: 10, height: 28, width: 28, channels: 1,
  });

  it('splits a large request into chunks, chunk k with seed + k and its own labels, and reports progress', async () => {
    const chunk = 4;
    const n = chunk + 3;
    const labels = Array.from({ length: n }, (_, i) => i % 10);
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const all = await sampleImages(model, buildSchedule(c), { ...req(n, 7, labels), onProgress: (done, total) => { expect(total).toBe(n); seen.push(done); } }, chunk);
    expect(tf.memory().numTensors).toBe(before);
    expect(all.length).toBe(n * 784);
    const first = await sampleImages(model, buildSchedule(c), req(chunk, 7, labels.slice(0, chunk)));
    const rest = await sampleImages(model, buildSchedule(c), req(3, 8, labels.slice(chunk)));
    expect(Array.from(all.subarray(0, chunk * 784))).toEqual(Array.from(first));
    expect(Array.from(all.subarray(chunk * 784))).toEqual(Array.from(rest));
    expect(seen.every((d, i) => i === 0 || d > seen[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toBe(n);
  });
});
