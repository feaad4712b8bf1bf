import * as tf from '@tensorflow/tfjs';
import { reduceSumRuns } from './reduceRuns.js';
import { stockKernel } from './stockKernels.js';
import type { WasmBackendLike } from './wasmOps.js';

/** `Sum` over outer or interleaved axes in one pass (see reduceSumRuns); wasm's own otherwise. */
export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  setupFunc: (backend) => { stockKernel(tf.Sum).setupFunc?.(backend); },
  kernelFunc: (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    return reduceSumRuns(x, axes, keepDims, args.backend as unknown as WasmBackendLike) ?? stockKernel(tf.Sum).kernelFunc(args);
  },
};
