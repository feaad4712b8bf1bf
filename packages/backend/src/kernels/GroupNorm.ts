import type * as tf from '@tensorflow/tfjs';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, type GroupNormAttrs } from '@tfjs-diffusion/models/kernels';
import { checkGroupNormDims, groupNormBackward, groupNormForward, type GroupNormDims } from './groupNormMath.js';
import { wasmKernels } from './wasm/loader.js';
import type { WasmBackendLike } from './wasmOps.js';
import { typedAttrs, type KernelArgs } from './kernelArgs.js';

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

/**
 * The module of wasm/groupNorm.ts (SIMD over whole groups of 4 channels), or
 * undefined where it is not loaded or C is not a multiple of 4: then the
 * plain-TypeScript kernels of groupNormMath.ts run.
 */
function simdModule(d: GroupNormDims) {
  return d.channels % 4 === 0 ? wasmKernels()?.module('groupNorm') : undefined;
}

/** Lays out float32 arrays of the given lengths one after another in the module's memory (after growing it). */
function layout(m: NonNullable<ReturnType<typeof simdModule>>, lengths: number[], scratchBytes: number): { at: number[]; scratch: number } {
  const at: number[] = [];
  let bytes = 0;
  for (const n of lengths) {
    at.push(m.base + bytes);
    bytes += Math.ceil(n / 4) * 16;
  }
  m.reserve(bytes + scratchBytes);
  return { at, scratch: m.base + bytes };
}

/** The fused GroupNorm(+SiLU) forward (contract: `@tfjs-diffusion/models/kernels`' GROUP_NORM_KERNEL). */
export function groupNormWasm(args: KernelArgs): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const d = dims(x, gamma, beta, typedAttrs<GroupNormAttrs>(args.attrs));
  const backend = args.backend as WasmBackendLike;
  const y = backend.makeOutput(x.shape, 'float32');
  // views taken after makeOutput: allocating may grow (and move) the heap
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const m = simdModule(d);
  if (m === undefined) {
    groupNormForward(view(x), view(gamma), view(beta), view(y), d);
    return y;
  }
  const n = d.batch * d.pixels * d.channels;
  const C = d.channels;
  const { at, scratch } = layout(m, [n, C, C, n], m.exports.scratchBytes!(C) as number);
  const mem = m.f32();
  mem.set(view(x), at[0]! >> 2);
  mem.set(view(gamma), at[1]! >> 2);
  mem.set(view(beta), at[2]! >> 2);
  m.exports.groupNormForward!(at[0]!, at[1]!, at[2]!, at[3]!, d.batch, d.pixels, C, d.groups, d.epsilon, d.silu ? 1 : 0, scratch);
  view(y).set(mem.subarray(at[3]! >> 2, (at[3]! >> 2) + n));
  return y;
}

/** dx, dγ, dβ of the fused GroupNorm(+SiLU) (contract: GROUP_NORM_GRAD_KERNEL). */
export function groupNormGradWasm(args: KernelArgs): tf.TensorInfo[] {
  const { x, gamma, beta, dy } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo; dy: tf.TensorInfo };
  const d = dims(x, gamma, beta, typedAttrs<GroupNormAttrs>(args.attrs));
  if (dy.dtype !== 'float32' || dy.shape.length !== 4 || dy.shape.some((s, i) => s !== x.shape[i])) {
    throw new Error(`TfdGroupNormGrad: dy must be float32 of x's shape [${x.shape.join(', ')}]; got ${dy.dtype} [${dy.shape.join(', ')}]`);
  }
  const backend = args.backend as WasmBackendLike;
  const dx = backend.makeOutput(x.shape, 'float32');
  const dgamma = backend.makeOutput([d.channels], 'float32');
  const dbeta = backend.makeOutput([d.channels], 'float32');
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const m = simdModule(d);
  if (m === undefined) {
    groupNormBackward(view(x), view(gamma), view(beta), view(dy), view(dx), view(dgamma), view(dbeta), d);
    return [dx, dgamma, dbeta];
  }
  const n = d.batch * d.pixels * d.channels;
  const C = d.channels;
  const { at, scratch } = layout(m, [n, C, C, n, n, C, C], m.exports.scratchBytes!(C) as number);
  const mem = m.f32();
  [x, gamma, beta, dy].forEach((t, i) => mem.set(view(t), at[i]! >> 2));
  m.exports.groupNormBackward!(at[0]!, at[1]!, at[2]!, at[3]!, at[4]!, at[5]!, at[6]!, d.batch, d.pixels, C, d.groups, d.epsilon, d.silu ? 1 : 0, scratch);
  view(dx).set(mem.subarray(at[4]! >> 2, (at[4]! >> 2) + n));
  view(dgamma).set(mem.subarray(at[5]! >> 2, (at[5]! >> 2) + C));
  view(dbeta).set(mem.subarray(at[6]! >> 2, (at[6]! >> 2) + C));
  return [dx, dgamma, dbeta];
}

export const groupNormConfig: tf.KernelConfig = {
  kernelName: GROUP_NORM_KERNEL,
  backendName: 'wasm',
  kernelFunc: groupNormWasm,
};

export const groupNormGradConfig: tf.KernelConfig = {
  kernelName: GROUP_NORM_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: groupNormGradWasm,
};
