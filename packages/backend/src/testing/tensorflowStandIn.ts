import * as tf from '@tensorflow/tfjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';

export interface TensorflowStandInOptions {
  /**
   * Whose kernels the stand-in runs: 'cpu' (default; plain JavaScript) or
   * 'wasm' (with this package's training kernels; fast enough to train a
   * small U-Net in a test). 'wasm' needs @tensorflow/tfjs-backend-wasm
   * imported and the training kernels registered first (initBackend does both).
   */
  delegate?: 'cpu' | 'wasm';
}

const STAND_IN_KEYS = optionKeys<TensorflowStandInOptions>()(['delegate']);

/**
 * Registers a backend named 'tensorflow' (tfjs-node's name) that runs another
 * backend's kernels, so the paths taken under tfjs-node(-gpu) (backend
 * selection, no worker threads) run in tests without the native binary.
 * Idempotent; returns a function that removes it again.
 */
export function registerTensorflowStandIn(opts: TensorflowStandInOptions = {}): () => void {
  checkOptions('registerTensorflowStandIn', opts, STAND_IN_KEYS);
  const delegate = opts.delegate ?? 'cpu';
  if (tf.findBackendFactory('tensorflow') === null) {
    const factory = tf.findBackendFactory(delegate);
    if (factory === null) throw new Error(`registerTensorflowStandIn: no '${delegate}' backend is registered to delegate to`);
    // Priority below every real backend's: the stand-in is never tfjs' own default.
    tf.registerBackend('tensorflow', factory as () => tf.KernelBackend | Promise<tf.KernelBackend>, -1);
    for (const k of tf.getKernelsForBackend(delegate)) {
      if (tf.getKernel(k.kernelName, 'tensorflow') === undefined) tf.registerKernel({ ...k, backendName: 'tensorflow' });
    }
  }
  return () => {
    if (tf.getBackend() === 'tensorflow') tf.setBackend(delegate);
    if (tf.findBackendFactory('tensorflow') !== null) {
      for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
      tf.removeBackend('tensorflow');
    }
  };
}
