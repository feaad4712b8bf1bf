import { selfAttention } from './attention.js';
import { downLayers } from './downBlock2D.js';
import type { DownBlock, DownBlockArgs } from './types.js';

/** diffusers' AttnDownBlock2D: self-attention after each residual block, then a stride-2 conv. */
export const attnDownBlock2D = (a: DownBlockArgs): DownBlock =>
  downLayers(a, (i, ch) => selfAttention(`${a.prefix}.attn.${i}`, ch, a.config, { level: a.level }));
