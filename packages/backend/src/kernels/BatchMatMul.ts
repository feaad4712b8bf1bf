import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasmOps.js';

let stock: tf.KernelConfig | undefined;

/** Keeps wasm's own BatchMatMul (call before registering ours). */
export function rememberStockBatchMatMul(): void {
  const k = tf.getKernel(tf.BatchMatMul, 'wasm');
  if (k !== undefined && k.kernelFunc !== batchMatMul) stock = k;
}

/**
 * wasm 4.22's BatchMatMul runs XNNPACK only without transposes; with
 * `transposeA` or `transposeB` (every matmul gradient, attention's q·kᵀ) it
 * falls to a scalar loop about 15× slower (1.5–1.8 against 25 GFLOP/s at
 * 128×256×256, bench/kernels.ts --matmul). Transposing the operand first is
 * one pass over it, then the fast path.
 */
export function batchMatMul(args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  if (stock === undefined) throw new Error('BatchMatMul: the wasm backend\'s own kernel was not found (registerTrainingKernels must run after the wasm backend is registered)');
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const call = (x: tf.TensorInfo, y: tf.TensorInfo, ta: boolean, tb: boolean) =>
    stock!.kernelFunc({ inputs: { a: x, b: y }, attrs: { transposeA: ta, transposeB: tb }, backend: args.backend as tf.KernelBackend }) as tf.TensorInfo;
  if (!transposeA && !transposeB) return call(a, b, false, false);
  const backend = args.backend as WasmBackendLike;
  const made: tf.TensorInfo[] = [];
  // The last two axes swapped by a JavaScript loop over heap views: wasm's own
  // Transpose takes milliseconds on a 256×128 matrix.
  const swapLast = (x: tf.TensorInfo) => {
    const r = x.shape.length;
    const rows = x.shape[r - 2]!;
    const cols = x.shape[r - 1]!;
    const shape = [...x.shape.slice(0, r - 2), cols, rows];
    const out = backend.makeOutput(shape, 'float32');
    made.push(out);
    const src = backend.typedArrayFromHeap(x) as Float32Array; // views taken after the allocation
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    const size = rows * cols;
    for (let o = 0; o < src.length; o += size) {
      for (let i = 0; i < rows; i++) {
        const from = o + i * cols;
        for (let j = 0; j < cols; j++) dst[o + j * rows + i] = src[from + j]!;
      }
    }
    return out;
  };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return call(a, b, !!transposeA, !!transposeB);
  try {
    return call(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b, false, false);
  } finally {
    // also when wasm's kernel refuses the shapes (tf.matMul leaves that check to the kernel)
    for (const t of made) backend.disposeData(t.dataId);
  }
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMul,
  setupFunc: (backend) => stock?.setupFunc?.(backend),
};
