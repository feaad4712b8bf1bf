import * as tf from '@tensorflow/tfjs';
import { reduceSumRuns } from './reduceRuns.js';
import { stockKernel } from './stockKernels.js';
import type { WasmBackendLike } from './wasmOps.js';

/** `Mean` over outer or interleaved axes in one pass (group norm's moments); wasm's own otherwise. */
export const meanConfig: tf.KernelConfig = {
  kernelName: tf.Mean,
  backendName: 'wasm',
  setupFunc: (backend) => { stockKernel(tf.Mean).setupFunc?.(backend); },
  kernelFunc: (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.MeanAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const count = axes.reduce((p, a) => p * x.shape[a]!, 1);
    return reduceSumRuns(x, axes, keepDims, args.backend as unknown as WasmBackendLike, 1 / count)
      ?? stockKernel(tf.Mean).kernelFunc(args);
  },
};
