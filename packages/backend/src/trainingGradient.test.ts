import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './initBackend.js';
import { randn, relativeError, runOn } from './testing/onBackends.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

// A small network with every op kind of the diffusion U-Net's training step:
// 3×3 convs (stride 1 and 2), a 1×1 conv, nearest upsampling, group-norm
// moments, SiLU, single-head attention, a class-embedding gather and MSE.
const shapes: Record<string, number[]> = {
  conv1: [3, 3, 2, 4], down: [3, 3, 4, 6], qkv: [1, 1, 6, 18], up: [3, 3, 6, 4], skip: [1, 1, 4, 4], out: [3, 3, 4, 2], emb: [3, 4],
};

function loss(p: Record<string, tf.Tensor>, x: tf.Tensor4D, labels: tf.Tensor1D, target: tf.Tensor4D): tf.Scalar {
  const silu = (t: tf.Tensor) => tf.mul(t, tf.sigmoid(t));
  const groupNorm = (t: tf.Tensor4D, groups: number) => {
    const [b, h, w, c] = t.shape;
    const g = tf.reshape(t, [b, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    return tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [b, h, w, c]) as tf.Tensor4D;
  };
  const h1 = tf.add(tf.conv2d(x, p.conv1 as tf.Tensor4D, 1, 'same'),
    tf.reshape(tf.gather(p.emb!, labels), [-1, 1, 1, 4])) as tf.Tensor4D;
  const h2 = tf.conv2d(silu(groupNorm(h1, 2)) as tf.Tensor4D, p.down as tf.Tensor4D, 2, 'same');
  const [b, hh, ww, c] = h2.shape;
  const [q, k, v] = tf.split(tf.reshape(tf.conv2d(h2, p.qkv as tf.Tensor4D, 1, 'valid'), [b, hh * ww, 3 * c]), 3, 2);
  const att = tf.softmax(tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(c)));
  const h3 = tf.add(h2, tf.reshape(tf.matMul(att, v!), [b, hh, ww, c])) as tf.Tensor4D;
  const up = tf.image.resizeNearestNeighbor(h3, [hh * 2, ww * 2]);
  const h4 = tf.add(tf.conv2d(up, p.up as tf.Tensor4D, 1, 'same'), tf.conv2d(h1, p.skip as tf.Tensor4D, 1, 'valid')) as tf.Tensor4D;
  const out = tf.conv2d(silu(groupNorm(h4, 2)) as tf.Tensor4D, p.out as tf.Tensor4D, 1, 'same');
  return tf.mean(tf.square(tf.sub(out, target)));
}

describe('a full training gradient on wasm', () => {
  it('equals the cpu backend for every parameter', async () => {
    const names = Object.keys(shapes);
    const data = names.map((n, i) => randn(shapes[n]!, 100 + i).map((v) => v * 0.3));
    const xData = randn([1, 8, 8, 2], 1);
    const tData = randn([1, 8, 8, 2], 2);
    // batch 1: the cpu backend's ResizeNearestNeighborGrad is wrong for batch > 1
    const f = () => {
      const params = names.map((n, i) => tf.tensor(data[i]!, shapes[n]));
      const x = tf.tensor4d(xData, [1, 8, 8, 2]);
      const target = tf.tensor4d(tData, [1, 8, 8, 2]);
      const labels = tf.tensor1d([2], 'int32');
      const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) =>
        loss(Object.fromEntries(names.map((n, i) => [n, ps[i]!])), x, labels, target))(params);
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
    const vars = Object.fromEntries(Object.entries(shapes).map(([n, s], i) => [n, tf.variable(tf.tensor(randn(s, 200 + i), s))]));
    const x = tf.tensor4d(randn([2, 8, 8, 2], 3), [2, 8, 8, 2]);
    const target = tf.tensor4d(randn([2, 8, 8, 2], 4), [2, 8, 8, 2]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const opt = tf.train.adam(1e-3);
    const step = () => opt.minimize(() => loss(vars, x, labels, target), false, Object.values(vars));
    step();
    const before = tf.memory();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    opt.dispose();
    tf.dispose([...Object.values(vars), x, target, labels]);
  });
});
