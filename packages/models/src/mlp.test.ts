import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MLPDenoiser } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('MLPDenoiser', () => {
  it('maps [B,1,1,D] to [B,1,1,D], conditions on t and class, and trains every parameter', () => {
    const m = new MLPDenoiser({ dim: 5, hidden: 16, layers: 2, numClasses: 2 });
    const x = tf.randomNormal([3, 1, 1, 5], 0, 1, 'float32', 1) as tf.Tensor4D;
    const out = (t: number, c?: number) =>
      m.predict(x, tf.fill([3], t) as tf.Tensor1D, c === undefined ? undefined : { classLabels: tf.fill([3], c, 'int32') as tf.Tensor1D }).dataSync();
    expect(out(1).length).toBe(15);
    expect(out(1)).not.toEqual(out(500));
    expect(out(1, 0)).not.toEqual(out(1, 1));
    expect(out(1)).toEqual(out(1, 2));
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(m.predict(x, tf.fill([3], 3) as tf.Tensor1D))) as tf.Scalar);
    expect(Object.values(grads).every((g) => tf.max(tf.abs(g)).dataSync()[0]! > 0)).toBe(true);
    expect(Object.keys(grads).length).toBe(m.parameters().length);
    tf.dispose(Object.values(grads));
    expect(() => m.predict(tf.zeros([1, 2, 2, 5]) as tf.Tensor4D, tf.zeros([1]) as tf.Tensor1D)).toThrow(/\[batch, 1, 1, 5\]/);
    m.dispose();
    x.dispose();
  });

  it('without time conditioning the output does not depend on t', () => {
    const m = new MLPDenoiser({ dim: 4, hidden: 8, timeConditioning: false, predictionType: 'sample' });
    const x = tf.randomNormal([2, 1, 1, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    expect(m.prediction).toBe('sample');
    expect(m.predict(x, tf.tensor1d([0, 0])).dataSync()).toEqual(m.predict(x, tf.tensor1d([999, 3])).dataSync());
    m.dispose();
    x.dispose();
  });
});
