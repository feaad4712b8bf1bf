import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasmOps.js';
import { typedAttrs, type KernelArgs } from './kernelArgs.js';

/**
 * out[s, ...] = Σ_{i: ids[i] = s} x[i, ...], the gradient of `tf.gather`
 * (missing from tfjs' wasm backend). Plain JavaScript over the wasm heap:
 * in a diffusion model it only sums embedding-table gradients, a few
 * kilobytes per step, so it is not worth a wasm kernel of its own.
 */
export function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = typedAttrs<tf.UnsortedSegmentSumAttrs>(args.attrs ?? {});
  const backend = args.backend as WasmBackendLike;
  if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
    throw new Error(`segmentIds must be 1-D of length x.shape[0] = ${x.shape[0]}; got shape [${segmentIds.shape.join(', ')}]`);
  }
  const xs = backend.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  const inner = x.shape.slice(1).reduce((a, d) => a * d, 1);
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue; // as TensorFlow: out-of-range ids are dropped
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += xs[src + j]!;
  }
  return backend.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype, undefined, out);
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
