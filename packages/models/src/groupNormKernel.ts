import * as tf from '@tensorflow/tfjs';

/**
 * The contract of the fused GroupNorm(+SiLU) kernel. A backend package
 * implements these two kernel names (for wasm: `@tfjs-diffusion/backend`);
 * `groupNormOp` uses them when the active backend has them and falls back to
 * tfjs ops otherwise. The names live here, beside the op that defines their
 * meaning, as tfjs-core holds its kernel names and gradients for backends.
 *
 * `TfdGroupNorm`: inputs `x` [B, H, W, C] float32 (NHWC), `gamma` [C], `beta` [C];
 * output y = act(γ·(x − μ)/√(σ² + ε) + β) with μ, σ² (biased) over H, W and the
 * C/G channels of each group, act = SiLU when `silu` else identity.
 *
 * `TfdGroupNormGrad`: inputs `x`, `gamma`, `beta`, `dy` (y's gradient);
 * outputs [dx, dgamma, dbeta], the gradients of Σ y·dy.
 */
export const GROUP_NORM_KERNEL = 'TfdGroupNorm';
export const GROUP_NORM_GRAD_KERNEL = 'TfdGroupNormGrad';

export interface GroupNormAttrs {
  /** G: C must be a multiple of it. */
  groups: number;
  epsilon: number;
  /** Applies SiLU (x·sigmoid(x)) after the affine map. */
  silu: boolean;
}

let gradientRegistered = false;

/** Registers the fused kernel's gradient (through the grad kernel) once per process. */
export function registerGroupNormGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: GROUP_NORM_KERNEL,
    inputsToSave: ['x', 'gamma', 'beta'],
    gradFunc: (dy, saved, attrs) => {
      const [x, gamma, beta] = saved as tf.Tensor[];
      const [dx, dgamma, dbeta] = tf.engine().runKernel(
        GROUP_NORM_GRAD_KERNEL,
        { x: x!, gamma: gamma!, beta: beta!, dy: dy as tf.Tensor },
        attrs,
      ) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
}

/** True when the active backend has both fused kernels. */
export function hasFusedGroupNorm(): boolean {
  const b = tf.getBackend();
  return tf.getKernel(GROUP_NORM_KERNEL, b) !== undefined && tf.getKernel(GROUP_NORM_GRAD_KERNEL, b) !== undefined;
}

function checkArgs(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, a: GroupNormAttrs): void {
  if (x.rank !== 4) throw new Error(`groupNorm: x must be 4-D [B, H, W, C]; got shape [${x.shape.join(', ')}]`);
  const c = x.shape[3]!;
  if (!Number.isInteger(a.groups) || a.groups < 1 || c % a.groups !== 0) {
    throw new Error(`groupNorm: groups must be a positive integer dividing the ${c} channels; got ${a.groups}`);
  }
  if (!(a.epsilon > 0)) throw new Error(`groupNorm: epsilon must be > 0; got ${a.epsilon}`);
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== c) throw new Error(`groupNorm: ${name} must have shape [${c}]; got [${t.shape.join(', ')}]`);
  }
}

/** GroupNorm(+SiLU) as tfjs ops (every backend; the reference of the fused kernel). */
export function groupNormComposite(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, a: GroupNormAttrs): tf.Tensor4D {
  checkArgs(x, gamma, beta, a);
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const g = tf.reshape(x, [b, h, w, a.groups, c / a.groups]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    const n = tf.reshape(tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, a.epsilon))), x.shape);
    const z = tf.add(tf.mul(n, gamma), beta) as tf.Tensor4D;
    return a.silu ? (tf.mul(z, tf.sigmoid(z)) as tf.Tensor4D) : z;
  });
}

/** GroupNorm(+SiLU): the fused kernel when the active backend has it, else tfjs ops. */
export function groupNormOp(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, a: GroupNormAttrs): tf.Tensor4D {
  if (!hasFusedGroupNorm() || x.dtype !== 'float32') return groupNormComposite(x, gamma, beta, a);
  checkArgs(x, gamma, beta, a);
  registerGroupNormGradient();
  const attrs = { groups: a.groups, epsilon: a.epsilon, silu: a.silu } satisfies GroupNormAttrs;
  return tf.engine().runKernel(GROUP_NORM_KERNEL, { x, gamma, beta }, attrs) as tf.Tensor4D;
}
