// What the U-Net's block units share: how they declare parameters and what their forward gets.
import type * as tf from '@tensorflow/tfjs';
import type { Conditioning, ConditioningField } from '@tfjs-diffusion/samplers';
import type { Init, ParamStore } from '../layers.js';

/** Creates a named parameter (the constructor allocates it; the size estimate only counts it). */
export type Declare = (name: string, shape: number[], init?: Init) => void;

/** The config fields the blocks read; a UNetConfig has them all. */
export interface BlockConfig {
  readonly normNumGroups: number;
  readonly normEps: number;
  /** Width of the time/class embedding every residual block projects. */
  readonly embedDim: number;
  readonly resnetTimeScaleShift: 'default' | 'scale_shift';
  /** Heads, one count or one per level (the middle block takes the last). */
  readonly attentionHeads: number | readonly number[];
  readonly attentionHeadDim: number | null;
  readonly downsamplePadding: 0 | 1;
  /** Width of encoderHiddenStates rows, for the cross-attention blocks; null: none. */
  readonly crossAttentionDim: number | null;
  /** BasicTransformerBlocks per Transformer2DModel, one count or one per level. */
  readonly transformerLayersPerBlock: number | readonly number[];
  /** proj_in / proj_out as Linear layers instead of 1×1 convs. */
  readonly useLinearProjection: boolean;
  /** The self-attention of the transformer blocks attends to the text instead, one flag or one per level. */
  readonly onlyCrossAttention: boolean | readonly boolean[];
}

/** What a block's forward gets besides its input. */
export interface BlockContext {
  readonly p: ParamStore;
  readonly config: BlockConfig;
  readonly batch: number;
  /** SiLU of the time (+ class) embedding [B, embedDim]; absent when the network embeds neither. */
  readonly emb?: tf.Tensor2D;
  /** The call's condition, for blocks that read it (cross-attention reads `encoderHiddenStates`). */
  readonly cond?: Conditioning;
  /** Dropout rate of this call (0 unless training). */
  readonly dropoutRate: number;
  /** The mask seed of the next residual block (one per block, in forward order). */
  nextDropoutSeed(): number;
}

/** A layer of a block: its parameters and its forward. */
export interface Unit {
  declare(create: Declare): void;
  forward(ctx: BlockContext, h: tf.Tensor4D): tf.Tensor4D;
}

/** diffusers' `get_down_block` arguments, with our parameter prefix (`down.<level>`). */
export interface DownBlockArgs {
  prefix: string;
  /** The level (0 the outermost), for per-level options. */
  level: number;
  inChannels: number;
  outChannels: number;
  numLayers: number;
  addDownsample: boolean;
  config: BlockConfig;
}

/** One level going down: returns the output and the skips it leaves for the way up, in order. */
export interface DownBlock {
  declare(create: Declare): void;
  forward(ctx: BlockContext, h: tf.Tensor4D): { h: tf.Tensor4D; skips: tf.Tensor4D[] };
  /** Channels of each skip `forward` returns, in order. */
  readonly skipChannels: number[];
  /** Condition fields the block reads (cross-attention: `encoderHiddenStates`); the U-Net accepts them then. */
  readonly reads?: readonly ConditioningField[];
}

/** diffusers' `get_up_block` arguments: `skipChannels` in the order the block takes them. */
export interface UpBlockArgs {
  prefix: string;
  level: number;
  inChannels: number;
  skipChannels: number[];
  outChannels: number;
  numLayers: number;
  addUpsample: boolean;
  config: BlockConfig;
}

/** One level going up: layer i concatenates `skips[i]` to its input. */
export interface UpBlock {
  declare(create: Declare): void;
  forward(ctx: BlockContext, h: tf.Tensor4D, skips: tf.Tensor4D[]): tf.Tensor4D;
  readonly reads?: readonly ConditioningField[];
}

export interface MidBlockArgs {
  prefix: string;
  /** The deepest level. */
  level: number;
  channels: number;
  attention: boolean;
  config: BlockConfig;
}

/** The middle block: one unit, with the condition fields it reads. */
export interface MidBlock extends Unit {
  readonly reads?: readonly ConditioningField[];
}

export type MidBlockFactory = (args: MidBlockArgs) => MidBlock;
export type DownBlockFactory = (args: DownBlockArgs) => DownBlock;
export type UpBlockFactory = (args: UpBlockArgs) => UpBlock;
