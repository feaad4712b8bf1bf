import * as tf from '@tensorflow/tfjs';
import { dense, type ParamStore } from '../layers.js';
import { attentionLayer } from './multiHeadAttention.js';
import { declareDense } from './resnet.js';
import type { Declare } from './types.js';

/** LayerNorm over the last axis with `${n}.gamma` / `${n}.beta` (PyTorch's nn.LayerNorm, eps 1e-5). */
export function layerNorm(p: ParamStore, n: string, x: tf.Tensor2D, eps = 1e-5): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), p.get(`${n}.gamma`)), p.get(`${n}.beta`));
}

const declareLayerNorm = (create: Declare, n: string, dim: number): void => {
  create(`${n}.gamma`, [dim], 'ones');
  create(`${n}.beta`, [dim], 'zeros');
};

/** GELU with the exact erf, as PyTorch's default. */
const gelu = (x: tf.Tensor2D): tf.Tensor2D => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));

export interface TransformerBlockOptions {
  heads: number;
  crossAttentionDim: number;
  /** attn1 attends to the text states too (diffusers' only_cross_attention). */
  onlyCrossAttention: boolean;
}

/**
 * diffusers' BasicTransformerBlock (no dropout, no ada-norm): x + attn1(norm1 x) (self-attention),
 * x + attn2(norm2 x, text) (cross-attention), x + ff(norm3 x) with a GEGLU feed-forward
 * (Linear to 2 × 4·dim, hidden · gelu(gate), Linear back).
 */
export function basicTransformerBlock(n: string, dim: number, o: TransformerBlockOptions) {
  const attn1 = attentionLayer(`${n}.attn1`, dim, o.onlyCrossAttention ? o.crossAttentionDim : dim, o.heads);
  const attn2 = attentionLayer(`${n}.attn2`, dim, o.crossAttentionDim, o.heads);
  const inner = 4 * dim;
  return {
    declare(create: Declare) {
      declareLayerNorm(create, `${n}.norm1`, dim);
      attn1.declare(create);
      declareLayerNorm(create, `${n}.norm2`, dim);
      attn2.declare(create);
      declareLayerNorm(create, `${n}.norm3`, dim);
      declareDense(create, `${n}.ff.proj`, dim, 2 * inner);
      declareDense(create, `${n}.ff.out`, inner, dim);
    },
    /** x [b·hw, dim], context [b·l, crossAttentionDim]. */
    forward(p: ParamStore, x: tf.Tensor2D, context: tf.Tensor2D, b: number): tf.Tensor2D {
      const y1 = layerNorm(p, `${n}.norm1`, x);
      x = tf.add(x, attn1.forward(p, y1, o.onlyCrossAttention ? context : y1, b));
      x = tf.add(x, attn2.forward(p, layerNorm(p, `${n}.norm2`, x), context, b));
      const [hidden, gate] = tf.split(dense(p, `${n}.ff.proj`, layerNorm(p, `${n}.norm3`, x)), 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      return tf.add(x, dense(p, `${n}.ff.out`, tf.mul(hidden, gelu(gate))));
    },
  };
}
