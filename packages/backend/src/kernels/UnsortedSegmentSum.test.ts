import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { randn, relativeError, runOn } from '../testing/onBackends.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

describe('UnsortedSegmentSum on wasm', () => {
  it('matches the cpu backend, with repeated, missing and out-of-range ids', async () => {
    const x = randn([7, 3, 2], 21);
    const ids = [3, 0, 3, 5, -1, 0, 3];
    const f = () => tf.unsortedSegmentSum(tf.tensor(x, [7, 3, 2]), tf.tensor1d(ids, 'int32'), 6);
    const [want] = await runOn('cpu', f);
    const [got] = await runOn('wasm', f);
    expect(relativeError(got!, want!)).toBeLessThan(1e-6);
    // segment 3 collects rows 0, 2 and 6; segment 1 is empty
    for (let j = 0; j < 6; j++) {
      expect(got![3 * 6 + j]).toBeCloseTo(x[j]! + x[12 + j]! + x[36 + j]!, 5);
      expect(got![1 * 6 + j]).toBe(0);
    }
  });

  it('sums int32 values as int32', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4], 'int32'), tf.tensor1d([1, 1, 0, 1], 'int32'), 2));
    expect(out.dtype).toBe('int32');
    expect(Array.from(out.dataSync())).toEqual([3, 7]);
    out.dispose();
  });

  it('gives the gradient of tf.gather (an embedding lookup) equal to the cpu backend', async () => {
    const table = randn([11, 5], 22);
    const ids = [10, 2, 2, 7, 0, 10, 10, 3];
    const up = randn([8, 5], 23);
    const f = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(ids, 'int32')), tf.tensor(up, [8, 5]))))(tf.tensor(table, [11, 5]));
    const [want] = await runOn('cpu', f);
    const [got] = await runOn('wasm', f);
    expect(relativeError(got!, want!)).toBeLessThan(1e-6);
  });

  it('leaks neither tensors nor wasm buffers over repeated calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(randn([6, 4], 24), [6, 4]);
    const ids = tf.tensor1d([0, 1, 0, 2, 1, 0], 'int32');
    tf.unsortedSegmentSum(x, ids, 3).dispose();
    const before = tf.memory();
    for (let i = 0; i < 5; i++) tf.unsortedSegmentSum(x, ids, 3).dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, ids]);
  });
});
