// The page behind src/kernels/wasm/wasmKernels.browser.test.ts: the project's
// own wasm kernels loaded in a page, exposed through `window.wasmKernelsTest`.
import * as tf from '@tensorflow/tfjs';
import type { InitBackendOptions } from '../src/backendTypes.js';
import { initBackend } from '../src/initBackend.js';
import { setWinogradTile, usesWinograd, type WinogradTile } from '../src/kernels/Conv2D.js';
import { useWasmVariant, wasmKernels, type WasmVariant } from '../src/kernels/wasm/loader.js';
import { randn, relativeError, runOn } from '../src/testing/onBackends.js';

/** a·x + y through the 'axpy' module in `variant`; the largest error against float64. */
function axpy(variant: WasmVariant): number {
  const m = wasmKernels()!.module('axpy', variant);
  const n = 4096;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const y = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
  const base = m.reserve(8 * n);
  m.f32().set(x, base / 4);
  m.f32().set(y, base / 4 + n);
  m.exports.axpy!(n, 0.5, base, base + 4 * n);
  const got = m.f32().subarray(base / 4 + n, base / 4 + 2 * n);
  let err = 0;
  for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(got[i]! - (0.5 * x[i]! + y[i]!)));
  return err;
}

/**
 * A 3×3 stride-1 convolution (tiles crossing the edges) by Winograd on wasm
 * against the cpu backend: the largest error relative to max(1, max|cpu|).
 */
async function conv(variant: WasmVariant, tile: WinogradTile): Promise<{ error: number; winograd: boolean }> {
  const xs: [number, number, number, number] = [2, 9, 11, 12];
  const ws: [number, number, number, number] = [3, 3, 12, 8];
  const xd = randn(xs, 1);
  const wd = randn(ws, 2);
  const f = () => tf.conv2d(tf.tensor4d(xd, xs), tf.tensor4d(wd, ws), 1, 'same');
  const [want] = await runOn('cpu', f);
  useWasmVariant(variant);
  setWinogradTile(tile);
  const [got] = await runOn('wasm', f);
  return { error: relativeError(got!, want!), winograd: usesWinograd(xs, ws, { strides: 1, dilations: 1, dataFormat: 'NHWC' }) && wasmKernels()!.module('winograd', variant).memory.buffer.byteLength > 0 };
}

const api = {
  conv,
  async init(o: InitBackendOptions) {
    const info = await initBackend({ ...o, quiet: true });
    const k = wasmKernels();
    return { info, variant: k?.variant, available: k?.available ?? [] };
  },
  axpy,
  backend: () => tf.getBackend(),
};
declare global {
  var wasmKernelsTest: typeof api | undefined;
}
globalThis.wasmKernelsTest = api;
document.body.dataset.ready = 'true';
