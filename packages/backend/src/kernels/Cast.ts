import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasmOps.js';
import { typedAttrs, type KernelArgs } from './kernelArgs.js';

/**
 * Cast that shares the buffer when the dtype does not change (wasm 4.22
 * copies; training calls it a few hundred times a step) and casts to bool
 * as x ≠ 0 like the cpu backend (wasm 4.22 truncates, so 0.5 became false).
 */
export function cast(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = typedAttrs<tf.CastAttrs>(args.attrs ?? {});
  const backend = args.backend as WasmBackendLike;
  if (dtype === x.dtype) {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype };
  }
  if (dtype === 'complex64' || dtype === 'string' || x.dtype === 'complex64' || x.dtype === 'string') {
    throw new Error(`Cast on wasm supports float32, int32 and bool; got ${x.dtype} → ${dtype}`);
  }
  const out = backend.makeOutput(x.shape, dtype);
  // views taken after makeOutput: allocating may grow (and move) the heap
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (dtype === 'bool') {
    for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  } else {
    dst.set(src); // float32 → int32 truncates toward zero, as wasm's own Cast
  }
  return out;
}

export const castConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'wasm',
  kernelFunc: cast,
};
