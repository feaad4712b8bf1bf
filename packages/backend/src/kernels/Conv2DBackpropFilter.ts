import * as tf from '@tensorflow/tfjs';
import { convGeometry } from './convGeometry.js';
import { WasmOps, type WasmBackendLike } from './wasmOps.js';

/**
 * Filter gradient as one forward convolution (missing from tfjs' wasm backend):
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh−pt, ow·s+kw−pl, ci] · dy[b,oh,ow,co]
 * is a convolution of x transposed to [Ci,H,W,B] (batch Ci, channels B) with
 * dy transposed to [OH,OW,B,Co] as the filter, dilated by the stride.
 */
export function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown;
}): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convGeometry(
    x.shape as [number, number, number, number], attrs.filterShape,
    attrs.strides, attrs.pad, attrs.dataFormat, attrs.dimRoundingMode);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const { top, left } = info.padInfo;
  const ops = new WasmOps(args.backend as WasmBackendLike);
  const xt = ops.transpose(x, [3, 1, 2, 0]);
  const dyt = ops.transpose(dy, [1, 2, 0, 3]);
  const bottom = kh - 1 + (oh - 1) * sh - (h - 1) - top;
  const right = kw - 1 + (ow - 1) * sw - (w - 1) - left;
  const g = ops.conv2d(xt, dyt, [1, 1], [sh, sw], [top, bottom, left, right]);
  return ops.finish(ops.transpose(g, [1, 2, 0, 3]));
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
