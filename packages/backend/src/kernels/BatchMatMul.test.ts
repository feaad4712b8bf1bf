import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { randn, relativeError, runOn } from '../testing/onBackends.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

// [a shape, b shape, transposeA, transposeB]: a dense layer's gradients, attention's q·kᵀ and its
// gradients, a broadcast batch, a column vector.
const cases: [number[], number[], boolean, boolean][] = [
  [[128, 256], [128, 64], true, false],
  [[128, 256], [64, 256], false, true],
  [[256, 128], [64, 256], true, true],
  [[8, 49, 16], [8, 49, 16], false, true],
  [[8, 49, 16], [8, 49, 49], true, false],
  [[1, 5, 7], [3, 6, 7], false, true],
  [[4, 1], [4, 3], true, false],
  [[33, 17], [17, 9], false, false],
];

describe('BatchMatMul on wasm (transposes done before the fast path)', () => {
  for (const [sa, sb, ta, tb] of cases) {
    it(`matches the cpu backend: [${sa}]${ta ? 'ᵀ' : ''} · [${sb}]${tb ? 'ᵀ' : ''}`, async () => {
      const da = randn(sa, 1);
      const db = randn(sb, 2);
      const f = () => tf.matMul(tf.tensor(da, [...sa]) as tf.Tensor, tf.tensor(db, [...sb]) as tf.Tensor, ta, tb);
      const [want] = await runOn('cpu', f);
      const [got] = await runOn('wasm', f);
      expect(relativeError(got!, want!)).toBeLessThan(1e-5);
    });
  }

  it('the gradient of a dense layer equals the closed form (dW = xᵀ·dy, dx = dy·Wᵀ)', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d(randn([6, 5], 3), [6, 5]);
    const w = tf.tensor2d(randn([5, 4], 4), [5, 4]);
    const dy = tf.tensor2d(randn([6, 4], 5), [6, 4]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))([x, w], dy);
    const [xs, ws, dys] = [x.arraySync(), w.arraySync(), dy.arraySync()];
    const dx = xs.map((_, i) => ws.map((wr) => wr.reduce((s, v, j) => s + v * dys[i]![j]!, 0)));
    const dw = ws.map((wr, k) => wr.map((_, j) => xs.reduce((s, xr, i) => s + xr[k]! * dys[i]![j]!, 0)));
    expect(relativeError(g[0]!.dataSync() as Float32Array, new Float32Array(dx.flat()))).toBeLessThan(1e-5);
    expect(relativeError(g[1]!.dataSync() as Float32Array, new Float32Array(dw.flat()))).toBeLessThan(1e-5);
    tf.dispose([x, w, dy, ...g]);
  });

  it('leaks neither tensors nor wasm buffers', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(randn([8, 49, 16], 6), [8, 49, 16]) as tf.Tensor3D;
    const run = () => tf.tidy(() => tf.add(tf.matMul(a, a, false, true), tf.sum(tf.matMul(a, a, true, false)))).dispose();
    // the transposed copies are wasm buffers the engine does not count: the backend's own count sees them
    const buffers = () => tf.backend().numDataIds();
    run();
    const before = tf.memory();
    const beforeBuffers = buffers();
    for (let i = 0; i < 4; i++) run();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(buffers()).toBe(beforeBuffers);
    // inner sizes 8 and 16 differ: wasm's kernel refuses them after the transposes were made
    const bad = tf.tensor(randn([2, 8, 16], 7), [2, 8, 16]) as tf.Tensor3D;
    const mid = tf.memory().numTensors;
    const midBuffers = buffers();
    for (let i = 0; i < 3; i++) expect(() => tf.matMul(bad, bad, true, true)).toThrow(/inner shapes/);
    expect(tf.memory().numTensors).toBe(mid);
    expect(buffers()).toBe(midBuffers);
    tf.dispose([a, bad]);
  });
});
