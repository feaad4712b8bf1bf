import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { randn, relativeError, runOn } from '../testing/onBackends.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

const pairs: [number[], number[]][] = [
  [[3, 5, 4, 2, 3], [3, 1, 1, 2, 1]], // group norm
  [[3, 1, 1, 2, 1], [3, 5, 4, 2, 3]], // the small one first
  [[2, 5, 6, 4], [2, 1, 1, 4]],       // per-sample, per-channel embedding
  [[2, 5, 6, 4], [5, 1, 4]],          // lower rank
  [[2, 3, 4, 5, 6], [1, 3, 1, 5, 1]], // five runs
  [[2, 5, 6, 4], [4]],                // two runs: left to wasm
  [[2, 5, 6, 4], [1]],                // scalar-like: left to wasm
  [[2, 5, 6, 4], [2, 5, 6, 4]],       // same shape: left to wasm
  [[4, 1, 3], [1, 5, 1]],             // both broadcast: left to wasm
];

describe('Add, Sub, Multiply, RealDiv on wasm', () => {
  for (const [name, op] of [['Add', tf.add], ['Sub', tf.sub], ['Multiply', tf.mul], ['RealDiv', tf.div]] as const) {
    for (const [sa, sb] of pairs) {
      it(`${name} [${sa}] ⊙ [${sb}] matches the cpu backend`, async () => {
        const a = randn(sa, 31);
        const b = randn(sb, 32).map((v) => (name === 'RealDiv' ? 1 + Math.abs(v) : v));
        const f = () => op(tf.tensor(a, sa), tf.tensor(b, sb));
        const [want] = await runOn('cpu', f);
        const [got] = await runOn('wasm', f);
        expect(relativeError(got!, want!)).toBeLessThan(1e-6);
      });
    }
  }

  it('still handles int32 operands (through wasm\'s own kernel)', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() => tf.mul(tf.tensor3d([1, 2, 3, 4], [2, 2, 1], 'int32'), tf.tensor3d([5, 6], [2, 1, 1], 'int32')));
    expect(Array.from(out.dataSync())).toEqual([5, 10, 18, 24]);
    out.dispose();
  });
});
