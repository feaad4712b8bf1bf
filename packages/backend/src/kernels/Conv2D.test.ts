import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { randn, runOn } from '../testing/onBackends.js';
import { setWinogradTile, usesWinograd, type WinogradTile } from './Conv2D.js';
import { useWasmVariant, wasmKernels, type WasmVariant } from './wasm/loader.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});
afterAll(() => {
  setWinogradTile(4);
  useWasmVariant(wasmKernels()!.available.includes('relaxed') ? 'relaxed' : 'simd');
});

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Case { name: string; x: [number, number, number, number]; co: number; pad: Pad }
const cases: Case[] = [
  // mnist-ref's 3×3 stride-1 convolutions (batch 32 as the trainer's micro-batch)
  { name: 'mnist-ref 28² 32→32', x: [32, 28, 28, 32], co: 32, pad: 'same' },
  { name: 'mnist-ref 14² 64→64', x: [32, 14, 14, 64], co: 64, pad: 'same' },
  { name: 'mnist-ref 7² 64→64', x: [32, 7, 7, 64], co: 64, pad: 'same' },
  { name: 'mnist-ref 14² 32→64', x: [4, 14, 14, 32], co: 64, pad: 'same' },
  { name: 'mnist-ref 14² 128→64 (skip concat), batch 1', x: [1, 14, 14, 128], co: 64, pad: 'same' },
  { name: 'mnist-ref conv_in 1→32', x: [32, 28, 28, 1], co: 32, pad: 'same' },
  { name: 'mnist-ref conv_out 32→1, batch 1', x: [1, 28, 28, 32], co: 1, pad: 'same' },
  // mnist-tiny's
  { name: 'mnist-tiny 28² 8→8', x: [32, 28, 28, 8], co: 8, pad: 'same' },
  { name: 'mnist-tiny 14² 16→16', x: [8, 14, 14, 16], co: 16, pad: 'same' },
  { name: 'mnist-tiny 14² 8→16', x: [2, 14, 14, 8], co: 16, pad: 'same' },
  // tiles crossing the edges, odd channel counts, every padding
  { name: '7×7 valid, 12→8', x: [3, 7, 7, 12], co: 8, pad: 'valid' },
  { name: '5×9 same, 6→10', x: [2, 5, 9, 6], co: 10, pad: 'same' },
  { name: '5×9 valid, 3→5', x: [2, 5, 9, 3], co: 5, pad: 'valid' },
  { name: '5×9 valid, 5→3', x: [2, 5, 9, 5], co: 3, pad: 'valid' },
  { name: '5×9 explicit pad 2', x: [2, 5, 9, 4], co: 4, pad: 2 },
  { name: '6×8 explicit asymmetric pad', x: [1, 6, 8, 5], co: 3, pad: [[0, 0], [0, 2], [1, 0], [0, 0]] },
  { name: '2×3 input, smaller than a tile', x: [1, 2, 3, 4], co: 4, pad: 'same' },
  { name: '3×3 valid: one output pixel', x: [2, 3, 3, 4], co: 8, pad: 'valid' },
];
const combos: [WasmVariant, WinogradTile][] = [['simd', 2], ['simd', 4], ['relaxed', 2], ['relaxed', 4]];

/** Largest |a − b| over the largest |b|. */
function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return d / s;
}


