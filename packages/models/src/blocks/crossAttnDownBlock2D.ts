import { downLayers } from './downBlock2D.js';
import { transformer2D } from './transformer2D.js';
import type { DownBlock, DownBlockArgs } from './types.js';

/** diffusers' CrossAttnDownBlock2D: a Transformer2DModel after each residual block, then a stride-2 conv. */
export const crossAttnDownBlock2D = (a: DownBlockArgs): DownBlock => ({
  ...downLayers(a, (i, ch) => transformer2D(`${a.prefix}.transformer.${i}`, ch, a.level, a.config)),
  reads: ['encoderHiddenStates'],
});
