import * as tf from '@tensorflow/tfjs';
import { dense } from '../layers.js';
import { declareDense } from './resnet.js';
import type { Declare } from './types.js';

/**
 * softmax(q kᵀ/√d) v over `heads` heads at once: q [b·n, c], k and v [b·l, c] → [b·n, c]. Heads are
 * contiguous chunks of the channels (diffusers' head_to_batch_dim) and go into the batch of two
 * batched matmuls, so no loop runs per head.
 */
export function attend(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, b: number, heads: number): tf.Tensor2D {
  const c = q.shape[1];
  const d = c / heads;
  const n = q.shape[0] / b;
  const l = k.shape[0] / b;
  const split = (z: tf.Tensor2D, len: number): tf.Tensor3D =>
    heads === 1 ? tf.reshape(z, [b, len, c]) : tf.reshape(tf.transpose(tf.reshape(z, [b, len, heads, d]), [0, 2, 1, 3]), [b * heads, len, d]);
  // The scale goes on q ([b·n, c]), smaller than the scores ([b·heads, n, l]).
  const a = tf.softmax(tf.matMul(split(tf.mul(q, 1 / Math.sqrt(d)), n), split(k, l), false, true));
  const o = tf.matMul(a, split(v, l));
  return tf.reshape(heads === 1 ? o : tf.transpose(tf.reshape(o, [b, heads, n, d]), [0, 2, 1, 3]), [b * n, c]);
}

/**
 * diffusers' `Attention` as the transformer blocks use it: to_q, to_k, to_v without bias (k and v
 * read `contextDim`-wide rows: the text states for cross-attention, the pixels themselves for
 * self-attention), then to_out.0 with bias. Each projection is one dense layer (`${n}.q`, …).
 */
export function attentionLayer(n: string, dim: number, contextDim: number, heads: number) {
  return {
    declare(create: Declare) {
      create(`${n}.q.kernel`, [dim, dim]);
      create(`${n}.k.kernel`, [contextDim, dim]);
      create(`${n}.v.kernel`, [contextDim, dim]);
      declareDense(create, `${n}.out`, dim, dim);
    },
    /** x [b·n, dim], context [b·l, contextDim] (x itself for self-attention). */
    forward(p: Parameters<typeof dense>[0], x: tf.Tensor2D, context: tf.Tensor2D, b: number): tf.Tensor2D {
      const o = attend(dense(p, `${n}.q`, x), dense(p, `${n}.k`, context), dense(p, `${n}.v`, context), b, heads);
      return dense(p, `${n}.out`, o);
    },
  };
}
