// The page behind src/backend.browser.test.ts: exposes initBackend, the gradient
// checks and a timed training step to the test through `window.backendTest`.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { InitBackendOptions } from '../src/backendTypes.js';
import { initBackend } from '../src/initBackend.js';
import { registerCpuKernelFixes } from '../src/registerTrainingKernels.js';
import { runGradientChecks } from '../src/testing/gradientChecks.js';
import { smallUnetLoss, smallUnetShapes } from '../src/testing/smallUnet.js';
import { randn, relativeError, runOn } from '../src/testing/onBackends.js';
import { UNet, unetPreset } from '@tfjs-diffusion/models';

/**
 * The models package's U-Net (mnist-tiny's blocks at 8×8, attention at 4×4,
 * batch 2, class-conditional): loss and every parameter's gradient on
 * `backend` against the cpu backend, as the largest relative error per parameter.
 */
async function unetGradients(backend: string): Promise<{ name: string; error: number; scale: number }[]> {
  await tf.setBackend('cpu');
  const model = new UNet(unetPreset('mnist-tiny', { sampleSize: 8, blockOutChannels: [8, 16], attentionResolutions: [4] }), { seed: 3 });
  const params = model.parameters();
  const xd = randn([2, 8, 8, 1], 21);
  const td = randn([2, 8, 8, 1], 22);
  const f = () => {
    const x = tf.tensor4d(xd, [2, 8, 8, 1]);
    const target = tf.tensor4d(td, [2, 8, 8, 1]);
    const t = tf.tensor1d([7, 640]);
    const labels = tf.tensor1d([3, 10], 'int32'); // 10: the null class
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(tf.sub(model.predict(x, t, { classLabels: labels }), target))) as tf.Scalar,
      params.map((p) => p.variable),
    );
    return [value, ...params.map((p) => grads[p.variable.name]!)];
  };
  const want = await runOn('cpu', f);
  const got = await runOn(backend, f);
  model.dispose();
  return got.map((g, i) => ({
    name: i === 0 ? 'loss' : params[i - 1]!.name,
    error: relativeError(g, want[i]!),
    scale: g.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
  }));
}

const api = {
  init: (opts: InitBackendOptions) => initBackend({ ...opts, quiet: true }),
  checks: async (backend: string) => {
    registerCpuKernelFixes();
    return runGradientChecks(backend);
  },
  /** Adam steps on the small U-Net on the current backend: tensors before and after, and the losses. */
  trainSmallUnet: async (steps: number) => {
    const vars = Object.fromEntries(Object.entries(smallUnetShapes).map(([n, s], i) => [n, tf.variable(tf.tensor(randn(s, 200 + i).map((v) => v * 0.3), s))]));
    const x = tf.tensor4d(randn([4, 8, 8, 2], 3), [4, 8, 8, 2]);
    const target = tf.tensor4d(randn([4, 8, 8, 2], 4), [4, 8, 8, 2]);
    const t = tf.tensor1d([1, 5, 9, 13]);
    const labels = tf.tensor1d([0, 2, 1, 2], 'int32');
    const opt = tf.train.adam(1e-2);
    const step = async () => {
      const loss = opt.minimize(() => smallUnetLoss(vars, x, t, labels, target), true, Object.values(vars))!;
      const v = (await loss.data())[0]!;
      loss.dispose();
      return v;
    };
    const losses = [await step()];
    const before = tf.memory().numTensors;
    for (let i = 1; i < steps; i++) losses.push(await step());
    const after = tf.memory().numTensors;
    opt.dispose();
    tf.dispose([...Object.values(vars), x, target, t, labels]);
    return { losses, before, after };
  },
  unetGradients: async (backend: string) => {
    registerCpuKernelFixes();
    return unetGradients(backend);
  },
  memory: () => tf.memory().numTensors,
  flags: async () => ({
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    mt: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    threads: (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount(),
  }),
  backend: () => tf.getBackend(),
};

(globalThis as { backendTest?: typeof api }).backendTest = api;
document.body.dataset.ready = 'true';
