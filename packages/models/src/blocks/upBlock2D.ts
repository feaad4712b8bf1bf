import * as tf from '@tensorflow/tfjs';
import { conv } from '../layers.js';
import { declareConv, resnetBlock } from './resnet.js';
import type { BlockContext, Unit, UpBlock, UpBlockArgs } from './types.js';

/**
 * A level going up as layers: each concatenates the next skip to its input, then a residual block
 * and `extra(i, channels)` when given; then nearest ×2 and a conv.
 */
export function upLayers(a: UpBlockArgs, extra?: (i: number, channels: number) => Unit): UpBlock {
  if (a.skipChannels.length !== a.numLayers) throw new Error(`${a.prefix}: ${a.numLayers} layers need ${a.numLayers} skips; got ${a.skipChannels.length}`);
  const layers: Unit[][] = [];
  for (let i = 0; i < a.numLayers; i++) {
    const res = resnetBlock(`${a.prefix}.res.${i}`, (i === 0 ? a.inChannels : a.outChannels) + a.skipChannels[i]!, a.outChannels, a.config);
    layers.push(extra ? [res, extra(i, a.outChannels)] : [res]);
  }
  const up = `${a.prefix}.upsample`;
  return {
    declare(create) {
      for (const units of layers) for (const u of units) u.declare(create);
      if (a.addUpsample) declareConv(create, up, 3, a.outChannels, a.outChannels);
    },
    forward(ctx: BlockContext, h: tf.Tensor4D, skips: tf.Tensor4D[]) {
      layers.forEach((units, i) => {
        h = tf.concat([h, skips[i]!], 3);
        for (const u of units) h = u.forward(ctx, h);
      });
      if (a.addUpsample) h = conv(ctx.p, up, tf.image.resizeNearestNeighbor(h, [h.shape[1] * 2, h.shape[2] * 2]));
      return h;
    },
  };
}

/** diffusers' UpBlock2D: residual blocks over the input and the skips, then nearest ×2 and a conv. */
export const upBlock2D = (a: UpBlockArgs): UpBlock => upLayers(a);
