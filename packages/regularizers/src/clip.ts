import * as tf from '@tensorflow/tfjs';

/**
 * Scales all gradients by min(1, maxNorm / (‖g‖ + 1e-6)), ‖g‖ the global L2
 * norm over every tensor, as torch.nn.utils.clip_grad_norm_. Returns new
 * tensors (the caller disposes them and the inputs) and the norm before clipping.
 * A non-finite norm leaves the gradients unscaled so a guard can see it.
 */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: number } {
  if (!(maxNorm > 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalNorm(grads);
  const coef = clipScale(norm, maxNorm);
  const out: Record<string, tf.Tensor> = {};
  for (const [name, g] of Object.entries(grads)) out[name] = coef === 1 ? tf.clone(g) : tf.tidy(() => tf.mul(g, coef));
  return { grads: out, norm };
}

/**
 * The factor clipByGlobalNorm scales gradients of global norm `norm` by:
 * min(1, maxNorm / (norm + 1e-6)), and 1 for a non-finite norm. For code that
 * has the norm already (gradients averaged on the host).
 */
export function clipScale(norm: number, maxNorm: number): number {
  return Number.isFinite(norm) ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
}

/** √(Σ‖g_i‖²) over all tensors, as a number. */
export function globalNorm(grads: Record<string, tf.Tensor>): number {
  const list = Object.values(grads);
  if (list.length === 0) return 0;
  return tf.tidy(() => tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
}
