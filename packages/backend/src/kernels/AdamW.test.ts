import * as tf from '@tensorflow/tfjs';
import { ADAMW_KERNEL, createAdamW, hasFusedAdamW, type AdamWOptions } from '@tfjs-diffusion/regularizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { randn, relativeError } from '../testing/onBackends.js';
import { useWasmVariant, wasmKernels, type WasmKernels } from './wasm/loader.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

// Loshchilov & Hutter's AdamW (decoupled) or Adam with L2, bias-corrected as torch.optim, in float64.
function adamRef(
  theta: Float32Array, grads: Float32Array[], o: { lr: number; b1: number; b2: number; eps: number; wd: number; mode: 'decoupled' | 'l2' },
): Float64Array {
  const th = Float64Array.from(theta);
  const m = new Float64Array(th.length);
  const v = new Float64Array(th.length);
  grads.forEach((g0, k) => {
    const t = k + 1;
    for (let i = 0; i < th.length; i++) {
      let g = g0[i]!;
      if (o.mode === 'l2') g += o.wd * th[i]!;
      else th[i]! *= 1 - o.lr * o.wd;
      m[i] = o.b1 * m[i]! + (1 - o.b1) * g;
      v[i] = o.b2 * v[i]! + (1 - o.b2) * g * g;
      th[i]! -= (o.lr * (m[i]! / (1 - o.b1 ** t))) / (Math.sqrt(v[i]! / (1 - o.b2 ** t)) + o.eps);
    }
  });
  return th;
}

const shapes: Record<string, number[]> = {
  'down.0.conv.kernel': [3, 3, 4, 8], 'down.0.conv.bias': [8], 'down.0.norm.gamma': [8], 'out.kernel': [5, 3], 'frozen.kernel': [2, 2],
};
const names = Object.keys(shapes);
const init = names.map((n, i) => randn(shapes[n]!, 10 + i));
const gradSteps = [0, 1, 2].map((s) => names.map((n, i) => randn(shapes[n]!, 100 * (s + 1) + i).map((v) => v * (i + 1) * 0.1)));

/** Runs `f` with the fused kernel's JavaScript loop instead of the SIMD module. */
function withoutSimdModule<T>(f: () => T): T {
  const k = wasmKernels()!;
  const module = k.module;
  k.module = (() => undefined) as unknown as WasmKernels['module'];
  try {
    return f();
  } finally {
    k.module = module;
  }
}

/** Three steps on wasm, fused or not; 'frozen.kernel' never gets a gradient. */
function run(fused: boolean, opts: AdamWOptions): Float32Array[] {
  const saved = tf.getKernel(ADAMW_KERNEL, 'wasm')!;
  if (!fused) tf.unregisterKernel(ADAMW_KERNEL, 'wasm');
  try {
    expect(hasFusedAdamW()).toBe(fused);
    const vars = names.map((n, i) => tf.tidy(() => tf.variable(tf.tensor(init[i]!, shapes[n]))));
    const opt = createAdamW(names.map((name, i) => ({ name, variable: vars[i]! })), opts);
    const before = tf.memory();
    for (const step of gradSteps) {
      const grads: Record<string, tf.Tensor> = {};
      names.forEach((n, i) => { if (n !== 'frozen.kernel') grads[n] = tf.tensor(step[i]!, shapes[n]); });
      opt.apply(grads);
      tf.dispose(Object.values(grads));
    }
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    const out = vars.map((v) => v.dataSync().slice() as Float32Array);
    opt.dispose();
    tf.dispose(vars);
    return out;
  } finally {
    if (!fused) tf.registerKernel(saved);
  }
}

