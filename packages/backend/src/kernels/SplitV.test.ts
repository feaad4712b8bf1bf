import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { randn, runOn } from '../testing/onBackends.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

const cases: [number[], number | number[], number][] = [
  [[2, 5, 6, 96], [64, 32], 3],   // gradient of a channel concat (long runs)
  [[2, 5, 6, 12], [8, 4], 3],     // short runs
  [[3, 7, 24], 3, 2],             // attention q, k, v
  [[4, 6, 5], [1, -1, 2], 1],     // an inferred size
  [[6, 4], 2, 0],                 // the outermost axis
  [[3, 4, 5], [5], -1],
];

describe('SplitV on wasm', () => {
  for (const [shape, splits, axis] of cases) {
    it(`splits [${shape}] by ${JSON.stringify(splits)} on axis ${axis} as the cpu backend does`, async () => {
      const x = randn(shape, 51);
      const f = () => tf.split(tf.tensor(x, shape), splits, axis);
      const want = await runOn('cpu', f);
      const got = await runOn('wasm', f);
      expect(got.map((a) => Array.from(a))).toEqual(want.map((a) => Array.from(a)));
    });
  }

  it('splits int32 and leaks nothing', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
    const before = tf.memory();
    const [a, b] = tf.split(x, [1, 2], 1);
    expect(a!.dtype).toBe('int32');
    expect(Array.from(a!.dataSync())).toEqual([1, 4]);
    expect(Array.from(b!.dataSync())).toEqual([2, 3, 5, 6]);
    tf.dispose([a!, b!]);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    x.dispose();
  });
});
