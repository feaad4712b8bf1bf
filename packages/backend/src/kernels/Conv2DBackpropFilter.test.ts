import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { conv2DBackpropFilterDilated, conv2DBackpropFilterIm2col } from './Conv2DBackpropFilter.js';
import { convCases, outSize } from '../testing/convCases.js';
import { randn, relativeError, runOn } from '../testing/onBackends.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

describe('Conv2DBackpropFilter on wasm', () => {
  for (const c of convCases) {
    it(`matches the cpu backend: ${c.name}`, async () => {
      const [oh, ow] = outSize(c);
      const dyShape = [c.x[0], oh, ow, c.filter[3]];
      const xData = randn(c.x, 1);
      const dyData = randn(dyShape, 2);
      const f = () => tf.engine().runKernel(tf.Conv2DBackpropFilter,
        { x: tf.tensor(xData, c.x), dy: tf.tensor(dyData, dyShape) },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const [want] = await runOn('cpu', f);
      const [got] = await runOn('wasm', f);
      expect(relativeError(got!, want!)).toBeLessThan(1e-4);
      // both forms, whichever the kernel picks for this shape
      for (const form of [conv2DBackpropFilterDilated, conv2DBackpropFilterIm2col]) {
        const backend = tf.backend();
        const inputs = { x: tf.tensor(xData, c.x), dy: tf.tensor(dyData, dyShape) };
        const out = form({ inputs, attrs: { strides: c.strides, pad: c.pad, filterShape: c.filter } as unknown as tf.NamedAttrMap, backend });
        const data = backend.readSync(out.dataId) as Float32Array;
        backend.disposeData(out.dataId);
        tf.dispose(Object.values(inputs));
        expect(relativeError(data, want!), form.name).toBeLessThan(1e-4);
      }
    });
  }

  it('equals the closed form Σ x·dy for a 1x1 filter', async () => {
    await tf.setBackend('wasm');
    // dW[0,0,i,o] = Σ_{b,h,w} x[b,h,w,i] dy[b,h,w,o]: a plain matrix product of the flattened pixels.
    const x = randn([2, 3, 4, 3], 3);
    const dy = randn([2, 3, 4, 2], 4);
    const got = tf.tidy(() => (tf.engine().runKernel(tf.Conv2DBackpropFilter,
      { x: tf.tensor(x, [2, 3, 4, 3]), dy: tf.tensor(dy, [2, 3, 4, 2]) },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, 3, 2] } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync());
    const want = new Float32Array(6);
    for (let p = 0; p < 24; p++) for (let i = 0; i < 3; i++) for (let o = 0; o < 2; o++) want[i * 2 + o]! += x[p * 3 + i]! * dy[p * 2 + o]!;
    expect(relativeError(got as Float32Array, want)).toBeLessThan(1e-5);
  });

  it('leaks neither tensors nor wasm buffers over repeated calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(randn([2, 8, 8, 3], 5), [2, 8, 8, 3]);
    const dy = tf.tensor(randn([2, 4, 4, 4], 6), [2, 4, 4, 4]);
    const run = () => tf.tidy(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy },
      { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] } as unknown as tf.NamedAttrMap) as tf.Tensor).dispose();
    run();
    const before = tf.memory();
    for (let i = 0; i < 5; i++) run();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([x, dy]);
  });
});
