// diffusers' get_down_block / get_up_block: block type name → the unit that builds it. A new block
// type is its file and one line here (the config accepts every name listed).
import { attnDownBlock2D } from './attnDownBlock2D.js';
import { attnUpBlock2D } from './attnUpBlock2D.js';
import { downBlock2D } from './downBlock2D.js';
import type { DownBlockFactory, UpBlockFactory } from './types.js';
import { upBlock2D } from './upBlock2D.js';

export const DOWN_BLOCKS = {
  DownBlock2D: downBlock2D,
  AttnDownBlock2D: attnDownBlock2D,
} satisfies Record<string, DownBlockFactory>;

export const UP_BLOCKS = {
  UpBlock2D: upBlock2D,
  AttnUpBlock2D: attnUpBlock2D,
} satisfies Record<string, UpBlockFactory>;

/** diffusers' block types a U-Net level can have. */
export type DownBlockType = keyof typeof DOWN_BLOCKS;
export type UpBlockType = keyof typeof UP_BLOCKS;
export const DOWN_BLOCK_TYPES = Object.keys(DOWN_BLOCKS) as readonly DownBlockType[];
export const UP_BLOCK_TYPES = Object.keys(UP_BLOCKS) as readonly UpBlockType[];
