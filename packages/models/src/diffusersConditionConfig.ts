// diffusers' UNet2DConditionModel config.json ↔ our UNet config (the text-conditioned U-Net of
// Stable Diffusion). diffusersConfig.ts dispatches here by `_class_name`.
import type { Prediction } from '@tfjs-diffusion/schedules';
import { CROSS_ATTENTION_TYPES, DOWN_BLOCK_TYPES, UP_BLOCK_TYPES, type DownBlockType, type UpBlockType } from './blocks/registry.js';
import { sharedUNetFields, type Refuse } from './diffusersSharedConfig.js';
import { levelBlockTypes, resolveUNetConfig, type UNetConfig } from './config.js';

/** A config.json as parsed (diffusersConfig.ts's DiffusersUNetConfig, which imports this file). */
type DiffusersUNetConfig = Record<string, unknown>;

/** UNet2DConditionModel's defaults (diffusers 0.21.4's `__init__`), for keys a config.json leaves out. */
const DEFAULTS: Record<string, unknown> = {
  sample_size: null, in_channels: 4, out_channels: 4, center_input_sample: false, flip_sin_to_cos: true, freq_shift: 0,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  mid_block_type: 'UNetMidBlock2DCrossAttn', up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  only_cross_attention: false, block_out_channels: [320, 640, 1280, 1280], layers_per_block: 2, downsample_padding: 1,
  mid_block_scale_factor: 1, dropout: 0, act_fn: 'silu', norm_num_groups: 32, norm_eps: 1e-5, cross_attention_dim: 1280,
  transformer_layers_per_block: 1, reverse_transformer_layers_per_block: null, encoder_hid_dim: null, encoder_hid_dim_type: null,
  attention_head_dim: 8, num_attention_heads: null, dual_cross_attention: false, use_linear_projection: false, class_embed_type: null,
  addition_embed_type: null, addition_time_embed_dim: null, num_class_embeds: null, upcast_attention: false,
  resnet_time_scale_shift: 'default', resnet_skip_time_act: false, resnet_out_scale_factor: 1, time_embedding_type: 'positional',
  time_embedding_dim: null, time_embedding_act_fn: null, timestep_post_act: null, time_cond_proj_dim: null, conv_in_kernel: 3,
  conv_out_kernel: 3, projection_class_embeddings_input_dim: null, attention_type: 'default', class_embeddings_concat: false,
  mid_block_only_cross_attention: null, cross_attention_norm: null, addition_embed_type_num_heads: 64,
};

/** Keys that must hold one of these values (what our U-Net builds); the first is what toDiffusers writes. */
const ONLY: [key: string, ...allowed: unknown[]][] = [
  ['act_fn', 'silu', 'swish'], ['mid_block_type', 'UNetMidBlock2DCrossAttn'], ['mid_block_scale_factor', 1],
  ['time_embedding_type', 'positional'], ['class_embed_type', null], ['addition_embed_type', null], ['addition_time_embed_dim', null],
  ['time_cond_proj_dim', null], ['dual_cross_attention', false], ['encoder_hid_dim', null], ['encoder_hid_dim_type', null],
  ['conv_in_kernel', 3], ['conv_out_kernel', 3], ['time_embedding_act_fn', null], ['timestep_post_act', null],
  ['projection_class_embeddings_input_dim', null], ['attention_type', 'default'], ['class_embeddings_concat', false],
  ['cross_attention_norm', null], ['resnet_skip_time_act', false], ['resnet_out_scale_factor', 1],
  ['reverse_transformer_layers_per_block', null], ['resnet_time_scale_shift', 'default', 'scale_shift'],
  ['downsample_padding', 1, 0], ['flip_sin_to_cos', true, false], ['center_input_sample', false, true],
  ['use_linear_projection', false, true], ['upcast_attention', false, true], ['mid_block_only_cross_attention', null, true, false],
];


