import * as tf from '@tensorflow/tfjs';
import { usesWinograd, winogradConv3x3, type WasmHeapBackend } from './Conv2D.js';
import { convGeometry } from './convGeometry.js';
import { wasmKernels } from './wasm/loader.js';
import { WasmOps, type WasmBackendLike } from './wasmOps.js';
import { typedAttrs, type KernelArgs } from './kernelArgs.js';

/**
 * Input gradient. 3×3 stride 1 (at least 4 channels in dy): Winograd with the
 * filter flipped as it is copied into the module (see Conv2D.ts). Otherwise
 * as forward convolutions (wasm's own kernel is a scalar loop,
 * about 10× slower than its forward conv). With h + pt = oh·s + kh, stride 1
 * is a convolution of the padded dy with the filter flipped spatially and its
 * channels swapped. For stride s the output splits into s×s phases (rows with
 * the same (h + pt) mod s use only the taps kh ≡ that phase), each a stride-1
 * convolution with a sub-filter; the phases are then interleaved. This avoids
 * the s² wasted multiplies of convolving a zero-dilated dy.
 */
export function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = typedAttrs<tf.Conv2DBackpropInputAttrs>(args.attrs ?? {});
  const info = convGeometry(
    attrs.inputShape, filter.shape as [number, number, number, number],
    attrs.strides, attrs.pad, attrs.dataFormat, attrs.dimRoundingMode);
  const {
    batchSize: b, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw,
    outHeight: oh, outWidth: ow, inHeight: h, inWidth: w, inChannels: ci,
  } = info;
  const { top: pt, left: pl } = info.padInfo;
  const mod = wasmKernels()?.module('winograd');
  if (mod !== undefined && sh === 1 && sw === 1 && dy.dtype === 'float32' && filter.dtype === 'float32' &&
      usesWinograd(dy.shape, [kh, kw, filter.shape[3]!, filter.shape[2]!], { strides: 1, dilations: 1, dataFormat: 'NHWC' })) {
    // Winograd with the filter flipped while it is copied into the module.
    return winogradConv3x3(args.backend as WasmHeapBackend, mod, dy, filter, h, w, kh - 1 - pt, kw - 1 - pl, true);
  }
  const ops = new WasmOps(args.backend as WasmBackendLike);
  // Flipped spatially, channels swapped: [kh, kw, co, ci].
  const flipped = ops.transpose(ops.reverse(filter, [0, 1]), [0, 1, 3, 2]);

  if (sh === 1 && sw === 1) {
    return ops.finish(ops.conv2d(dy, flipped, [1, 1], [1, 1],
      [kh - 1 - pt, h - oh + pt, kw - 1 - pl, w - ow + pl]));
  }

  const qh = Math.ceil(h / sh);
  const qw = Math.ceil(w / sw);
  const rows: tf.TensorInfo[] = [];
  for (let rho = 0; rho < sh; rho++) {
    const r = (rho + pt) % sh;
    const qMinH = (rho + pt - r) / sh;
    const njH = Math.max(0, Math.ceil((kh - r) / sh));
    const cols: tf.TensorInfo[] = [];
    for (let gamma = 0; gamma < sw; gamma++) {
      const c = (gamma + pl) % sw;
      const qMinW = (gamma + pl - c) / sw;
      const njW = Math.max(0, Math.ceil((kw - c) / sw));
      let phase: tf.TensorInfo;
      if (njH === 0 || njW === 0) {
        phase = ops.zeros([b, qh, qw, ci]);
      } else {
        // Taps r, r+s, ... of the original filter, reversed: a strided slice of the flipped one.
        const sub = ops.stridedSlice(flipped,
          [kh - 1 - r - (njH - 1) * sh, kw - 1 - c - (njW - 1) * sw, 0, 0],
          [kh - r, kw - c, flipped.shape[2], flipped.shape[3]], [sh, sw, 1, 1]);
        const top = njH - 1 - qMinH;
        const left = njW - 1 - qMinW;
        phase = ops.conv2d(dy, sub, [1, 1], [1, 1],
          [top, qh - oh - top + njH - 1, left, qw - ow - left + njW - 1]);
      }
      cols.push(ops.reshape(phase, [b, qh, qw, 1, ci]));
    }
    rows.push(ops.reshape(ops.concat(cols, 3), [b, qh, 1, qw * sw, ci]));
  }
  const full = ops.reshape(ops.concat(rows, 2), [b, qh * sh, qw * sw, ci]);
  if (qh * sh === h && qw * sw === w) return ops.finish(full);
  return ops.finish(ops.slice(full, [0, 0, 0, 0], [b, h, w, ci]));
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput,
};
