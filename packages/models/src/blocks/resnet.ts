import * as tf from '@tensorflow/tfjs';
import { dropout } from '@tfjs-diffusion/regularizers';
import { conv, dense, groupNorm, silu } from '../layers.js';
import type { BlockConfig, BlockContext, Declare, Unit } from './types.js';

export const declareGroupNorm = (create: Declare, n: string, ch: number): void => {
  create(`${n}.gamma`, [ch], 'ones');
  create(`${n}.beta`, [ch], 'zeros');
};

export const declareConv = (create: Declare, n: string, k: number, ci: number, co: number): void => {
  create(`${n}.kernel`, [k, k, ci, co]);
  create(`${n}.bias`, [co], 'zeros');
};

export const declareDense = (create: Declare, n: string, ci: number, co: number): void => {
  create(`${n}.kernel`, [ci, co]);
  create(`${n}.bias`, [co], 'zeros');
};

/**
 * diffusers' ResnetBlock2D: GroupNorm, SiLU, conv, the embedding added per channel (or, under
 * 'scale_shift', norm2's output scaled by 1 + scale and shifted), GroupNorm, SiLU, dropout, conv,
 * plus the input (through a 1×1 conv when the channels change).
 */
export function resnetBlock(n: string, ci: number, co: number, config: BlockConfig): Unit {
  const scaleShift = config.resnetTimeScaleShift === 'scale_shift';
  return {
    declare(create) {
      declareGroupNorm(create, `${n}.norm1`, ci);
      declareConv(create, `${n}.conv1`, 3, ci, co);
      declareDense(create, `${n}.emb`, config.embedDim, (scaleShift ? 2 : 1) * co);
      declareGroupNorm(create, `${n}.norm2`, co);
      declareConv(create, `${n}.conv2`, 3, co, co);
      if (ci !== co) declareConv(create, `${n}.skip`, 1, ci, co);
    },
    forward(ctx: BlockContext, h: tf.Tensor4D): tf.Tensor4D {
      const { p, batch: b, emb: es } = ctx;
      const { normNumGroups: G, normEps: eps } = config;
      let y = conv(p, `${n}.conv1`, groupNorm(p, `${n}.norm1`, h, G, eps, { silu: true }));
      let y2: tf.Tensor4D;
      if (es && scaleShift) {
        const [scale, shift] = tf.split(tf.reshape(dense(p, `${n}.emb`, es), [b, 1, 1, 2 * co]), 2, 3);
        y2 = silu(tf.add(tf.mul(groupNorm(p, `${n}.norm2`, y, G, eps), tf.add(scale!, 1)), shift!) as tf.Tensor4D);
      } else {
        if (es) y = tf.add(y, tf.reshape(dense(p, `${n}.emb`, es), [b, 1, 1, co]));
        y2 = groupNorm(p, `${n}.norm2`, y, G, eps, { silu: true });
      }
      const seed = ctx.nextDropoutSeed();
      if (ctx.dropoutRate > 0) y2 = dropout(y2, ctx.dropoutRate, seed);
      y = conv(p, `${n}.conv2`, y2);
      return tf.add(ci !== co ? conv(p, `${n}.skip`, h) : h, y);
    },
  };
}
