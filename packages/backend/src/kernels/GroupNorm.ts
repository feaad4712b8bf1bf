import * as tf from '@tensorflow/tfjs';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, type GroupNormAttrs } from '@tfjs-diffusion/models/kernels';
import { checkGroupNormDims, groupNormBackward, groupNormForward, type GroupNormDims } from './groupNormMath.js';
import type { WasmBackendLike } from './wasmOps.js';

interface Args { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }

function dims(x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo, a: GroupNormAttrs): GroupNormDims {
  if (x.shape.length !== 4 || x.dtype !== 'float32') {
    throw new Error(`TfdGroupNorm: x must be a 4-D float32 tensor [B, H, W, C]; got ${x.dtype} [${x.shape.join(', ')}]`);
  }
  const [batch, h, w, channels] = x.shape as [number, number, number, number];
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.shape.length !== 1 || t.shape[0] !== channels || t.dtype !== 'float32') {
      throw new Error(`TfdGroupNorm: ${name} must be float32 of shape [${channels}]; got ${t.dtype} [${t.shape.join(', ')}]`);
    }
  }
  const d = { batch, pixels: h * w, channels, groups: a.groups, epsilon: a.epsilon, silu: a.silu };
  checkGroupNormDims(d);
  return d;
}

/** The fused GroupNorm(+SiLU) forward on the wasm heap (contract: `@tfjs-diffusion/models`' GROUP_NORM_KERNEL). */
export function groupNormWasm(args: Args): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const d = dims(x, gamma, beta, args.attrs as unknown as GroupNormAttrs);
  const backend = args.backend as WasmBackendLike;
  const y = backend.makeOutput(x.shape, 'float32');
  // views taken after makeOutput: allocating may grow (and move) the heap
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  groupNormForward(view(x), view(gamma), view(beta), view(y), d);
  return y;
}

/** dx, dγ, dβ of the fused GroupNorm(+SiLU) (contract: GROUP_NORM_GRAD_KERNEL). */
export function groupNormGradWasm(args: Args): tf.TensorInfo[] {
  const { x, gamma, beta, dy } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo; dy: tf.TensorInfo };
  const d = dims(x, gamma, beta, args.attrs as unknown as GroupNormAttrs);
  if (dy.dtype !== 'float32' || dy.shape.length !== 4 || dy.shape.some((s, i) => s !== x.shape[i])) {
    throw new Error(`TfdGroupNormGrad: dy must be float32 of x's shape [${x.shape.join(', ')}]; got ${dy.dtype} [${dy.shape.join(', ')}]`);
  }
  const backend = args.backend as WasmBackendLike;
  const dx = backend.makeOutput(x.shape, 'float32');
  const dgamma = backend.makeOutput([d.channels], 'float32');
  const dbeta = backend.makeOutput([d.channels], 'float32');
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  groupNormBackward(view(x), view(gamma), view(beta), view(dy), view(dx), view(dgamma), view(dbeta), d);
  return [dx, dgamma, dbeta];
}

export const groupNormConfig: tf.KernelConfig = {
  kernelName: GROUP_NORM_KERNEL,
  backendName: 'wasm',
  kernelFunc: groupNormWasm as unknown as tf.KernelFunc,
};

export const groupNormGradConfig: tf.KernelConfig = {
  kernelName: GROUP_NORM_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: groupNormGradWasm as unknown as tf.KernelFunc,
};
