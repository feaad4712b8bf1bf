import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { randn, relativeError, runOn } from '../testing/onBackends.js';
import { conv2DBackpropFilterWinograd, type FilterGradTile } from './Conv2DBackpropFilter.js';
import { useWasmVariant, wasmKernels, type WasmVariant } from './wasm/loader.js';
import { filterGradDirect } from './winogradFilterGradReference.js';

let defaultVariant: WasmVariant;
beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
  defaultVariant = wasmKernels()!.variant;
});
afterAll(() => useWasmVariant(defaultVariant));

interface Geometry { b: number; h: number; w: number; ci: number; co: number; pad: 'same' | 'valid' | number }

const outSize = (g: Geometry): [number, number] => {
  const p = g.pad === 'same' ? 1 : g.pad === 'valid' ? 0 : g.pad;
  return [g.h + 2 * p - 2, g.w + 2 * p - 2];
};

/** The Winograd kernel called directly on wasm (tile and build chosen), read back and freed. */
function winograd(x: Float32Array, dy: Float32Array, g: Geometry, tile: FilterGradTile): Float32Array {
  const [oh, ow] = outSize(g);
  const backend = tf.backend();
  const inputs = { x: tf.tensor(x, [g.b, g.h, g.w, g.ci]), dy: tf.tensor(dy, [g.b, oh, ow, g.co]) };
  try {
    const out = conv2DBackpropFilterWinograd({
      inputs, backend, attrs: { strides: [1, 1], pad: g.pad, dataFormat: 'NHWC', filterShape: [3, 3, g.ci, g.co] } as unknown as tf.NamedAttrMap,
    }, tile);
    if (out === undefined) throw new Error('the Winograd kernel declined a 3×3 stride-1 geometry');
    const data = (backend.readSync(out.dataId) as Float32Array).slice();
    backend.disposeData(out.dataId);
    return data;
  } finally {
    tf.dispose(Object.values(inputs));
  }
}

/** tfjs' cpu backend's own Conv2DBackpropFilter. */
async function cpuFilterGrad(x: Float32Array, dy: Float32Array, g: Geometry): Promise<Float32Array> {
  const [oh, ow] = outSize(g);
  const [out] = await runOn('cpu', () => tf.engine().runKernel(tf.Conv2DBackpropFilter,
    { x: tf.tensor(x, [g.b, g.h, g.w, g.ci]), dy: tf.tensor(dy, [g.b, oh, ow, g.co]) },
    { strides: [1, 1], pad: g.pad, dataFormat: 'NHWC', filterShape: [3, 3, g.ci, g.co] } as unknown as tf.NamedAttrMap) as tf.Tensor);
  return out!;
}

function direct(x: Float32Array, dy: Float32Array, g: Geometry): Float32Array {
  const [oh, ow] = outSize(g);
  const p = g.pad === 'same' ? 1 : g.pad === 'valid' ? 0 : g.pad;
  return Float32Array.from(filterGradDirect(x, dy, {
    batch: g.b, inHeight: g.h, inWidth: g.w, inChannels: g.ci, outHeight: oh, outWidth: ow, outChannels: g.co, padTop: p, padLeft: p,
  }));
}

const variants = (): WasmVariant[] => wasmKernels()!.available;
const tiles: FilterGradTile[] = [2, 4];

