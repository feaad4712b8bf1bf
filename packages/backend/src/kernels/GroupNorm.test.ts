import * as tf from '@tensorflow/tfjs';
import {
  GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, groupNormComposite, groupNormOp, hasFusedGroupNorm, UNet, unetPreset,
} from '@tfjs-diffusion/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../initBackend.js';
import { randn, relativeError, runOn } from '../testing/onBackends.js';
import { groupNormBackward, groupNormForward } from './groupNormMath.js';
import { useWasmVariant, wasmKernels } from './wasm/loader.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

interface Case { shape: number[]; groups: number; silu: boolean; x: Float32Array; gamma: Float32Array; beta: Float32Array; dy: Float32Array }

function makeCase(shape: number[], groups: number, silu: boolean, seed: number): Case {
  const c = shape[3]!;
  const x = randn(shape, seed);
  // a shifted, scaled input: the statistics must not lose precision to a large mean
  for (let i = 0; i < x.length; i++) x[i] = 3 + 2 * x[i]! * (1 + (i % c) / c);
  return { shape, groups, silu, x, gamma: randn([c], seed + 1).map((v) => 1 + 0.3 * v), beta: randn([c], seed + 2), dy: randn(shape, seed + 3) };
}

/** y and the three gradients of Σ y·dy, by whichever path groupNormOp takes on `backend`. */
async function fwdBwd(backend: string, k: Case, composite = false) {
  const { shape, groups, silu, x, gamma, beta, dy } = k;
  const attrs = { groups, epsilon: 1e-5, silu };
  const op = composite ? groupNormComposite : groupNormOp;
  return runOn(backend, () => {
    const dyT = tf.tensor(dy!, shape);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => op(a as tf.Tensor4D, g, b, attrs);
    const y = f(tf.tensor(x!, shape), tf.tensor1d(gamma!), tf.tensor1d(beta!));
    const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), dyT)))([tf.tensor(x!, shape), tf.tensor1d(gamma!), tf.tensor1d(beta!)]);
    return [y, ...grads];
  });
}

// The U-Net's GroupNorm inputs: mnist-ref (8 groups) and mnist-tiny (4 groups), batch 32.
const shapes: [number[], number][] = [
  [[32, 28, 28, 32], 8], [[32, 14, 14, 64], 8], [[32, 7, 7, 64], 8], [[8, 14, 14, 96], 8], [[8, 28, 28, 96], 8],
  [[32, 28, 28, 8], 4], [[32, 14, 14, 16], 4], [[32, 7, 7, 32], 4], [[3, 5, 3, 6], 3], [[2, 4, 4, 8], 8],
];

