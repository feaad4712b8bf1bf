import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { runOn } from '../testing/onBackends.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

describe('Cast and Identity on wasm', () => {
  const values = [0, 0.5, -0.5, 1.75, -2.5, 3, 0, 1e-30, -7.9];

  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    for (const from of ['float32', 'int32', 'bool'] as const) {
      it(`casts ${from} to ${dtype} as the cpu backend does`, async () => {
        const f = () => tf.cast(tf.cast(tf.tensor1d(values), from), dtype);
        const [want] = await runOn('cpu', f);
        const [got] = await runOn('wasm', f);
        expect(Array.from(got!)).toEqual(Array.from(want!));
      });
    }
  }

  it('a same-dtype cast and a clone share the buffer yet stay valid after the source is disposed', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const c = tf.cast(x, 'float32');
    const k = tf.clone(x);
    expect(tf.memory().numDataBuffers - before.numDataBuffers).toBe(1); // one buffer for the three tensors
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
    c.dispose();
    expect(Array.from(k.dataSync())).toEqual([1, 2, 3, 4]);
    k.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
  });

  it('a variable updated after cloning does not change the clone', async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, snapshot]);
  });
});
