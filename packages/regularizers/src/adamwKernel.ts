import * as tf from '@tensorflow/tfjs';

/**
 * The contract of the fused AdamW kernel: one call updates every parameter
 * tensor of a step. A backend package implements it (for wasm:
 * `@tfjs-diffusion/backend`); `createAdamW` uses it when the active backend
 * has it and runs tfjs ops per tensor otherwise.
 *
 * Inputs, for k = `count` tensors: `p0…`, `m0…`, `v0…`, `g0…` (parameter,
 * first and second moments, gradient; float32, each group of the same shape).
 * Per tensor i, with the scalars of the attributes:
 *   g ← g + l2[i]·p
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← keep[i]·p − stepSize[i]·m / (√v·invSqrtBc2 + ε)
 * Outputs: the new p0…p(k−1), then m0…, then v0… (3k tensors).
 */
export const ADAMW_KERNEL = 'TfdAdamW';

export interface AdamWKernelAttrs {
  count: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1/√(1 − β2^t) */
  invSqrtBc2: number;
  /** Per tensor: lr·scale/(1 − β1^t). */
  stepSize: number[];
  /** Per tensor: 1 − lr·scale·λ (decoupled decay), else 1. */
  keep: number[];
  /** Per tensor: λ in 'l2' mode, else 0. */
  l2: number[];
}

/** True when the active backend has the fused AdamW kernel. */
export function hasFusedAdamW(): boolean {
  return tf.getKernel(ADAMW_KERNEL, tf.getBackend()) !== undefined;
}