describe('the fused GroupNorm(+SiLU) kernel on wasm', () => {
  it('is registered by initBackend and taken by groupNormOp', async () => {
    await tf.setBackend('wasm');
    expect(wasmKernels()?.available).toContain('simd');
    expect(tf.getKernel(GROUP_NORM_KERNEL, 'wasm')).toBeDefined();
    expect(tf.getKernel(GROUP_NORM_GRAD_KERNEL, 'wasm')).toBeDefined();
    expect(hasFusedGroupNorm()).toBe(true);
    await tf.setBackend('cpu');
    expect(hasFusedGroupNorm()).toBe(false);
  });

  for (const [shape, groups] of shapes) {
    for (const silu of [true, false]) {
      it(`gives y, dx, dγ, dβ of the tfjs ops on cpu: ${shape.join('×')}, ${groups} groups${silu ? ', SiLU' : ''}`, async () => {
        const k = makeCase(shape, groups, silu, shape.reduce((a, b) => a + b, 0));
        const want = await fwdBwd('cpu', k, true);
        const names = ['y', 'dx', 'dgamma', 'dbeta'];
        const check = (got: Float32Array[], path: string) =>
          names.forEach((n, i) => expect(relativeError(got[i]!, want[i]!), `${path}: ${n}`).toBeLessThan(2e-5));
        // the wasm SIMD module (both builds; channels not a multiple of 4 take the TypeScript kernels)
        for (const variant of wasmKernels()!.available) {
          useWasmVariant(variant);
          check(await fwdBwd('wasm', k), variant);
        }
        useWasmVariant(wasmKernels()!.available.at(-1)!);
        // the plain-TypeScript kernels
        const [b, h, w, c] = shape as [number, number, number, number];
        const d = { batch: b, pixels: h * w, channels: c, groups, epsilon: 1e-5, silu };
        const ts = [new Float32Array(k.x.length), new Float32Array(k.x.length), new Float32Array(c), new Float32Array(c)];
        groupNormForward(k.x, k.gamma, k.beta, ts[0]!, d);
        groupNormBackward(k.x, k.gamma, k.beta, k.dy, ts[1]!, ts[2]!, ts[3]!, d);
        check(ts, 'TypeScript');
      }, 60_000);
    }
  }

  it('keeps SiLU and its derivative right where z is far from 0 (γ = ±40, β = ±30)', async () => {
    const k = makeCase([2, 6, 6, 8], 4, true, 77);
    k.gamma = k.gamma.map((_, i) => (i % 2 ? 40 : -40));
    k.beta = k.beta.map((_, i) => (i % 3 ? 30 : -30));
    const want = await fwdBwd('cpu', k, true);
    const got = await fwdBwd('wasm', k);
    ['y', 'dx', 'dgamma', 'dbeta'].forEach((n, i) => expect(relativeError(got[i]!, want[i]!), n).toBeLessThan(2e-5));
  });

  it('the plain-TypeScript reference gives the closed form on a tiny case', () => {
    // one sample, one group of 4 values: x = [1, 2, 3, 4], μ = 2.5, σ² = 1.25
    const x = new Float32Array([1, 2, 3, 4]);
    const gamma = new Float32Array([2]);
    const beta = new Float32Array([0.5]);
    const y = new Float32Array(4);
    const d = { batch: 1, pixels: 4, channels: 1, groups: 1, epsilon: 1e-5, silu: false };
    groupNormForward(x, gamma, beta, y, d);
    const r = 1 / Math.sqrt(1.25 + 1e-5);
    [1, 2, 3, 4].forEach((v, i) => expect(y[i]).toBeCloseTo(2 * (v - 2.5) * r + 0.5, 5));
    // dy = x̂: dx = r·γ·(x̂ − mean(x̂) − x̂·mean(x̂²)) = 0, dγ = Σ x̂² = 4, dβ = Σ x̂ = 0
    const dy = new Float32Array([1, 2, 3, 4].map((v) => (v - 2.5) * r));
    const dx = new Float32Array(4);
    const dg = new Float32Array(1);
    const db = new Float32Array(1);
    groupNormBackward(x, gamma, beta, dy, dx, dg, db, d);
    dx.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-4));
    expect(dg[0]).toBeCloseTo(4 / (1 + 1e-5 / 1.25), 4);
    expect(db[0]).toBeCloseTo(0, 5);
  });

  it('leaks no tensors or wasm buffers, also when a call throws', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
    const g = tf.ones([8]);
    const b = tf.zeros([8]);
    const step = () => {
      const gs = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(groupNormOp(a as tf.Tensor4D, gg, bb, { groups: 4, epsilon: 1e-5, silu: true })))([x, g, b]);
      tf.dispose(gs);
    };
    step();
    const before = tf.memory();
    for (let i = 0; i < 3; i++) step();
    expect(() => groupNormOp(x, g, b, { groups: 3, epsilon: 1e-5, silu: true })).toThrow(/groups must be a positive integer dividing the 8 channels; got 3/);
    expect(() => groupNormOp(x, tf.ones([4]), b, { groups: 4, epsilon: 1e-5, silu: true })).toThrow(/gamma must have shape \[8\]/);
    expect(() => tf.engine().runKernel(GROUP_NORM_KERNEL, { x, gamma: g, beta: b }, { groups: 5, epsilon: 1e-5, silu: false })).toThrow(/TfdGroupNorm: groups/);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors + 1); // the tf.ones([4]) above
    expect(after.numDataBuffers).toBe(before.numDataBuffers + 1);
    tf.dispose([x, g, b]);
  });
});

describe('the U-Net with the fused kernel', () => {
  /** Output and parameter gradients of mnist-tiny on wasm, with the fused kernels registered or not. */
  async function unetRun(fused: boolean, preset: Parameters<typeof unetPreset>[0], overrides: Parameters<typeof unetPreset>[1] = {}) {
    await tf.setBackend('wasm');
    const saved = [GROUP_NORM_KERNEL, GROUP_NORM_GRAD_KERNEL].map((k) => tf.getKernel(k, 'wasm')!);
    if (!fused) for (const k of saved) tf.unregisterKernel(k.kernelName, 'wasm');
    try {
      expect(hasFusedGroupNorm()).toBe(fused);
      const net = new UNet(unetPreset(preset, overrides), { seed: 3 });
      const x = tf.randomNormal([4, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
      const t = tf.tensor1d([10, 300, 600, 990]);
      const labels = tf.tensor1d([1, 4, 7, 10], 'int32');
      const params = net.parameters();
      const y = tf.tidy(() => net.predict(x, t, { classLabels: labels }));
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(net.predict(x, t, { classLabels: labels }, { training: true }))) as tf.Scalar,
        params.map((p) => p.variable));
      const out = { y: y.dataSync().slice() as Float32Array, grads: params.map((p) => grads[p.variable.name]!.dataSync().slice() as Float32Array) };
      tf.dispose([value, y, x, t, labels, ...Object.values(grads)]);
      net.dispose();
      return out;
    } finally {
      if (!fused) for (const k of saved) tf.registerKernel(k);
    }
  }

  const variants: [string, Parameters<typeof unetPreset>[0], Parameters<typeof unetPreset>[1]][] = [
    ['mnist-tiny', 'mnist-tiny', {}],
    ['mnist-tiny with scale_shift (GroupNorm without SiLU) and attention', 'mnist-tiny', { resnetTimeScaleShift: 'scale_shift', attentionResolutions: [7] }],
    ['mnist-ref, with dropout', 'mnist-ref', {}],
  ];
  for (const [label, preset, overrides] of variants) {
    it(`gives the same output and training gradients as the tfjs ops (${label})`, async () => {
      const before = tf.memory().numTensors;
      const a = await unetRun(false, preset, overrides);
      const b = await unetRun(true, preset, overrides);
      expect(tf.memory().numTensors).toBe(before);
      expect(relativeError(b.y, a.y)).toBeLessThan(1e-5);
      a.grads.forEach((g, i) => expect(relativeError(b.grads[i]!, g), `parameter ${i}`).toBeLessThan(1e-4));
    }, 60_000);
  }
});
