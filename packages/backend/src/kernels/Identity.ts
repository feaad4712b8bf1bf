import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasmOps.js';

/**
 * Identity without a copy: the output shares the input's buffer, counted by
 * reference as wasm's own `Reshape` does (and as the cpu backend's Identity
 * does). A training step calls it ~1,500 times (gradient bookkeeping), each
 * a full-tensor copy in wasm 4.22. Kernels never write to their inputs, so
 * sharing is safe.
 */
export function identity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const backend = args.backend as WasmBackendLike;
  if (x.dtype === 'string') {
    return backend.makeOutput(x.shape, x.dtype, undefined, backend.readSync(x.dataId));
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity,
};
