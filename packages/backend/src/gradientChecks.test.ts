import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './initBackend.js';
import { resizeNearestNeighborGradCpuConfig } from './kernels/ResizeNearestNeighborGrad.js';
import { registerCpuKernelFixes } from './registerTrainingKernels.js';
import { runGradientChecks } from './testing/gradientChecks.js';
import { randn, runOn } from './testing/onBackends.js';

// tfjs' own kernel, before this package replaces it.
const own = { ...tf.getKernel(tf.ResizeNearestNeighborGrad, 'cpu')! };

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

describe('gradient checks of the U-Net ops in Node', () => {
  it.each(['cpu', 'wasm'])('%s: every check within fp32 tolerance of its closed form or the cpu backend', async (backend) => {
    registerCpuKernelFixes();
    const checks = await runGradientChecks(backend);
    expect(checks.length).toBeGreaterThan(40);
    for (const c of checks) {
      expect(c.error, `${backend}: ${c.name} (against ${c.reference})`).toBeLessThan(1e-4);
      expect(c.scale, `${backend}: ${c.name} is all zeros`).toBeGreaterThan(1e-6);
    }
  });

  it("tfjs' own cpu ResizeNearestNeighborGrad is wrong for batch > 1 (why this package replaces it)", async () => {
    const dyd = randn([2, 4, 4, 1], 5);
    const f = () => tf.grad((im: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(im as tf.Tensor4D, [4, 4]), tf.tensor4d(dyd, [2, 4, 4, 1]))))(tf.zeros([2, 2, 2, 1]));
    // Image 1's first pixel: the sum of dy over its own top-left 2×2 block.
    const want = dyd[16]! + dyd[17]! + dyd[20]! + dyd[21]!;
    tf.unregisterKernel(tf.ResizeNearestNeighborGrad, 'cpu');
    tf.registerKernel(own);
    try {
      const [theirs] = await runOn('cpu', f);
      expect(Math.abs(theirs![4]! - want)).toBeGreaterThan(0.1);
    } finally {
      registerCpuKernelFixes();
    }
    expect(tf.getKernel(tf.ResizeNearestNeighborGrad, 'cpu')!.kernelFunc).toBe(resizeNearestNeighborGradCpuConfig.kernelFunc);
    const [fixed] = await runOn('cpu', f);
    expect(fixed![4]).toBeCloseTo(want, 5);
  });
});
