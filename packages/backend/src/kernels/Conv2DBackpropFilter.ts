import * as tf from '@tensorflow/tfjs';
import { convGeometry } from './convGeometry.js';
import { WasmOps, type WasmBackendLike } from './wasmOps.js';

/**
 * Filter gradient as one forward convolution (missing from tfjs' wasm backend):
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh−pt, ow·s+kw−pl, ci] · dy[b,oh,ow,co]
 * is a convolution of x transposed to [Ci,H,W,B] (batch Ci, channels B) with
 * dy transposed to [OH,OW,B,Co] as the filter, dilated by the stride.
 */
export function conv2DBackpropFilterDilated(args: {
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

/**
 * Filter gradient as one matrix product through XNNPACK's 1×1 convolution:
 * dW = patchesᵀ · dy, with patchesᵀ [KH·KW·Ci, B·OH·OW] gathered from x by
 * KH·KW strided slices (im2col) and dy [B·OH·OW, Co] used as it is. The
 * contraction runs over the long contiguous B·OH·OW axis, which XNNPACK's
 * GEMM handles far better than the dilated convolution's short channel runs.
 */
export function conv2DBackpropFilterIm2col(args: {
  inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown;
}): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convGeometry(
    x.shape as [number, number, number, number], attrs.filterShape,
    attrs.strides, attrs.pad, attrs.dataFormat, attrs.dimRoundingMode);
  const { batchSize: b, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { top, left } = info.padInfo;
  const ops = new WasmOps(args.backend as WasmBackendLike);
  // x as [Ci, B, H, W], padded (or cropped) so that every tap reads inside it.
  const needH = (oh - 1) * sh + kh;
  const needW = (ow - 1) * sw + kw;
  let xt = ops.transpose(x, [3, 0, 1, 2]);
  const bottom = needH - h - top;
  const right = needW - w - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) {
    xt = ops.slice(xt, [0, 0, Math.max(0, -top), Math.max(0, -left)],
      [ci, b, h - Math.max(0, -top) - Math.max(0, -bottom), w - Math.max(0, -left) - Math.max(0, -right)]);
  }
  if (top > 0 || left > 0 || bottom > 0 || right > 0) {
    xt = ops.pad(xt, [[0, 0], [0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)]]);
  }
  const taps: tf.TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      taps.push(sh === 1 && sw === 1
        ? ops.slice(xt, [0, 0, i, j], [ci, b, oh, ow])
        : ops.stridedSlice(xt, [0, 0, i, j], [ci, b, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1], [1, 1, sh, sw]));
    }
  }
  const patches = taps.length === 1 ? taps[0]! : ops.concat(taps, 0);
  const lhs = ops.reshape(patches, [1, 1, kh * kw * ci, b * oh * ow]);
  const rhs = ops.reshape(dy, [1, 1, b * oh * ow, co]);
  const g = ops.conv2d(lhs, rhs, [1, 1], [1, 1], [0, 0, 0, 0]);
  return ops.finish(ops.reshape(g, [kh, kw, ci, co]));
}

/**
 * Picks the faster form: the matrix product for 1×1 stride-1 filters (the
 * im2col is then just a transpose; measured ~2× faster on the attention's
 * 1×1 convolutions), the dilated convolution otherwise (XNNPACK's GEMM slows
 * down on the very long contraction of a 3×3 im2col, and strided slices are slow).
 */
export function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown;
}): tf.TensorInfo {
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropFilterAttrs;
  const [kh, kw] = attrs.filterShape;
  const [sh, sw] = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
  return kh === 1 && kw === 1 && sh === 1 && sw === 1 ? conv2DBackpropFilterIm2col(args) : conv2DBackpropFilterDilated(args);
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
