// The cross-attention options of the U-Net config (diffusers' UNet2DConditionModel), checked apart
// from the rest of resolveUNetConfig.
import { showValue } from '@tfjs-diffusion/schedules';
import { CROSS_ATTENTION_TYPES, MID_BLOCK_TYPES, type MidBlockType } from './blocks/registry.js';

export interface CrossAttentionConfig {
  /** diffusers' mid_block_type: 'UNetMidBlock2D' (self-attention, `midBlockAttention`) or 'UNetMidBlock2DCrossAttn'. */
  midBlockType: MidBlockType;
  /** Width of the rows of `encoderHiddenStates` (diffusers' cross_attention_dim); null: no cross-attention. */
  crossAttentionDim: number | null;
  /** BasicTransformerBlocks in each Transformer2DModel: one count, or one per level (the middle takes the last). */
  transformerLayersPerBlock: number | number[];
  /** proj_in / proj_out as Linear layers (Stable Diffusion 2) instead of 1×1 convs (1.x). */
  useLinearProjection: boolean;
  /** diffusers computes the attention scores in float32; here they always are (kept for the round trip). */
  upcastAttention: boolean;
  /** The transformer blocks' first attention reads the text states too: one flag or one per level. */
  onlyCrossAttention: boolean | boolean[];
}

export type CrossAttentionOptions = Partial<CrossAttentionConfig>;

export const CROSS_ATTENTION_KEYS = ['midBlockType', 'crossAttentionDim', 'transformerLayersPerBlock', 'useLinearProjection', 'upcastAttention', 'onlyCrossAttention'] as const;

/** One value for every level or a list with one per level, each passing `ok`. */
export function perLevel<T>(v: T | T[], levels: number, name: string, ok: (x: unknown) => boolean, what: string): T | T[] {
  if (Array.isArray(v)) {
    if (v.length !== levels || !v.every(ok)) throw new RangeError(`UNet: ${name} must be ${what} or a list of ${levels} of them (one per level); got ${showValue(v)}`);
    return v.slice();
  }
  if (!ok(v)) throw new RangeError(`UNet: ${name} must be ${what} or a list of ${levels} of them (one per level); got ${showValue(v)}`);
  return v;
}

const posInt = (x: unknown) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 1 << 16;
const bool = (x: unknown) => typeof x === 'boolean';

/** Defaults and checks; `blockTypes` are every down, up and mid type the config uses. */
export function resolveCrossAttention(o: CrossAttentionOptions, levels: number, blockTypes: readonly string[]): CrossAttentionConfig {
  const midBlockType = o.midBlockType ?? 'UNetMidBlock2D';
  if (!MID_BLOCK_TYPES.includes(midBlockType)) throw new RangeError(`UNet: midBlockType must be one of ${MID_BLOCK_TYPES.map((t) => `'${t}'`).join(', ')}; got ${showValue(midBlockType)}`);
  const crossAttentionDim = o.crossAttentionDim ?? null;
  if (crossAttentionDim !== null && !posInt(crossAttentionDim)) throw new RangeError(`UNet: crossAttentionDim must be null or an integer in [1, 65536]; got ${showValue(crossAttentionDim)}`);
  const cross = [...blockTypes, midBlockType].find((t) => CROSS_ATTENTION_TYPES.includes(t));
  if (cross && crossAttentionDim === null) throw new RangeError(`UNet: ${cross} needs crossAttentionDim (the width of encoderHiddenStates, e.g. a text encoder's hidden size)`);
  for (const k of ['useLinearProjection', 'upcastAttention'] as const) {
    if (o[k] !== undefined && !bool(o[k])) throw new TypeError(`UNet: ${k} must be true or false; got ${showValue(o[k])}`);
  }
  return {
    midBlockType,
    crossAttentionDim,
    transformerLayersPerBlock: perLevel(o.transformerLayersPerBlock ?? 1, levels, 'transformerLayersPerBlock', posInt, 'a positive integer'),
    useLinearProjection: o.useLinearProjection ?? false,
    upcastAttention: o.upcastAttention ?? false,
    onlyCrossAttention: perLevel(o.onlyCrossAttention ?? false, levels, 'onlyCrossAttention', bool, 'true or false'),
  };
}