describe('Conv2D on wasm: Winograd 3×3 stride 1 against the cpu backend', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const wShape: [number, number, number, number] = [3, 3, c.x[3], c.co];
      const xd = randn(c.x, 1);
      const wd = randn(wShape, 2).map((v) => v / Math.sqrt(9 * c.x[3]));
      const f = () => tf.conv2d(tf.tensor4d(xd, c.x), tf.tensor4d(wd, wShape), 1, c.pad as 'same');
      // 1–3 input channels (conv_in) go to XNNPACK: faster there.
      expect(usesWinograd(c.x, wShape, { strides: 1, dilations: 1, dataFormat: 'NHWC' })).toBe(c.x[3] >= 4);
      const [want] = await runOn('cpu', f);
      for (const [variant, m] of combos) {
        useWasmVariant(variant);
        setWinogradTile(m);
        const [got] = await runOn('wasm', f);
        expect(relErr(got!, want!), `${variant} F(${m}×${m},3×3)`).toBeLessThan(m === 4 ? 1e-4 : 2e-5);
      }
    }, 60_000);
  }

  it('runs in the module: its memory grows on the first Winograd call, in each variant', async () => {
    const x = tf.tensor4d(randn([1, 6, 6, 4], 9), [1, 6, 6, 4]);
    const w = tf.tensor4d(randn([3, 3, 4, 4], 10), [3, 3, 4, 4]);
    for (const variant of ['simd', 'relaxed'] as const) {
      useWasmVariant(variant);
      tf.conv2d(x, w, 1, 'same').dispose();
      expect(wasmKernels()!.module('winograd', variant).memory.buffer.byteLength).toBeGreaterThan(0);
    }
    tf.dispose([x, w]);
  });

  it('delegates other geometries (stride 2, 1×1, dilation 2, 5×5) to tfjs’ own kernel', async () => {
    const xd = randn([2, 9, 8, 4], 3);
    const geoms: [number[], number, number, 'same' | 'valid'][] = [
      [[3, 3, 4, 5], 2, 1, 'same'], [[1, 1, 4, 5], 1, 1, 'valid'], [[3, 3, 4, 5], 1, 2, 'same'], [[5, 5, 4, 3], 1, 1, 'same'],
    ];
    for (const [ws, s, d, p] of geoms) {
      const wd = randn(ws, 4);
      const f = () => tf.conv2d(tf.tensor4d(xd, [2, 9, 8, 4]), tf.tensor4d(wd, ws as [number, number, number, number]), s, p, 'NHWC', d);
      const [want] = await runOn('cpu', f);
      const [got] = await runOn('wasm', f);
      expect(relErr(got!, want!), `${ws} stride ${s} dilation ${d}`).toBeLessThan(1e-5);
    }
  });

  it('the input gradient of a stride-1 3×3 convolution (Winograd with the flipped filter) matches cpu', async () => {
    // dy with 1 channel: a forward convolution of 1 input channel, on XNNPACK.
    for (const [xs, co, pad] of [[[32, 14, 14, 64], 64, 'same'], [[2, 5, 9, 6], 10, 'valid'], [[4, 7, 7, 32], 1, 'same'], [[2, 6, 5, 8], 4, 2], [[1, 9, 7, 5], 7, 'same']] as const) {
      const ws = [3, 3, xs[3], co];
      const p = pad === 'same' ? 1 : pad === 'valid' ? 0 : pad;
      const dyShape = [xs[0], xs[1] + 2 * p - 2, xs[2] + 2 * p - 2, co];
      const dyd = randn(dyShape, 5);
      const wd = randn(ws, 6);
      const f = () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: tf.tensor(dyd, dyShape), filter: tf.tensor(wd, ws) },
        { strides: [1, 1], pad, dataFormat: 'NHWC', inputShape: xs } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const [want] = await runOn('cpu', f);
      for (const [variant, m] of combos) {
        useWasmVariant(variant);
        setWinogradTile(m);
        const [got] = await runOn('wasm', f);
        expect(relErr(got!, want!), `${xs} ${variant} F(${m})`).toBeLessThan(1e-4);
      }
    }
  }, 60_000);

  it('leaks no tensors or buffers over repeated calls, nor when a call throws', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(randn([2, 9, 7, 8], 7), [2, 9, 7, 8]);
    const w = tf.tensor4d(randn([3, 3, 8, 6], 8), [3, 3, 8, 6]);
    const run = () => tf.tidy(() => tf.conv2d(x, w, 1, 'same')).dispose();
    run();
    const before = tf.memory();
    for (let i = 0; i < 5; i++) run();
    expect(() => tf.tidy(() => tf.conv2d(x, tf.zeros([3, 3, 5, 6]) as tf.Tensor4D, 1, 'same'))).toThrow(/depth of input \(8\) must match input depth for filter 5/);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([x, w]);
  });

  it('setWinogradTile names what it accepts', () => {
    expect(() => setWinogradTile(3 as never)).toThrow('tile must be 2 or 4 (F(2×2,3×3) or F(4×4,3×3)); got 3');
  });
});
