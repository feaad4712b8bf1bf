import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasmOps.js';
import { typedAttrs, type KernelArgs } from './kernelArgs.js';

/**
 * Split by block copies on the wasm heap. wasm 4.22 runs one strided Slice
 * per part; splitting channels (the gradient of every skip-connection concat
 * and the attention's q/k/v) went through its slow general path.
 */
export function splitV(args: KernelArgs): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { numOrSizeSplits, axis } = typedAttrs<tf.SplitVAttrs>(args.attrs ?? {});
  const backend = args.backend as WasmBackendLike;
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  const outer = x.shape.slice(0, ax).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
  const rowLen = x.shape[ax]! * inner;
  const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === ax ? s : d)), x.dtype));
  // views only after every allocation: allocating may move the heap
  const src = backend.typedArrayFromHeap(x);
  let offset = 0;
  outs.forEach((out, i) => {
    const len = sizes[i]! * inner;
    const dst = backend.typedArrayFromHeap(out);
    if (len >= 64) {
      for (let o = 0; o < outer; o++) dst.set(src.subarray(o * rowLen + offset, o * rowLen + offset + len), o * len);
    } else {
      for (let o = 0, q = 0; o < outer; o++) {
        const base = o * rowLen + offset;
        for (let k = 0; k < len; k++, q++) dst[q] = src[base + k]!;
      }
    }
    offset += len;
  });
  return outs;
}

export const splitVConfig: tf.KernelConfig = {
  kernelName: tf.SplitV,
  backendName: 'wasm',
  kernelFunc: splitV,
};
