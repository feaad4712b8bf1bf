import * as tf from '@tensorflow/tfjs';

/** wasm's own kernels that ours replaced, kept for the cases ours hand back. */
const stock = new Map<string, tf.KernelConfig>();

/** Remembers wasm's current kernel for `kernelName` unless one is already remembered. */
export function rememberStockKernel(kernelName: string): void {
  if (stock.has(kernelName)) return;
  const k = tf.getKernel(kernelName, 'wasm');
  if (k !== undefined) stock.set(kernelName, k);
}

export function stockKernel(kernelName: string): tf.KernelConfig {
  const k = stock.get(kernelName);
  if (k === undefined) throw new Error(`wasm's own ${kernelName} kernel was not registered before the training kernels`);
  return k;
}
