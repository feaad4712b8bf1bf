import { midLayers } from './midBlock2D.js';
import { resnetBlock } from './resnet.js';
import { transformer2D } from './transformer2D.js';
import type { MidBlock, MidBlockArgs } from './types.js';

/** diffusers' UNetMidBlock2DCrossAttn: residual block, Transformer2DModel, residual block. */
export const midBlock2DCrossAttn = (a: MidBlockArgs): MidBlock => ({
  ...midLayers([
    resnetBlock(`${a.prefix}.res.0`, a.channels, a.channels, a.config),
    transformer2D(`${a.prefix}.transformer`, a.channels, a.level, a.config),
    resnetBlock(`${a.prefix}.res.1`, a.channels, a.channels, a.config),
  ]),
  reads: ['encoderHiddenStates'],
});
