import * as tf from '@tensorflow/tfjs';
import { convGeometry } from './convGeometry.js';
import { WasmOps, type WasmBackendLike } from './wasmOps.js';
import { wasmKernels, type WasmKernelModule } from './wasm/loader.js';
import { typedAttrs, type KernelArgs } from './kernelArgs.js';

/**
 * Filter gradient as one forward convolution (missing from tfjs' wasm backend):
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh−pt, ow·s+kw−pl, ci] · dy[b,oh,ow,co]
 * is a convolution of x transposed to [Ci,H,W,B] (batch Ci, channels B) with
 * dy transposed to [OH,OW,B,Co] as the filter, dilated by the stride.
 */
export function conv2DBackpropFilterDilated(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = typedAttrs<tf.Conv2DBackpropFilterAttrs>(args.attrs ?? {});
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
export function conv2DBackpropFilterIm2col(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = typedAttrs<tf.Conv2DBackpropFilterAttrs>(args.attrs ?? {});
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

/** Winograd tile: F(3×3, 2×2) reads 4×4 windows of x, F(3×3, 4×4) 6×6 ones. */
export type FilterGradTile = 2 | 4;

/**
 * Tiles per chunk: a chunk's transformed x and dy for one position
 * (chunk·(Ci+Co)·4 bytes) stay near 16 KB, in L1, and for all positions in
 * L2 (at most 32 tiles: larger chunks measured slower on the U-Net's layers).
 */
function chunkFor(ci: number, co: number): number {
  const ci4 = Math.ceil(ci / 4) * 4;
  const co8 = Math.ceil(co / 8) * 8;
  return Math.max(16, Math.min(32, Math.floor(4096 / (ci4 + co8))));
}

/**
 * Filter gradient of a 3×3 stride-1 convolution in Winograd form, in the
 * project's wasm module (wasm/winogradFilterGrad.ts; the algorithm and its
 * transforms: winogradFilterGradReference.ts): per m×m tile of dy, the
 * (m+2)² window of x and the tile are transformed, their products summed over
 * every tile and the batch as (m+2)² matrix products [Ci×tiles]·[tiles×Co],
 * and one inverse transform gives the 3×3 taps. F(3×3, 4×4) does 36
 * multiplications where the direct sum does 144. Returns undefined when the
 * geometry is not 3×3, stride 1, dilation 1 or the module is not loaded.
 */
export function conv2DBackpropFilterWinograd(args: KernelArgs, tile: FilterGradTile = 4, module?: WasmKernelModule): tf.TensorInfo | undefined {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = typedAttrs<tf.Conv2DBackpropFilterAttrs>(args.attrs ?? {});
  if (tile !== 2 && tile !== 4) throw new Error(`tile must be 2 or 4 (F(3×3, 2×2) or F(3×3, 4×4)); got ${String(tile)}`);
  const m = module ?? wasmKernels()?.module('winogradFilterGrad');
  if (m === undefined || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  const info = convGeometry(
    x.shape as [number, number, number, number], attrs.filterShape,
    attrs.strides, attrs.pad, attrs.dataFormat, attrs.dimRoundingMode);
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  if (info.filterHeight !== 3 || info.filterWidth !== 3 || info.strideHeight !== 1 || info.strideWidth !== 1
    || info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  if (dy.shape.length !== 4 || dy.shape[0] !== b || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== co) {
    throw new Error(`Conv2DBackpropFilter: dy must have shape [${b}, ${oh}, ${ow}, ${co}] for x [${x.shape.join(', ')}] and filter [${attrs.filterShape.join(', ')}]; got [${dy.shape.join(', ')}]`);
  }
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([3, 3, ci, co], 'float32');
  // views taken after makeOutput: allocating may grow (and move) tfjs' heap
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const chunk = chunkFor(ci, co);
  const tilesH = Math.ceil(oh / tile);
  const tilesW = Math.ceil(ow / tile);
  // x and dy copied in with their zero padding: x [B, tilesH·m+2, tilesW·m+2, Ci], dy [B, tilesH·m, tilesW·m, Co]
  const hp = tilesH * tile + 2;
  const wp = tilesW * tile + 2;
  const ohp = tilesH * tile;
  const owp = tilesW * tile;
  // each followed by 32 bytes of slack: the kernel's channel vectors may read past a pixel's last channel
  const bytes = (n: number) => Math.ceil((n * 4 + 32) / 64) * 64;
  const nx = b * hp * wp * ci;
  const ndy = b * ohp * owp * co;
  const nout = 9 * ci * co;
  const xAt = m.base;
  const dyAt = xAt + bytes(nx);
  const outAt = dyAt + bytes(ndy);
  const workAt = outAt + bytes(nout);
  m.reserve(workAt - m.base + (m.exports.workBytes!(tile, ci, co, chunk) as number));
  const mem = m.f32();
  copyPadded(mem, xAt >> 2, view(x), b, h, w, ci, hp, wp, info.padInfo.top, info.padInfo.left);
  mem.fill(0, (xAt >> 2) + nx, (xAt >> 2) + nx + 8);
  copyPadded(mem, dyAt >> 2, view(dy), b, oh, ow, co, ohp, owp, 0, 0);
  mem.fill(0, (dyAt >> 2) + ndy, (dyAt >> 2) + ndy + 8);
  m.exports.filterGrad!(tile, xAt, dyAt, outAt, workAt, b, ci, co, tilesH, tilesW, chunk);
  view(out).set(mem.subarray(outAt >> 2, (outAt >> 2) + nout));
  return out;
}

/**
 * Copies NHWC `src` [b, h, w, c] into `dst` from index `at` as [b, hp, wp, c]
 * with image row r at padded row r + top and column q at q + left, zeros
 * elsewhere (rows or columns falling outside hp × wp are dropped).
 */
function copyPadded(dst: Float32Array, at: number, src: Float32Array, b: number, h: number, w: number, c: number,
  hp: number, wp: number, top: number, left: number): void {
  const rowLen = wp * c;
  const c0 = Math.max(0, left);                 // first padded column holding image data
  const q0 = c0 - left;                         // its image column
  const cols = Math.max(0, Math.min(w - q0, wp - c0));
  for (let i = 0; i < b; i++) {
    for (let r = 0; r < hp; r++) {
      const d = at + (i * hp + r) * rowLen;
      const ih = r - top;
      if (ih < 0 || ih >= h || cols === 0) {
        dst.fill(0, d, d + rowLen);
        continue;
      }
      if (c0 > 0) dst.fill(0, d, d + c0 * c);
      const s = ((i * h + ih) * w + q0) * c;
      dst.set(src.subarray(s, s + cols * c), d + c0 * c);
      if (c0 + cols < wp) dst.fill(0, d + (c0 + cols) * c, d + rowLen);
    }
  }
}

/**
 * Picks the fastest form: Winograd F(3×3, 4×4) for 3×3 stride-1 filters
 * (4–5× the dilated convolution on the U-Net's layers, bench/RESULTS.md), the matrix product for
 * 1×1 stride-1 filters (the im2col is then just a transpose; ~2× faster on the
 * attention's 1×1 convolutions), the dilated convolution otherwise (XNNPACK's
 * GEMM slows down on the very long contraction of a 3×3 im2col, and strided
 * slices are slow).
 */
export function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const attrs = typedAttrs<tf.Conv2DBackpropFilterAttrs>(args.attrs ?? {});
  const [kh, kw] = attrs.filterShape;
  const [sh, sw] = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
  if (kh === 3 && kw === 3 && sh === 1 && sw === 1) {
    const out = conv2DBackpropFilterWinograd(args);
    if (out !== undefined) return out;
  }
  return kh === 1 && kw === 1 && sh === 1 && sw === 1 ? conv2DBackpropFilterIm2col(args) : conv2DBackpropFilterDilated(args);
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};
