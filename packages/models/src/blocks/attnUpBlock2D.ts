import { selfAttention } from './attention.js';
import { upLayers } from './upBlock2D.js';
import type { UpBlock, UpBlockArgs } from './types.js';

/** diffusers' AttnUpBlock2D: self-attention after each residual block, then nearest ×2 and a conv. */
export const attnUpBlock2D = (a: UpBlockArgs): UpBlock =>
  upLayers(a, (i, ch) => selfAttention(`${a.prefix}.attn.${i}`, ch, a.config, { level: a.level }));