describe('the fused AdamW kernel on wasm', () => {
  it('is registered by initBackend', async () => {
    await tf.setBackend('wasm');
    expect(hasFusedAdamW()).toBe(true);
    await tf.setBackend('cpu');
    expect(hasFusedAdamW()).toBe(false);
    await tf.setBackend('wasm');
  });

  for (const mode of ['decoupled', 'l2'] as const) {
    it(`gives the written-out update (${mode}) with no-decay names and a learning-rate group, as the unfused ops`, async () => {
      await tf.setBackend('wasm');
      const cfg = { lr: 0.05, b1: 0.9, b2: 0.99, eps: 1e-3, wd: 0.3 };
      const opts: AdamWOptions = {
        learningRate: cfg.lr, beta1: cfg.b1, beta2: cfg.b2, epsilon: cfg.eps, weightDecay: cfg.wd, decayMode: mode,
        noDecay: ['*.bias', '*.gamma'], groups: [{ match: ['out.*'], learningRateScale: 0.5, weightDecay: 0.1 }],
      };
      const unfused = run(false, opts);
      const paths: [string, () => Float32Array[]][] = [
        ...wasmKernels()!.available.map((v) => [`SIMD ${v}`, () => { useWasmVariant(v); return run(true, opts); }] as [string, () => Float32Array[]]),
        ['JavaScript', () => withoutSimdModule(() => run(true, opts))],
      ];
      for (const [path, f] of paths) {
      const fused = f();
      names.forEach((n, i) => {
        const decay = n.endsWith('.bias') || n.endsWith('.gamma') ? 0 : n.startsWith('out.') ? 0.1 : cfg.wd;
        const lr = n.startsWith('out.') ? cfg.lr * 0.5 : cfg.lr;
        const want = n === 'frozen.kernel' ? Float64Array.from(init[i]!) : adamRef(init[i]!, gradSteps.map((s) => s[i]!), { ...cfg, lr, wd: decay, mode });
        for (let j = 0; j < want.length; j++) expect(fused[i]![j]!, `${path}: ${n}[${j}]`).toBeCloseTo(want[j]!, 5);
        expect(relativeError(fused[i]!, unfused[i]!), `${path}: ${n}`).toBeLessThan(1e-6);
      });
      }
      useWasmVariant(wasmKernels()!.available.at(-1)!);
    });
  }

  it('splits tensors over calls of the SIMD module (4M values each) without changing the update', async () => {
    await tf.setBackend('wasm');
    const sizes = [7, (1 << 22) + 5, 3];
    // cheap deterministic values (tfjs' seeded normal generator is slow for 4M values)
    const data = sizes.map((n, i) => Float32Array.from({ length: n }, (_, j) => Math.sin(j * 0.37 + i)));
    const grads = sizes.map((n, i) => Float32Array.from({ length: n }, (_, j) => 0.1 * Math.cos(j * 1.13 + i)));
    const runOnce = (fused: boolean) => {
      const saved = tf.getKernel(ADAMW_KERNEL, 'wasm')!;
      if (!fused) tf.unregisterKernel(ADAMW_KERNEL, 'wasm');
      try {
        const vars = data.map((d) => tf.tidy(() => tf.variable(tf.tensor1d(d))));
        const opt = createAdamW(vars.map((variable, i) => ({ name: `w${i}`, variable })), { learningRate: 0.01, weightDecay: 0.1 });
        const g: Record<string, tf.Tensor> = {};
        grads.forEach((d, i) => (g[`w${i}`] = tf.tensor1d(d)));
        opt.apply(g);
        opt.apply(g);
        const out = vars.map((v) => v.dataSync().slice() as Float32Array);
        opt.dispose();
        tf.dispose([...vars, ...Object.values(g)]);
        return out;
      } finally {
        if (!fused) tf.registerKernel(saved);
      }
    };
    const fused = runOnce(true);
    const unfused = runOnce(false);
    sizes.forEach((_, i) => expect(relativeError(fused[i]!, unfused[i]!), `w${i}`).toBeLessThan(1e-6));
    // around the chunk boundary (value 4,194,296 of w1 is the first of the second call)
    for (const j of [0, (1 << 22) - 9, (1 << 22) - 8, (1 << 22) + 4]) {
      const want = adamRef(data[1]!.subarray(j, j + 1), [grads[1]!.subarray(j, j + 1), grads[1]!.subarray(j, j + 1)], { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, mode: 'decoupled' });
      expect(fused[1]![j]!).toBeCloseTo(want[0]!, 5);
    }
  }, 60_000);

  it('refuses a gradient of the wrong shape before touching anything, leaking nothing', async () => {
    await tf.setBackend('wasm');
    const w = tf.variable(tf.ones([3, 2]));
    const opt = createAdamW([{ name: 'w', variable: w }]);
    const g = tf.ones([2, 3]);
    const before = tf.memory();
    expect(() => opt.apply({ w: g })).toThrow(/gradient of 'w' has shape \[2, 3\]; the parameter has \[3, 2\]/);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    expect(opt.step).toBe(0);
    expect(Array.from(w.dataSync())).toEqual([1, 1, 1, 1, 1, 1]);
    opt.dispose();
    tf.dispose([w, g]);
  });

  it('the kernel names a missing input and mismatched shapes', async () => {
    await tf.setBackend('wasm');
    const p = tf.ones([2]);
    const attrs = { count: 1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, invSqrtBc2: 1, stepSize: [1], keep: [1], l2: [0] };
    expect(() => tf.engine().runKernel(ADAMW_KERNEL, { p0: p, m0: p, v0: p }, attrs)).toThrow(/input 'g0' is missing/);
    const g = tf.ones([3]);
    expect(() => tf.engine().runKernel(ADAMW_KERNEL, { p0: p, m0: p, v0: p, g0: g }, attrs)).toThrow(/g0 has shape \[3\]; p0 has \[2\]/);
    tf.dispose([p, g]);
  });
});
