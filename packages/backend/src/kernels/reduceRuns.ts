import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasmOps.js';

/**
 * Σ of a float32 tensor over `axes` in one pass, without the transpose wasm
 * 4.22 makes whenever the reduced axes are not the innermost ones (bias and
 * group-norm gradients reduce over [B,H,W] and [H,W,C/G], ~100 calls per
 * training step). Dimensions are collapsed into runs that are all kept or all
 * reduced; the input is read once, in order, accumulating in float64.
 * Returns undefined when wasm's own kernel is as good (innermost axes only).
 */
export function reduceSumRuns(
  x: tf.TensorInfo, axes: number[], keepDims: boolean, backend: WasmBackendLike, scale = 1,
): tf.TensorInfo | undefined {
  if (x.dtype !== 'float32') return undefined;
  const rank = x.shape.length;
  const reduced = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  const dims: number[] = [];
  const kinds: number[] = []; // 1 kept, 0 reduced
  for (let i = 0; i < rank; i++) {
    const d = x.shape[i]!;
    if (d === 1) continue;
    const kind = reduced.has(i) ? 0 : 1;
    if (kinds.length > 0 && kinds[kinds.length - 1] === kind) dims[dims.length - 1]! *= d;
    else { dims.push(d); kinds.push(kind); }
  }
  // innermost-only reductions (or none) are what wasm does well
  if (dims.length < 2 || kinds[kinds.length - 1] === 0 && kinds.slice(0, -1).every((k) => k === 1)) return undefined;
  const outShape = keepDims ? x.shape.map((d, i) => (reduced.has(i) ? 1 : d)) : x.shape.filter((_, i) => !reduced.has(i));
  const outSize = outShape.reduce((p, d) => p * d, 1);
  const acc = new Float64Array(outSize);
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const strides = new Array<number>(dims.length).fill(0);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) if (kinds[i] === 1) { strides[i] = s; s *= dims[i]!; }
  const n = dims.length;
  const inner = dims[n - 1]!;
  const innerKept = kinds[n - 1] === 1;
  const outer = src.length / inner;
  const idx = new Array<number>(n - 1).fill(0);
  let j0 = 0;
  for (let r = 0, p = 0; r < outer; r++) {
    if (innerKept) {
      for (let k = 0; k < inner; k++, p++) acc[j0 + k]! += src[p]!;
    } else {
      let t = 0;
      for (let k = 0; k < inner; k++, p++) t += src[p]!;
      acc[j0]! += t;
    }
    for (let d = n - 2; d >= 0; d--) {
      idx[d]!++;
      j0 += strides[d]!;
      if (idx[d]! < dims[d]!) break;
      j0 -= strides[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
  const out = backend.makeOutput(outShape, 'float32');
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < outSize; i++) dst[i] = acc[i]! * scale;
  return out;
}
