import * as tf from '@tensorflow/tfjs';
import { conv, groupNorm } from '../layers.js';
import { declareConv, declareGroupNorm } from './resnet.js';
import type { BlockConfig, BlockContext, Unit } from './types.js';

/** Heads of an attention block over `channels` channels at `level` (a per-level list: the middle block passes the last level). */
export function attentionHeadsFor(c: Pick<BlockConfig, 'attentionHeads' | 'attentionHeadDim'>, channels: number, level?: number): number {
  if (c.attentionHeadDim !== null) return channels / c.attentionHeadDim;
  const h = c.attentionHeads;
  return typeof h === 'number' ? h : h[level ?? h.length - 1]!;
}

/**
 * Multi-head self-attention over the pixels, residual (diffusers' `Attention` in its 2-D blocks):
 * optional GroupNorm, one 1×1 conv to q, k, v, softmax(q kᵀ/√d) v, a 1×1 conv out.
 */
export function selfAttention(n: string, ch: number, config: BlockConfig, { norm = true, level }: { norm?: boolean; level?: number } = {}): Unit {
  return {
    declare(create) {
      if (norm) declareGroupNorm(create, `${n}.norm`, ch);
      declareConv(create, `${n}.qkv`, 1, ch, 3 * ch);
      declareConv(create, `${n}.out`, 1, ch, ch);
    },
    forward(ctx: BlockContext, h: tf.Tensor4D): tf.Tensor4D {
      const { p, batch: b } = ctx;
      const [, hh, ww, cc] = h.shape;
      const heads = attentionHeadsFor(config, cc, level);
      const d = cc / heads;
      const qkv = conv(p, `${n}.qkv`, norm ? groupNorm(p, `${n}.norm`, h, config.normNumGroups, config.normEps) : h);
      // [b, hw, 3, heads, d] → three [b·heads, hw, d]
      const parts = tf.split(tf.reshape(qkv, [b, hh * ww, 3 * cc]), 3, 2).map((z) =>
        heads === 1 ? z : tf.reshape(tf.transpose(tf.reshape(z, [b, hh * ww, heads, d]), [0, 2, 1, 3]), [b * heads, hh * ww, d]),
      );
      const a = tf.softmax(tf.mul(tf.matMul(parts[0]!, parts[1]!, false, true), 1 / Math.sqrt(d)));
      let o = tf.matMul(a, parts[2]!);
      if (heads > 1) o = tf.reshape(tf.transpose(tf.reshape(o, [b, heads, hh * ww, d]), [0, 2, 1, 3]), [b, hh * ww, cc]);
      return tf.add(h, conv(p, `${n}.out`, tf.reshape(o, [b, hh, ww, cc])));
    },
  };
}
