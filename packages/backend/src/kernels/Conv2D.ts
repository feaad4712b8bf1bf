import * as tf from '@tensorflow/tfjs';
import { wasmKernels, type WasmKernelModule } from './wasm/loader.js';
import { typedAttrs, type KernelArgs } from './kernelArgs.js';

/** The parts of tfjs' wasm backend a kernel of our own reads and writes tensors through. */
export interface WasmHeapBackend {
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  wasm: { HEAPF32: Float32Array };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** Output tile side of the Winograd transform: F(4×4, 3×3) (36 multiplies per 16 outputs) or F(2×2, 3×3). */
export type WinogradTile = 2 | 4;
let tile: WinogradTile = 4;
/** Chooses F(2×2, 3×3) or F(4×4, 3×3) for the 3×3 convolutions from now on (benchmarks compare both). */
export function setWinogradTile(m: WinogradTile): void {
  if (m !== 2 && m !== 4) throw new Error(`tile must be 2 or 4 (F(2×2,3×3) or F(4×4,3×3)); got ${String(m)}`);
  tile = m;
}

const up4 = (n: number) => (n + 3) & ~3;
const up64 = (n: number) => (n + 63) & ~63;

/**
 * out ← the NHWC 3×3 stride-1 convolution of x [b,h,w,ci] with filter [3,3,ci,co]
 * by Winograd F(m×m, 3×3) in the project's wasm module, the output pixel
 * (oy, ox) reading input rows oy − padTop … oy − padTop + 2 (zero outside).
 * With `flip` the filter is used flipped spatially with its channels swapped
 * (filter [3,3,co,ci]): the input gradient's convolution, flipped while it is
 * copied. Channels are padded to multiples of 4 in the module's memory.
 */
export function winogradConv3x3(
  backend: WasmHeapBackend, mod: WasmKernelModule, x: tf.TensorInfo, filter: tf.TensorInfo,
  oh: number, ow: number, padTop: number, padLeft: number, flip = false,
): tf.TensorInfo {
  const [b, h, w, ci] = x.shape as [number, number, number, number];
  const co = filter.shape[flip ? 2 : 3]!;
  const out = backend.makeOutput([b, oh, ow, co], 'float32');
  const m = tile;
  const a2 = (m + 2) * (m + 2);
  const cip = up4(ci);
  const cop = up4(co);
  // Tiles per block: the block's transformed input and products (α²·tb·(ci+co) floats) stay near L2-sized.
  const tb = Math.max(4, Math.min(256, Math.floor(262144 / (a2 * (cip + cop) * 4)) & ~3));
  const e = mod.exports;
  const xBytes = up64(b * h * w * cip * 4);
  const gBytes = up64(9 * cip * cop * 4);
  const uBytes = up64(a2 * cip * cop * 4);
  const oBytes = up64(b * oh * ow * cop * 4);
  const tmpBytes = 512;
  const base = mod.reserve(xBytes + gBytes + uBytes + oBytes + tmpBytes + Number(e.scratchBytes!(m, cip, cop, tb)));
  const X = base;
  const G = X + xBytes;
  const U = G + gBytes;
  const O = U + uBytes;
  const TMP = O + oBytes;
  const S = TMP + tmpBytes;
  // Views after reserve (growing detaches older ones) and after makeOutput (it may grow tfjs' heap).
  const mem = mod.f32();
  const heap = backend.wasm.HEAPF32;
  const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  const xo = at(x);
  const go = at(filter);
  if (ci === cip) {
    mem.set(heap.subarray(xo, xo + b * h * w * ci), X / 4);
  } else {
    for (let p = 0, n = b * h * w; p < n; p++) {
      for (let c = 0; c < cip; c++) mem[X / 4 + p * cip + c] = c < ci ? heap[xo + p * ci + c]! : 0;
    }
  }
  if (flip) {
    // g[r][s][k][c] = filter[2−r][2−s][c][k] (filter is [3,3,co,ci] here).
    mem.fill(0, G / 4, G / 4 + 9 * cip * cop);
    for (let k = 0; k < 9; k++) {
      const src = go + (8 - k) * co * ci;
      const dst = G / 4 + k * cip * cop;
      for (let c = 0; c < co; c++) {
        for (let i = 0; i < ci; i++) mem[dst + i * cop + c] = heap[src + c * ci + i]!;
      }
    }
  } else if (ci === cip && co === cop) {
    mem.set(heap.subarray(go, go + 9 * ci * co), G / 4);
  } else {
    mem.fill(0, G / 4, G / 4 + 9 * cip * cop);
    for (let k = 0; k < 9; k++) {
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) mem[G / 4 + (k * cip + c) * cop + o] = heap[go + (k * ci + c) * co + o]!;
      }
    }
  }
  e.transformFilter!(m, G, cip, cop, U, TMP);
  e.conv3x3!(m, X, b, h, w, cip, U, cop, oh, ow, padTop, padLeft, O, S, tb);
  const result = mod.f32();
  const oo = at(out);
  const dst = backend.wasm.HEAPF32;
  if (co === cop) {
    dst.set(result.subarray(O / 4, O / 4 + b * oh * ow * co), oo);
  } else {
    for (let p = 0, n = b * oh * ow; p < n; p++) {
      for (let o = 0; o < co; o++) dst[oo + p * co + o] = result[O / 4 + p * cop + o]!;
    }
  }
  return out;
}