describe('Winograd Conv2DBackpropFilter on wasm', () => {
  it('loads in both builds where the engine has relaxed SIMD (Node 20 after the flag)', () => {
    expect(variants()).toEqual(expect.arrayContaining(['simd', 'relaxed']));
  });

  // batch 1, the U-Net's (mnist-ref) layers and odd sizes: against tfjs' cpu kernel and the direct sum
  const small: [string, Geometry][] = [
    ['28×28 32→32 same', { b: 1, h: 28, w: 28, ci: 32, co: 32, pad: 'same' }],
    ['14×14 64→64 same', { b: 1, h: 14, w: 14, ci: 64, co: 64, pad: 'same' }],
    ['7×7 64→64 same', { b: 1, h: 7, w: 7, ci: 64, co: 64, pad: 'same' }],
    ['14×14 32→64 same (channels change)', { b: 1, h: 14, w: 14, ci: 32, co: 64, pad: 'same' }],
    ['28×28 1→32 same (conv_in)', { b: 1, h: 28, w: 28, ci: 1, co: 32, pad: 'same' }],
    ['28×28 32→1 same (conv_out)', { b: 1, h: 28, w: 28, ci: 32, co: 1, pad: 'same' }],
    ['5×9 3→5 same, batch 2', { b: 2, h: 5, w: 9, ci: 3, co: 5, pad: 'same' }],
    ['5×9 3→5 valid, batch 2', { b: 2, h: 5, w: 9, ci: 3, co: 5, pad: 'valid' }],
    ['7×7 6→10 valid, batch 3', { b: 3, h: 7, w: 7, ci: 6, co: 10, pad: 'valid' }],
    ['6×5 4→9 explicit pad 2', { b: 2, h: 6, w: 5, ci: 4, co: 9, pad: 2 }],
    ['3×3 2→3 valid (one output pixel)', { b: 2, h: 3, w: 3, ci: 2, co: 3, pad: 'valid' }],
    ['1×2 2→3 same', { b: 2, h: 1, w: 2, ci: 2, co: 3, pad: 'same' }],
  ];
  for (const [name, g] of small) {
    it(`matches tfjs' cpu kernel and the direct sum, both tiles and builds: ${name}`, async () => {
      const [oh, ow] = outSize(g);
      const x = randn([g.b, g.h, g.w, g.ci], g.h * 7 + g.ci);
      const dy = randn([g.b, oh, ow, g.co], g.w * 5 + g.co);
      const cpu = await cpuFilterGrad(x, dy, g);
      const sum = direct(x, dy, g);
      expect(relativeError(cpu, sum)).toBeLessThan(1e-5);
      await tf.setBackend('wasm');
      for (const variant of variants()) {
        useWasmVariant(variant);
        for (const tile of tiles) {
          const got = winograd(x, dy, g, tile);
          expect(relativeError(got, cpu), `${variant}, F(3×3, ${tile}×${tile}) vs cpu`).toBeLessThan(2e-5);
          expect(relativeError(got, sum), `${variant}, F(3×3, ${tile}×${tile}) vs direct sum`).toBeLessThan(2e-5);
        }
      }
    });
  }

  // batch 32 (what the trainer runs): tfjs' cpu kernel takes minutes here, so the closed form alone.
  // Each tap sums B·OH·OW = 25,088 products in fp32; F(3×3, 4×4)'s transforms (entries up to 5 in Bᵀ,
  // 8 in G) scale the rounding: measured 2.4e-5 (F(3×3, 2×2): 3e-6; the XNNPACK form: 5e-6).
  const big: [string, Geometry][] = [
    ['28×28 32→32 same', { b: 32, h: 28, w: 28, ci: 32, co: 32, pad: 'same' }],
    ['14×14 64→64 same', { b: 32, h: 14, w: 14, ci: 64, co: 64, pad: 'same' }],
    ['7×7 64→64 same', { b: 32, h: 7, w: 7, ci: 64, co: 64, pad: 'same' }],
    ['28×28 64→32 same (skip concat)', { b: 32, h: 28, w: 28, ci: 64, co: 32, pad: 'same' }],
    ['28×28 1→32 same', { b: 32, h: 28, w: 28, ci: 1, co: 32, pad: 'same' }],
    ['28×28 32→1 same', { b: 32, h: 28, w: 28, ci: 32, co: 1, pad: 'same' }],
    ['7×7 64→64 valid', { b: 32, h: 7, w: 7, ci: 64, co: 64, pad: 'valid' }],
  ];
  for (const [name, g] of big) {
    it(`matches the direct sum at batch 32, both tiles and builds: ${name}`, async () => {
      await tf.setBackend('wasm');
      const [oh, ow] = outSize(g);
      const x = randn([g.b, g.h, g.w, g.ci], 11 + g.ci);
      const dy = randn([g.b, oh, ow, g.co], 13 + g.co);
      const sum = direct(x, dy, g);
      for (const variant of variants()) {
        useWasmVariant(variant);
        for (const tile of tiles) {
          expect(relativeError(winograd(x, dy, g, tile), sum), `${variant}, F(3×3, ${tile}×${tile})`).toBeLessThan(tile === 2 ? 1e-5 : 5e-5);
        }
      }
    }, 60_000);
  }

  it('is what tf.grad of conv2d uses for the filter on wasm, and equals cpu there', async () => {
    const xs = randn([2, 9, 7, 8], 21);
    const ws = randn([3, 3, 8, 12], 22);
    const dys = randn([2, 9, 7, 12], 23);
    const grad = () => tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(tf.tensor4d(xs, [2, 9, 7, 8]), w as tf.Tensor4D, 1, 'same'), tf.tensor(dys, [2, 9, 7, 12]))))(tf.tensor(ws, [3, 3, 8, 12]));
    const [want] = await runOn('cpu', grad);
    const [got] = await runOn('wasm', grad);
    expect(relativeError(got!, want!)).toBeLessThan(2e-5);
    expect(relativeError(got!, direct(xs, dys, { b: 2, h: 9, w: 7, ci: 8, co: 12, pad: 'same' }))).toBeLessThan(2e-5);
  });

  it('declines other geometries (stride 2, 1×1), which the other forms handle', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const x = tf.zeros([1, 8, 8, 4]);
    const dy4 = tf.zeros([1, 4, 4, 4]);
    const dy8 = tf.zeros([1, 8, 8, 4]);
    expect(conv2DBackpropFilterWinograd({ inputs: { x, dy: dy4 }, backend, attrs: { strides: [2, 2], pad: 'same', filterShape: [3, 3, 4, 4] } as unknown as tf.NamedAttrMap })).toBeUndefined();
    expect(conv2DBackpropFilterWinograd({ inputs: { x, dy: dy8 }, backend, attrs: { strides: [1, 1], pad: 'same', filterShape: [1, 1, 4, 4] } as unknown as tf.NamedAttrMap })).toBeUndefined();
    tf.dispose([x, dy4, dy8]);
  });

  it('leaks no tensors or buffers over repeated calls, nor when a call throws', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(randn([4, 14, 14, 16], 31), [4, 14, 14, 16]);
    const dy = tf.tensor(randn([4, 14, 14, 8], 32), [4, 14, 14, 8]);
    const badDy = tf.zeros([4, 13, 14, 8]);
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 8] } as unknown as tf.NamedAttrMap;
    const run = () => tf.tidy(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor).dispose();
    run();
    const before = tf.memory();
    for (let i = 0; i < 5; i++) run();
    expect(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: badDy }, attrs)).toThrow(/dy must have shape \[4, 14, 14, 8\]/);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([x, dy, badDy]);
  });

  it('rejects a tile other than 2 or 4, naming the parameter', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 4, 4, 1]);
    const dy = tf.zeros([1, 4, 4, 1]);
    expect(() => conv2DBackpropFilterWinograd({ inputs: { x, dy }, backend: tf.backend(), attrs: { strides: [1, 1], pad: 'same', filterShape: [3, 3, 1, 1] } as unknown as tf.NamedAttrMap }, 3 as FilterGradTile))
      .toThrow(/tile must be 2 or 4/);
    tf.dispose([x, dy]);
  });
});
