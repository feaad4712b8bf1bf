import type * as tf from '@tensorflow/tfjs';
import { conv } from '../layers.js';
import { declareConv, resnetBlock } from './resnet.js';
import type { BlockContext, DownBlock, DownBlockArgs, Unit } from './types.js';

/**
 * A level going down as layers: each a residual block, then `extra(i, channels)` when given (an
 * attention or cross-attention unit); a skip after each layer and after the stride-2 downsampling conv.
 */
export function downLayers(a: DownBlockArgs, extra?: (i: number, channels: number) => Unit): DownBlock {
  const layers: Unit[][] = [];
  for (let i = 0; i < a.numLayers; i++) {
    const res = resnetBlock(`${a.prefix}.res.${i}`, i === 0 ? a.inChannels : a.outChannels, a.outChannels, a.config);
    layers.push(extra ? [res, extra(i, a.outChannels)] : [res]);
  }
  const down = `${a.prefix}.downsample`;
  return {
    skipChannels: Array.from({ length: a.numLayers + (a.addDownsample ? 1 : 0) }, () => a.outChannels),
    declare(create) {
      for (const units of layers) for (const u of units) u.declare(create);
      if (a.addDownsample) declareConv(create, down, 3, a.outChannels, a.outChannels);
    },
    forward(ctx: BlockContext, h: tf.Tensor4D) {
      const skips: tf.Tensor4D[] = [];
      for (const units of layers) {
        for (const u of units) h = u.forward(ctx, h);
        skips.push(h);
      }
      if (a.addDownsample) {
        h = conv(ctx.p, down, h, 2, a.config.downsamplePadding === 0 ? 'same' : 1);
        skips.push(h);
      }
      return { h, skips };
    },
  };
}

/** diffusers' DownBlock2D: residual blocks, then a stride-2 conv. */
export const downBlock2D = (a: DownBlockArgs): DownBlock => downLayers(a);
