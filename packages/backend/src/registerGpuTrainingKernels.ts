import type * as tf from '@tensorflow/tfjs';

/** Kernels this package adds to tfjs' GPU backends for the U-Net's gradients. */
export const gpuTrainingKernelConfigs: Record<'webgl' | 'webgpu', readonly tf.KernelConfig[]> = {
  webgl: [],
  webgpu: [],
};

/** Registers the kernels above for `backend` (idempotent). Returns their names. */
export function registerGpuTrainingKernels(backend: 'webgl' | 'webgpu'): string[] {
  return gpuTrainingKernelConfigs[backend].map((c) => c.kernelName);
}
