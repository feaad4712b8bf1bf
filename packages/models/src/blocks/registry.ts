// diffusers' get_down_block / get_up_block / get_mid_block: block type name → the unit that builds
// it. A new block type is its file and one line here (the config accepts every name listed).
import { attnDownBlock2D } from './attnDownBlock2D.js';
import { attnUpBlock2D } from './attnUpBlock2D.js';
import { crossAttnDownBlock2D } from './crossAttnDownBlock2D.js';
import { crossAttnUpBlock2D } from './crossAttnUpBlock2D.js';
import { downBlock2D } from './downBlock2D.js';
import { midBlock2D } from './midBlock2D.js';
import { midBlock2DCrossAttn } from './midBlock2DCrossAttn.js';
import type { DownBlockFactory, MidBlockFactory, UpBlockFactory } from './types.js';
import { upBlock2D } from './upBlock2D.js';

export const DOWN_BLOCKS = {
  DownBlock2D: downBlock2D,
  AttnDownBlock2D: attnDownBlock2D,
  CrossAttnDownBlock2D: crossAttnDownBlock2D,
} satisfies Record<string, DownBlockFactory>;

export const UP_BLOCKS = {
  UpBlock2D: upBlock2D,
  AttnUpBlock2D: attnUpBlock2D,
  CrossAttnUpBlock2D: crossAttnUpBlock2D,
} satisfies Record<string, UpBlockFactory>;

export const MID_BLOCKS = {
  UNetMidBlock2D: midBlock2D,
  UNetMidBlock2DCrossAttn: midBlock2DCrossAttn,
} satisfies Record<string, MidBlockFactory>;

/** diffusers' block types a U-Net level can have. */
export type DownBlockType = keyof typeof DOWN_BLOCKS;
export type UpBlockType = keyof typeof UP_BLOCKS;
export type MidBlockType = keyof typeof MID_BLOCKS;
export const DOWN_BLOCK_TYPES = Object.keys(DOWN_BLOCKS) as readonly DownBlockType[];
export const UP_BLOCK_TYPES = Object.keys(UP_BLOCKS) as readonly UpBlockType[];
export const MID_BLOCK_TYPES = Object.keys(MID_BLOCKS) as readonly MidBlockType[];

/** The block types whose units read the text states (they need crossAttentionDim). */
export const CROSS_ATTENTION_TYPES: readonly string[] = ['CrossAttnDownBlock2D', 'CrossAttnUpBlock2D', 'UNetMidBlock2DCrossAttn'];
