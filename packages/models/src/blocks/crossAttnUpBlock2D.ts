import { transformer2D } from './transformer2D.js';
import type { UpBlock, UpBlockArgs } from './types.js';
import { upLayers } from './upBlock2D.js';

/** diffusers' CrossAttnUpBlock2D: a Transformer2DModel after each residual block, then nearest ×2 and a conv. */
export const crossAttnUpBlock2D = (a: UpBlockArgs): UpBlock => ({
  ...upLayers(a, (i, ch) => transformer2D(`${a.prefix}.transformer.${i}`, ch, a.level, a.config)),
  reads: ['encoderHiddenStates'],
});