/** One value for all levels, as diffusers' per-block options (a list of equal values reads as one). */
function single(v: unknown): unknown {
  return Array.isArray(v) && v.length > 0 && v.every((x) => x === v[0]) ? v[0] : v;
}

/** Our UNet config of a UNet2DConditionModel config.json (`raw`, without `_` keys checked). */
export function conditionUNetConfig(raw: DiffusersUNetConfig, opts: { predictionType?: Prediction }, where: string, refuse: Refuse): UNetConfig {
  for (const key of Object.keys(raw)) {
    if (!key.startsWith('_') && !(key in DEFAULTS)) refuse(key, raw[key], `the keys of UNet2DConditionModel (${Object.keys(DEFAULTS).join(', ')})`);
  }
  const c = { ...DEFAULTS, ...raw } as Record<string, unknown>;
  for (const [key, ...allowed] of ONLY) if (!allowed.includes(c[key])) refuse(key, c[key], allowed.map((a) => JSON.stringify(a)).join(' or '));
  const ch = c.block_out_channels as number[];
  if (!Array.isArray(ch) || ch.length === 0 || !ch.every((n) => Number.isInteger(n) && n > 0)) refuse('block_out_channels', ch, 'a non-empty list of positive integers');
  const L = ch.length;
  // AttnDownBlock2D and friends read attention_head_dim as channels per head, the cross-attention blocks as heads: one meaning here.
  const downTypes = DOWN_BLOCK_TYPES.filter((t) => t === 'DownBlock2D' || CROSS_ATTENTION_TYPES.includes(t));
  const upTypes = UP_BLOCK_TYPES.filter((t) => t === 'UpBlock2D' || CROSS_ATTENTION_TYPES.includes(t));
  for (const [key, allowed] of [['down_block_types', downTypes], ['up_block_types', upTypes]] as const) {
    const types = c[key];
    if (!Array.isArray(types) || types.length !== L) refuse(key, types, `a list of ${L} block types (one per entry of block_out_channels)`);
    (types as unknown[]).forEach((b, i) => { if (!(allowed as readonly unknown[]).includes(b)) refuse(`${key}[${i}]`, b, allowed.map((a) => `'${a}'`).join(' or ')); });
  }
  const layers = single(c.layers_per_block);
  if (!Number.isInteger(layers) || (layers as number) < 1) refuse('layers_per_block', c.layers_per_block, 'a positive integer (the same for every block)');
  const crossDim = single(c.cross_attention_dim);
  if (!Number.isInteger(crossDim) || (crossDim as number) < 1) refuse('cross_attention_dim', c.cross_attention_dim, 'a positive integer (the same for every block)');
  const heads = c.num_attention_heads ?? c.attention_head_dim; // diffusers 0.21: attention_head_dim is the number of heads
  const headsKey = c.num_attention_heads === null ? 'attention_head_dim' : 'num_attention_heads';
  const okList = (v: unknown, ok: (x: unknown) => boolean) => ok(v) || (Array.isArray(v) && v.length === L && v.every(ok));
  const posInt = (x: unknown) => Number.isInteger(x) && (x as number) > 0;
  if (!okList(heads, posInt)) refuse(headsKey, heads, `a positive integer or a list of ${L} (heads per block)`);
  if (!okList(c.transformer_layers_per_block, posInt)) refuse('transformer_layers_per_block', c.transformer_layers_per_block, `a positive integer or a list of ${L}`);
  if (!okList(c.only_cross_attention, (x) => typeof x === 'boolean')) refuse('only_cross_attention', c.only_cross_attention, `true, false or a list of ${L}`);
  const shared = sharedUNetFields(c, ch, opts, where, refuse);
  try {
    return resolveUNetConfig({
      ...shared,
      layersPerBlock: layers as number,
      downBlockTypes: c.down_block_types as DownBlockType[],
      upBlockTypes: c.up_block_types as UpBlockType[],
      midBlockType: 'UNetMidBlock2DCrossAttn',
      attentionHeads: Array.isArray(heads) ? heads.slice() : (heads as number),
      attentionHeadDim: null,
      crossAttentionDim: crossDim as number,
      transformerLayersPerBlock: c.transformer_layers_per_block as number | number[],
      onlyCrossAttention: c.only_cross_attention as boolean | boolean[],
      useLinearProjection: c.use_linear_projection as boolean,
      upcastAttention: c.upcast_attention as boolean,
      normNumGroups: c.norm_num_groups as number,
    });
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

/** True when the network has a block that reads encoderHiddenStates: diffusers' UNet2DConditionModel then. */
export function hasCrossAttention(c: UNetConfig): boolean {
  const t = levelBlockTypes(c);
  return [...t.down, ...t.up, c.midBlockType].some((x) => CROSS_ATTENTION_TYPES.includes(x));
}

/** The UNet2DConditionModel config.json of a network with cross-attention, or why it cannot be one. */
export function conditionDiffusersConfig(c: UNetConfig): { config: DiffusersUNetConfig } | { reason: string } {
  const t = levelBlockTypes(c);
  const self = [...t.down, ...t.up].find((x) => x === 'AttnDownBlock2D' || x === 'AttnUpBlock2D');
  if (self) return { reason: `${self} beside cross-attention blocks is not written (diffusers reads attention_head_dim differently for each)` };
  // diffusers' UNetMidBlock2D inside a UNet2DConditionModel is one residual block, not ours.
  if (c.midBlockType !== 'UNetMidBlock2DCrossAttn') return { reason: `midBlockType is '${c.midBlockType}'; a network with cross-attention is written with 'UNetMidBlock2DCrossAttn'` };
  if (c.attentionHeadDim !== null) return { reason: 'attentionHeadDim is set; UNet2DConditionModel gives the cross-attention blocks a number of heads (attentionHeads)' };
  const config: DiffusersUNetConfig = { _class_name: 'UNet2DConditionModel', _diffusers_version: '0.21.4' };
  for (const [key, first] of ONLY) config[key] = first;
  for (const key of ['addition_embed_type_num_heads', 'num_attention_heads']) config[key] = DEFAULTS[key];
  Object.assign(config, {
    attention_head_dim: Array.isArray(c.attentionHeads) ? c.attentionHeads.slice() : c.attentionHeads,
    block_out_channels: c.blockOutChannels.slice(),
    center_input_sample: c.centerInputSample,
    cross_attention_dim: c.crossAttentionDim,
    down_block_types: t.down.slice(),
    downsample_padding: c.downsamplePadding,
    dropout: c.dropout,
    flip_sin_to_cos: c.flipSinToCos,
    freq_shift: c.freqShift,
    in_channels: c.inChannels,
    layers_per_block: c.layersPerBlock,
    mid_block_type: c.midBlockType,
    norm_eps: c.normEps,
    norm_num_groups: c.normNumGroups,
    num_class_embeds: c.numClasses === null ? null : c.numClasses + 1,
    only_cross_attention: Array.isArray(c.onlyCrossAttention) ? c.onlyCrossAttention.slice() : c.onlyCrossAttention,
    out_channels: c.outChannels,
    resnet_time_scale_shift: c.resnetTimeScaleShift,
    sample_size: typeof c.sampleSize === 'number' ? c.sampleSize : c.sampleSize.slice(),
    time_embedding_dim: c.embedDim === 4 * c.blockOutChannels[0]! ? null : c.embedDim,
    transformer_layers_per_block: Array.isArray(c.transformerLayersPerBlock) ? c.transformerLayersPerBlock.slice() : c.transformerLayersPerBlock,
    up_block_types: t.up.slice().reverse(),
    upcast_attention: c.upcastAttention,
    use_linear_projection: c.useLinearProjection,
  });
  // reverse_transformer_layers_per_block came after 0.21.4, which would warn about it: left out.
  delete config.reverse_transformer_layers_per_block;
  return { config };
}
