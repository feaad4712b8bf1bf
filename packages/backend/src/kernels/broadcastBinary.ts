import * as tf from '@tensorflow/tfjs';
import { stockKernel } from './stockKernels.js';
import type { WasmBackendLike } from './wasmOps.js';

type Op = (a: number, b: number) => number;

/**
 * Full-size ⊙ broadcast float32 element-wise ops in a JavaScript loop over
 * the wasm heap. wasm 4.22 computes a multi-index per element whenever the
 * smaller operand broadcasts in more than one place (group norm's
 * [B,H,W,G,C/G] ⊙ [B,1,1,G,1], about 30 calls per training step), which runs
 * ~10× slower than its same-shape loop. Collapsing the dimensions into runs
 * that either match or broadcast leaves a few plain strided loops.
 * Returns undefined when the pattern does not apply (the caller falls back).
 */
export function broadcastBinary(
  a: tf.TensorInfo, b: tf.TensorInfo, backend: WasmBackendLike, op: Op,
): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const sizeA = a.shape.reduce((p, d) => p * d, 1);
  const sizeB = b.shape.reduce((p, d) => p * d, 1);
  if (sizeA === sizeB || sizeA === 0 || sizeB === 0) return undefined;
  const bigIsA = sizeA > sizeB;
  const big = bigIsA ? a : b;
  const small = bigIsA ? b : a;
  const rank = big.shape.length;
  if (small.shape.length > rank) return undefined;
  const smallShape = [...Array(rank - small.shape.length).fill(1), ...small.shape] as number[];
  // runs of dimensions that all match (kind 1) or all broadcast (kind 0)
  const dims: number[] = [];
  const kinds: number[] = [];
  for (let i = 0; i < rank; i++) {
    const d = big.shape[i]!;
    const s = smallShape[i]!;
    if (s !== d && s !== 1) return undefined; // the small one must broadcast into the big one
    if (d === 1) continue;
    const kind = s === d ? 1 : 0;
    if (kinds.length > 0 && kinds[kinds.length - 1] === kind) dims[dims.length - 1]! *= d;
    else { dims.push(d); kinds.push(kind); }
  }
  // only the simple shapes wasm handles slowly; everything else stays with wasm
  if (dims.length < 3 || dims.length > 5) return undefined;
  const out = backend.makeOutput([...big.shape], 'float32');
  const x = backend.typedArrayFromHeap(big) as Float32Array;
  const y = backend.typedArrayFromHeap(small) as Float32Array;
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  // stride of each run in the small operand (0 where it broadcasts)
  const strides = new Array<number>(dims.length).fill(0);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    if (kinds[i] === 1) { strides[i] = acc; acc *= dims[i]!; }
  }
  const n = dims.length;
  const inner = dims[n - 1]!;
  const innerStride = strides[n - 1]!;
  const outer = o.length / inner;
  const idx = new Array<number>(n - 1).fill(0);
  let j0 = 0; // offset in the small operand of the current inner run
  for (let r = 0, p = 0; r < outer; r++) {
    if (innerStride === 0) {
      const v = y[j0]!;
      if (bigIsA) for (let k = 0; k < inner; k++, p++) o[p] = op(x[p]!, v);
      else for (let k = 0; k < inner; k++, p++) o[p] = op(v, x[p]!);
    } else if (bigIsA) {
      for (let k = 0; k < inner; k++, p++) o[p] = op(x[p]!, y[j0 + k]!);
    } else {
      for (let k = 0; k < inner; k++, p++) o[p] = op(y[j0 + k]!, x[p]!);
    }
    // odometer over the outer runs
    for (let d = n - 2; d >= 0; d--) {
      idx[d]!++;
      j0 += strides[d]!;
      if (idx[d]! < dims[d]!) break;
      j0 -= strides[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** A kernel that takes the fast path where it applies and wasm's own kernel elsewhere. */
export function withBroadcastFastPath(kernelName: string, op: Op): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    // wasm's kernel binds its wasm function in its setup, which runs when the backend starts
    setupFunc: (backend) => { stockKernel(kernelName).setupFunc?.(backend); },
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      return broadcastBinary(a, b, args.backend as unknown as WasmBackendLike, op) ?? stockKernel(kernelName).kernelFunc(args);
    },
  };
}
