// The page behind src/kernels/wasm/wasmKernels.browser.test.ts: the project's
// own wasm kernels loaded in a page, exposed through `window.wasmKernelsTest`.
import * as tf from '@tensorflow/tfjs';
import { initBackend, type InitBackendOptions } from '../src/initBackend.js';
import { wasmKernels, type WasmVariant } from '../src/kernels/wasm/loader.js';

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

const api = {
  async init(o: InitBackendOptions) {
    const info = await initBackend({ ...o, quiet: true });
    const k = wasmKernels();
    return { info, variant: k?.variant, available: k?.available ?? [] };
  },
  axpy,
  backend: () => tf.getBackend(),
};
(globalThis as unknown as { wasmKernelsTest: typeof api }).wasmKernelsTest = api;
document.body.dataset.ready = 'true';