// tfjs' own Conv2D (XNNPACK), captured before ours replaces it: every other geometry goes there.
let stock: tf.KernelConfig | undefined;

/** Remembers tfjs wasm's own Conv2D (call before registering ours; later calls keep the first). */
export function rememberStockConv2D(): void {
  const k = tf.getKernel(tf.Conv2D, 'wasm');
  if (k !== undefined && k.kernelFunc !== conv2D) stock = k;
}

const same = (v: number | [number, number] | undefined) => v === undefined || (Array.isArray(v) ? v[0] === 1 && v[1] === 1 : v === 1);

/**
 * Fewest input channels the Winograd path takes: with 1–3 the input transform
 * (on channels padded to 4) outweighs the products it saves and XNNPACK's
 * direct convolution is faster (bench/kernels.ts: conv_in 1→32). Few output
 * channels are fine: 32→1 runs about 1.4× XNNPACK's speed.
 */
export const WINOGRAD_MIN_IN_CHANNELS = 4;

/** True when `conv2D` runs this convolution by Winograd (once the module is loaded), false when tfjs' own kernel does. */
export function usesWinograd(xShape: readonly number[], filterShape: readonly number[], attrs: Pick<tf.Conv2DAttrs, 'strides' | 'dilations' | 'dataFormat'>): boolean {
  return xShape.length === 4 && filterShape.length === 4 && filterShape[0] === 3 && filterShape[1] === 3 &&
    same(attrs.strides) && same(attrs.dilations) && (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
    xShape.every((d) => d > 0) && xShape[3] === filterShape[2] &&
    filterShape[2]! >= WINOGRAD_MIN_IN_CHANNELS && filterShape[3]! >= 1;
}

/**
 * tfjs' Conv2D on wasm: 3×3, stride 1, dilation 1, NHWC float32 convolutions
 * (any padding) with at least WINOGRAD_MIN_IN_CHANNELS input channels by
 * Winograd in the project's wasm module; the rest, and everything before the
 * module is loaded, by tfjs' own kernel.
 */
export function conv2D(args: KernelArgs): tf.TensorInfo {
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = typedAttrs<tf.Conv2DAttrs>(args.attrs ?? {});
  const mod = wasmKernels()?.module('winograd');
  if (mod !== undefined && x.dtype === 'float32' && filter.dtype === 'float32' && usesWinograd(x.shape, filter.shape, attrs)) {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    if (info.outHeight > 0 && info.outWidth > 0) {
      return winogradConv3x3(args.backend as WasmHeapBackend, mod, x, filter, info.outHeight, info.outWidth, info.padInfo.top, info.padInfo.left);
    }
  }
  if (stock === undefined) throw new Error("tfjs' wasm Conv2D kernel was not found (import '@tensorflow/tfjs-backend-wasm' before registering the training kernels)");
  return stock.kernelFunc(args) as tf.TensorInfo;
}

export const conv2DConfig: tf.KernelConfig = {
  kernelName: tf.Conv2D,
  backendName: 'wasm',
  kernelFunc: conv2D,
  // tfjs' own kernel binds its wasm function when the backend starts.
  setupFunc: (backend) => stock?.setupFunc?.(backend),
};
