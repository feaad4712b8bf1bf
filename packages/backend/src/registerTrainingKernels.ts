import * as tf from '@tensorflow/tfjs';
import { adamWConfig } from './kernels/AdamW.js';
import { batchMatMulConfig, rememberStockBatchMatMul } from './kernels/BatchMatMul.js';
import { castConfig } from './kernels/Cast.js';
import { conv2DConfig, rememberStockConv2D } from './kernels/Conv2D.js';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { groupNormConfig, groupNormGradConfig } from './kernels/GroupNorm.js';
import { identityConfig } from './kernels/Identity.js';
import { splitVConfig } from './kernels/SplitV.js';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.js';
import { resizeNearestNeighborGradCpuConfig } from './kernels/ResizeNearestNeighborGrad.js';

/** The kernels this package adds to (or replaces in) tfjs' wasm backend. */
export const trainingKernelConfigs: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  unsortedSegmentSumConfig,
  identityConfig,
  castConfig,
  splitVConfig,
  groupNormConfig,
  groupNormGradConfig,
  adamWConfig,
  conv2DConfig,
  batchMatMulConfig,
];

/**
 * Registers the training kernels for the 'wasm' backend, replacing wasm's own
 * where it has a slow one. Idempotent. Returns the kernel names.
 */
export function registerTrainingKernels(): string[] {
  rememberStockConv2D();
  rememberStockBatchMatMul();
  for (const config of trainingKernelConfigs) {
    if (tf.getKernel(config.kernelName, config.backendName) !== undefined) {
      tf.unregisterKernel(config.kernelName, config.backendName);
    }
    tf.registerKernel(config);
  }
  return trainingKernelConfigs.map((c) => c.kernelName);
}

/** Corrections to tfjs' cpu backend (the fallback, and the reference the other backends are tested against). */
export const cpuKernelFixConfigs: readonly tf.KernelConfig[] = [resizeNearestNeighborGradCpuConfig];

/** Replaces the cpu kernels tfjs 4.22 gets wrong (idempotent). Returns their names. */
export function registerCpuKernelFixes(): string[] {
  for (const config of cpuKernelFixConfigs) {
    if (tf.getKernel(config.kernelName, config.backendName)?.kernelFunc === config.kernelFunc) continue;
    if (tf.getKernel(config.kernelName, config.backendName) !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
  return cpuKernelFixConfigs.map((c) => c.kernelName);
}
