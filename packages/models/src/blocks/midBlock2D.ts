import type * as tf from '@tensorflow/tfjs';
import { selfAttention } from './attention.js';
import { resnetBlock } from './resnet.js';
import type { BlockContext, MidBlock, MidBlockArgs, Unit } from './types.js';

/** Units run one after the other. */
export function midLayers(units: Unit[]): MidBlock {
  return {
    declare(create) {
      for (const u of units) u.declare(create);
    },
    forward(ctx: BlockContext, h: tf.Tensor4D) {
      for (const u of units) h = u.forward(ctx, h);
      return h;
    },
  };
}

/**
 * diffusers' UNetMidBlock2D: residual block, self-attention (`add_attention`), residual block.
 * Its attention has no GroupNorm under 'scale_shift', as diffusers' (which keeps the two interchangeable).
 */
export const midBlock2D = (a: MidBlockArgs): MidBlock =>
  midLayers([
    resnetBlock(`${a.prefix}.res.0`, a.channels, a.channels, a.config),
    ...(a.attention ? [selfAttention(`${a.prefix}.attn`, a.channels, a.config, { norm: a.config.resnetTimeScaleShift === 'default', level: a.level })] : []),
    resnetBlock(`${a.prefix}.res.1`, a.channels, a.channels, a.config),
  ]);
