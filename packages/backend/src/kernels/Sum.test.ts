import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { randn, relativeError, runOn } from '../testing/onBackends.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

const cases: [number[], number[]][] = [
  [[4, 5, 6, 3], [0, 1, 2]],          // bias gradient
  [[3, 5, 4, 2, 3], [1, 2, 4]],       // group norm moments
  [[3, 5, 4, 2, 3], [0, 3]],
  [[4, 5, 6, 3], [0]],
  [[4, 1, 6, 3], [0, 2]],             // a size-1 axis among them
  [[4, 5, 6, 3], [3]],                // innermost: wasm's own
  [[4, 5, 6, 3], [1, 2, 3]],          // innermost: wasm's own
  [[4, 5, 6, 3], [-1, -4]],
];

describe('Sum and Mean on wasm', () => {
  for (const [name, op] of [['Sum', tf.sum], ['Mean', tf.mean]] as const) {
    for (const [shape, axes] of cases) {
      for (const keepDims of [false, true]) {
        it(`${name} of [${shape}] over [${axes}]${keepDims ? ', keepDims' : ''} matches the cpu backend`, async () => {
          const x = randn(shape, 41);
          const f = () => op(tf.tensor(x, shape), axes, keepDims);
          const want = await runOn('cpu', f);
          const got = await runOn('wasm', f);
          expect(relativeError(got[0]!, want[0]!)).toBeLessThan(1e-5);
          await tf.setBackend('wasm');
          const shapeOut = tf.tidy(() => f().shape);
          await tf.setBackend('cpu');
          expect(shapeOut).toEqual(tf.tidy(() => f().shape));
        });
      }
    }
  }

  it('sums int32 through wasm\'s own kernel', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() => tf.sum(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], 'int32'), [0, 1]));
    expect(out.dtype).toBe('int32');
    expect(Array.from(out.dataSync())).toEqual([16, 20]);
    out.dispose();
  });
});
