import * as tf from '@tensorflow/tfjs';
import { conv, dense, groupNorm } from '../layers.js';
import { attentionHeadsFor } from './attention.js';
import { basicTransformerBlock } from './basicTransformerBlock.js';
import { declareConv, declareDense, declareGroupNorm } from './resnet.js';
import type { BlockConfig, BlockContext, Unit } from './types.js';

/** Per level (or one value for all), as diffusers' per-block options: the value at `level`. */
export const atLevel = <T>(v: T | readonly T[], level: number): T => (Array.isArray(v) ? (v as readonly T[])[level]! : (v as T));

/**
 * diffusers' Transformer2DModel on continuous input: GroupNorm (eps 1e-6), proj_in (1×1 conv, or a
 * Linear with `useLinearProjection`), `transformerLayersPerBlock` BasicTransformerBlocks over the
 * pixels as tokens, proj_out, plus the input. Reads the call's `encoderHiddenStates` [B, L, D].
 */
export function transformer2D(n: string, ch: number, level: number, config: BlockConfig): Unit {
  const crossDim = config.crossAttentionDim;
  if (crossDim === null) throw new Error(`${n}: a cross-attention block needs crossAttentionDim (the width of encoderHiddenStates)`);
  const heads = attentionHeadsFor(config, ch, level);
  const linear = config.useLinearProjection;
  const blocks = Array.from({ length: atLevel(config.transformerLayersPerBlock, level) }, (_, j) =>
    basicTransformerBlock(`${n}.blocks.${j}`, ch, { heads, crossAttentionDim: crossDim, onlyCrossAttention: atLevel(config.onlyCrossAttention, level) }),
  );
  const proj = (create: Parameters<Unit['declare']>[0], name: string) => (linear ? declareDense(create, name, ch, ch) : declareConv(create, name, 1, ch, ch));
  return {
    declare(create) {
      declareGroupNorm(create, `${n}.norm`, ch);
      proj(create, `${n}.projIn`);
      for (const blk of blocks) blk.declare(create);
      proj(create, `${n}.projOut`);
    },
    forward(ctx: BlockContext, h: tf.Tensor4D): tf.Tensor4D {
      const { p, batch: b } = ctx;
      const states = ctx.cond?.encoderHiddenStates;
      if (!states) throw new Error(`${n}: cross-attention needs cond.encoderHiddenStates [batch, length, ${crossDim}]`);
      const [, hh, ww] = h.shape;
      const context = tf.reshape(states, [-1, crossDim]) as tf.Tensor2D;
      const normed = groupNorm(p, `${n}.norm`, h, config.normNumGroups, 1e-6);
      let x = linear ? dense(p, `${n}.projIn`, tf.reshape(normed, [-1, ch])) : (tf.reshape(conv(p, `${n}.projIn`, normed), [-1, ch]) as tf.Tensor2D);
      for (const blk of blocks) x = blk.forward(p, x, context, b);
      const out = linear ? tf.reshape(dense(p, `${n}.projOut`, x), [b, hh, ww, ch]) : conv(p, `${n}.projOut`, tf.reshape(x, [b, hh, ww, ch]));
      return tf.add(h, out);
    },
  };
}
