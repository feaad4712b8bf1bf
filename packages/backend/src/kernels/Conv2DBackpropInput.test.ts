import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { convCases, outSize } from '../testing/convCases.js';
import { randn, relativeError, runOn } from '../testing/onBackends.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

const backpropInput = (dy: tf.Tensor, filter: tf.Tensor, inputShape: number[], strides: [number, number], pad: unknown) =>
  tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter },
    { strides, pad, dataFormat: 'NHWC', inputShape } as unknown as tf.NamedAttrMap) as tf.Tensor;

describe('Conv2DBackpropInput on wasm', () => {
  for (const c of convCases) {
    it(`matches the cpu backend: ${c.name}`, async () => {
      const [oh, ow] = outSize(c);
      const dyShape = [c.x[0], oh, ow, c.filter[3]];
      const dyData = randn(dyShape, 11);
      const wData = randn(c.filter, 12);
      const f = () => backpropInput(tf.tensor(dyData, dyShape), tf.tensor(wData, c.filter), c.x, c.strides, c.pad);
      const [want] = await runOn('cpu', f);
      const [got] = await runOn('wasm', f);
      expect(relativeError(got!, want!)).toBeLessThan(1e-4);
    });
  }

  it('is the adjoint of the forward convolution: <conv(x), dy> = <x, dx(dy)>', async () => {
    await tf.setBackend('wasm');
    const xShape: [number, number, number, number] = [2, 9, 8, 3];
    const [lhs, rhs] = tf.tidy(() => {
      const x = tf.tensor4d(randn(xShape, 13), xShape);
      const w = tf.tensor4d(randn([3, 3, 3, 4], 14), [3, 3, 3, 4]);
      const y = tf.conv2d(x, w, 2, 'same');
      const dy = tf.tensor(randn(y.shape, 15), y.shape);
      const dx = backpropInput(dy, w, xShape, [2, 2], 'same');
      return [tf.sum(tf.mul(y, dy)).dataSync()[0]!, tf.sum(tf.mul(x, dx)).dataSync()[0]!];
    });
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
  });

  it('leaks neither tensors nor wasm buffers over repeated calls', async () => {
    await tf.setBackend('wasm');
    const dy = tf.tensor(randn([2, 4, 4, 4], 16), [2, 4, 4, 4]);
    const w = tf.tensor(randn([3, 3, 3, 4], 17), [3, 3, 3, 4]);
    const run = (s: number) => tf.tidy(() => backpropInput(s === 1 ? tf.pad(dy, [[0, 0], [2, 2], [2, 2], [0, 0]]) : dy, w, [2, 8, 8, 3], [s, s], 'same')).dispose();
    run(1); run(2);
    const before = tf.memory();
    for (let i = 0; i < 4; i++) { run(1); run(2); }
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([dy, w]);
  });
});
