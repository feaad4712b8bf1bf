import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './initBackend.js';
import { randn, relativeError, runOn } from './testing/onBackends.js';
import { smallUnetLoss, smallUnetShapes } from './testing/smallUnet.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

// The network is testing/smallUnet.ts's: every op kind of the diffusion U-Net's training step.

describe('a full training gradient on wasm', () => {
  it('equals the cpu backend for every parameter', async () => {
    const names = Object.keys(smallUnetShapes);
    const data = names.map((n, i) => randn(smallUnetShapes[n]!, 100 + i).map((v) => v * 0.3));
    const xData = randn([1, 8, 8, 2], 1);
    const tData = randn([1, 8, 8, 2], 2);
    // batch 1: the cpu backend's ResizeNearestNeighborGrad is wrong for batch > 1
    const f = () => {
      const params = names.map((n, i) => tf.tensor(data[i]!, smallUnetShapes[n]));
      const x = tf.tensor4d(xData, [1, 8, 8, 2]);
      const target = tf.tensor4d(tData, [1, 8, 8, 2]);
      const labels = tf.tensor1d([2], 'int32');
      const t = tf.tensor1d([5]);
      const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) =>
        smallUnetLoss(Object.fromEntries(names.map((n, i) => [n, ps[i]!])), x, t, labels, target))(params);
      return [value, ...grads];
    };
    const want = await runOn('cpu', f);
    const got = await runOn('wasm', f);
    expect(got).toHaveLength(names.length + 1);
    for (let i = 0; i < got.length; i++) {
      expect(relativeError(got[i]!, want[i]!), i === 0 ? 'loss' : names[i - 1]).toBeLessThan(1e-4);
    }
    // the gradients are not trivially zero
    for (let i = 1; i < got.length; i++) expect(Math.max(...got[i]!.map(Math.abs))).toBeGreaterThan(1e-6);
  });

  it('leaks no tensors over repeated gradient steps', async () => {
    await tf.setBackend('wasm');
    const vars = Object.fromEntries(Object.entries(smallUnetShapes).map(([n, s], i) => [n, tf.variable(tf.tensor(randn(s, 200 + i), s))]));
    const x = tf.tensor4d(randn([2, 8, 8, 2], 3), [2, 8, 8, 2]);
    const target = tf.tensor4d(randn([2, 8, 8, 2], 4), [2, 8, 8, 2]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const t = tf.tensor1d([3, 17]);
    const opt = tf.train.adam(1e-3);
    const step = () => opt.minimize(() => smallUnetLoss(vars, x, t, labels, target), false, Object.values(vars));
    step();
    const before = tf.memory();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    opt.dispose();
    tf.dispose([...Object.values(vars), x, target, labels, t]);
  });
});
