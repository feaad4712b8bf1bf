// diffusers' UNet2DModel config.json ↔ our UNet config, and the diffusers
// release an exported config needs. The weights' names and layouts are diffusers.ts.
import { checkOptions, optionKeys, type Prediction, showValue } from '@tfjs-diffusion/schedules';
import { CROSS_ATTENTION_TYPES, DOWN_BLOCK_TYPES, UP_BLOCK_TYPES } from './blocks/registry.js';
import {
  attentionHeadsFor, attentionLevels, resolveUNetConfig,
  type DownBlockType, type UNetConfig, type UpBlockType,
} from './config.js';
import { sharedUNetFields } from './diffusersSharedConfig.js';
import { conditionDiffusersConfig, conditionUNetConfig, hasCrossAttention } from './diffusersConditionConfig.js';
import type { MemoryLimit } from './size.js';

/** A diffusers UNet2DModel or UNet2DConditionModel config.json (snake_case keys, as `save_config` writes them). */
export type DiffusersUNetConfig = Record<string, unknown>;

export interface FromDiffusersOptions {
  /** What the network predicts: in diffusers this lives in the scheduler's config (`prediction_type`). Default 'epsilon'. */
  predictionType?: Prediction;
  /** Names the source in error messages (e.g. the folder). */
  source?: string;
  /** The network must fit here; checked from the config before the weights are read. Default the wasm heap. */
  memoryLimit?: MemoryLimit;
}

export const FROM_DIFFUSERS_KEYS = optionKeys<FromDiffusersOptions>()(['predictionType', 'source', 'memoryLimit']);

/** UNet2DModel's defaults for keys a config.json leaves out (diffusers fills them the same way). */
const DEFAULTS: Record<string, unknown> = {
  sample_size: null, in_channels: 3, out_channels: 3, center_input_sample: false, time_embedding_type: 'positional',
  time_embedding_dim: null, freq_shift: 0, flip_sin_to_cos: true,
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D'],
  mid_block_type: 'UNetMidBlock2D',
  up_block_types: ['AttnUpBlock2D', 'AttnUpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
  block_out_channels: [224, 448, 672, 896], layers_per_block: 2, mid_block_scale_factor: 1, downsample_padding: 1,
  downsample_type: 'conv', upsample_type: 'conv', dropout: 0, act_fn: 'silu', attention_head_dim: 8, norm_num_groups: 32,
  attn_norm_num_groups: null, norm_eps: 1e-5, resnet_time_scale_shift: 'default', add_attention: true,
  class_embed_type: null, num_class_embeds: null, num_train_timesteps: null,
};

// UNet2DModel's blocks: the registry's, less those reading text states (UNet2DConditionModel's).
const PLAIN_DOWN = DOWN_BLOCK_TYPES.filter((t) => !CROSS_ATTENTION_TYPES.includes(t));
const PLAIN_UP = UP_BLOCK_TYPES.filter((t) => !CROSS_ATTENTION_TYPES.includes(t));

function parseConfig(config: DiffusersUNetConfig | string, where: string): DiffusersUNetConfig {
  let c: unknown = config;
  if (typeof config === 'string') {
    try {
      c = JSON.parse(config);
    } catch (e) {
      throw new Error(`${where}: config is not JSON (${(e as Error).message})`);
    }
  }
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new Error(`${where}: config must be a JSON object (a diffusers config.json)`);
  return c as DiffusersUNetConfig;
}

/**
 * The UNet config of a diffusers UNet2DModel config. Keys starting with `_`
 * are bookkeeping and ignored; any key or value our UNet cannot express is
 * refused with an error naming both.
 */
export function unetConfigFromDiffusers(config: DiffusersUNetConfig | string, opts: FromDiffusersOptions = {}): UNetConfig {
  checkOptions('unetConfigFromDiffusers', opts, FROM_DIFFUSERS_KEYS);
  const where = opts.source ? `fromDiffusers (${opts.source})` : 'fromDiffusers';
  const raw = parseConfig(config, where);
  const refuse = (key: string, value: unknown, accepted: string): never => {
    throw new Error(`${where}: ${showValue(key, 80).slice(1, -1)} = ${showValue(value)} is not supported; accepted: ${accepted}`);
  };
  if (raw._class_name === 'UNet2DConditionModel' || (raw._class_name === undefined && 'cross_attention_dim' in raw)) return conditionUNetConfig(raw, opts, where, refuse);
  if (raw._class_name !== undefined && raw._class_name !== 'UNet2DModel') refuse('_class_name', raw._class_name, "'UNet2DModel' or 'UNet2DConditionModel'");
  for (const key of Object.keys(raw)) {
    if (!key.startsWith('_') && !(key in DEFAULTS)) refuse(key, raw[key], `the keys of UNet2DModel (${Object.keys(DEFAULTS).join(', ')})`);
  }
  const c = { ...DEFAULTS, ...raw } as Record<string, unknown>;
  const only = (key: string, ...allowed: unknown[]) => {
    if (!allowed.includes(c[key])) refuse(key, c[key], allowed.map((a) => JSON.stringify(a)).join(' or '));
  };
  only('time_embedding_type', 'positional');
  only('mid_block_type', 'UNetMidBlock2D');
  only('mid_block_scale_factor', 1);
  only('downsample_type', 'conv');
  only('upsample_type', 'conv');
  only('act_fn', 'silu', 'swish');
  only('class_embed_type', null);
  only('downsample_padding', 0, 1);
  only('resnet_time_scale_shift', 'default', 'scale_shift');
  only('flip_sin_to_cos', true, false);
  only('center_input_sample', true, false);
  only('add_attention', true, false);
  const channels = c.block_out_channels;
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((n) => Number.isInteger(n) && n > 0)) {
    refuse('block_out_channels', channels, 'a non-empty list of positive integers');
  }
  const ch = channels as number[];
  const L = ch.length;
  const down = c.down_block_types as string[];
  const up = c.up_block_types as string[];
  if (!Array.isArray(down) || down.length !== L) refuse('down_block_types', down, `a list of ${L} block types (one per entry of block_out_channels)`);
  if (!Array.isArray(up) || up.length !== L) refuse('up_block_types', up, `a list of ${L} block types (one per entry of block_out_channels)`);
  for (const [key, types, allowed] of [['down_block_types', down, PLAIN_DOWN], ['up_block_types', up, PLAIN_UP]] as const) {
    types.forEach((b, i) => { if (!(allowed as readonly string[]).includes(b)) refuse(`${key}[${i}]`, b, allowed.map((a) => `'${a}'`).join(' or ')); });
  }
  const groups = c.norm_num_groups;
  if (!Number.isInteger(groups) || (groups as number) < 1) refuse('norm_num_groups', groups, 'a positive integer');
  // The mid attention's GroupNorm: diffusers uses norm_num_groups unless told otherwise; the same count is the only one expressible here.
  if (c.attn_norm_num_groups !== null && !(c.attn_norm_num_groups === groups && c.resnet_time_scale_shift === 'default')) {
    refuse('attn_norm_num_groups', c.attn_norm_num_groups, `null${c.resnet_time_scale_shift === 'default' ? ` or ${groups} (norm_num_groups)` : ''}`);
  }
  const headDim = c.attention_head_dim;
  if (headDim !== null && !(Number.isInteger(headDim) && (headDim as number) > 0)) refuse('attention_head_dim', headDim, 'a positive integer or null (one head)');
  if (headDim !== null) {
    const used = [...ch.filter((_, l) => down[l] === 'AttnDownBlock2D' || up[L - 1 - l] === 'AttnUpBlock2D'), ...(c.add_attention ? [ch[L - 1]!] : [])];
    for (const n of used) if (n % (headDim as number) !== 0) refuse('attention_head_dim', headDim, `a divisor of the attention blocks' channel counts (${n} is not a multiple)`);
  }
  if (!Number.isInteger(c.layers_per_block) || (c.layers_per_block as number) < 1) refuse('layers_per_block', c.layers_per_block, 'a positive integer');
  const shared = sharedUNetFields(c, ch, opts, where, refuse);
  try {
    return resolveUNetConfig({
      ...shared,
      layersPerBlock: c.layers_per_block as number,
      attentionResolutions: [],
      downBlockTypes: down as DownBlockType[],
      upBlockTypes: up as UpBlockType[],
      midBlockAttention: c.add_attention as boolean,
      attentionHeads: 1,
      attentionHeadDim: headDim as number | null,
      normNumGroups: groups as number,
      timeConditioning: true,
    });
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

/**
 * diffusers' config for a UNet config, or the reason diffusers' UNet2DModel
 * cannot express that network.
 */
export function diffusersConfigOf(c: UNetConfig): { config: DiffusersUNetConfig } | { reason: string } {
  const c0 = c.blockOutChannels[0]!;
  if (!c.timeConditioning) return { reason: 'timeConditioning is false; UNet2DModel always embeds the timestep' };
  if (c.timeFeatureDim !== c0) {
    return { reason: `timeFeatureDim is ${c.timeFeatureDim}; UNet2DModel's positional time features have block_out_channels[0] = ${c0} entries` };
  }
  if (hasCrossAttention(c)) return conditionDiffusersConfig(c);
  if (c.midBlockType !== 'UNetMidBlock2D') return { reason: `midBlockType is '${c.midBlockType}' without cross-attention blocks` };
  if (Array.isArray(c.attentionHeads)) return { reason: 'attentionHeads is a list; UNet2DModel has one attention_head_dim for every block' };
  const L = c.blockOutChannels.length;
  const { down, up } = attentionLevels(c);
  const attnChannels = [...c.blockOutChannels.filter((_, l) => down[l] || up[l]), ...(c.midBlockAttention ? [c.blockOutChannels[L - 1]!] : [])];
  let headDim: number | null = null;
  if (c.attentionHeadDim !== null) headDim = c.attentionHeadDim;
  else if ((c.attentionHeads as number) > 1) {
    const dims = new Set(attnChannels.map((n) => n / attentionHeadsFor(c, n)));
    if (dims.size > 1) return { reason: `attentionHeads = ${c.attentionHeads} gives head sizes ${[...dims].join(', ')}; UNet2DModel has one attention_head_dim for every block` };
    headDim = dims.size === 1 ? [...dims][0]! : null;
  }
  const config: DiffusersUNetConfig = {
    _class_name: 'UNet2DModel',
    _diffusers_version: '',
    act_fn: 'silu',
    add_attention: c.midBlockAttention,
    attention_head_dim: headDim,
    block_out_channels: c.blockOutChannels.slice(),
    center_input_sample: c.centerInputSample,
    class_embed_type: null,
    down_block_types: down.map((a) => (a ? 'AttnDownBlock2D' : 'DownBlock2D')),
    downsample_padding: c.downsamplePadding,
    downsample_type: 'conv',
    dropout: c.dropout,
    flip_sin_to_cos: c.flipSinToCos,
    freq_shift: c.freqShift,
    in_channels: c.inChannels,
    layers_per_block: c.layersPerBlock,
    mid_block_scale_factor: 1,
    norm_eps: c.normEps,
    norm_num_groups: c.normNumGroups,
    num_class_embeds: c.numClasses === null ? null : c.numClasses + 1,
    out_channels: c.outChannels,
    resnet_time_scale_shift: c.resnetTimeScaleShift,
    sample_size: typeof c.sampleSize === 'number' ? c.sampleSize : c.sampleSize.slice(),
    time_embedding_type: 'positional',
    up_block_types: up.slice().reverse().map((a) => (a ? 'AttnUpBlock2D' : 'UpBlock2D')),
    upsample_type: 'conv',
  };
  // Older diffusers have no time_embedding_dim; write it only when it differs from the default 4 × block_out_channels[0].
  if (c.embedDim !== 4 * c0) config.time_embedding_dim = c.embedDim;
  config._diffusers_version = minDiffusersVersion(config);
  return { config };
}

/*
 * The diffusers release that added each UNet2DModel setting (its `__init__`
 * argument), and what older releases build without it. A release that lacks a
 * key ignores it with a warning, so a config loads there only when each key it
 * lacks holds that older behaviour. Read from diffusers' git tags v0.2.0–v0.40.0
 * (src/diffusers/models/unet_2d.py, later models/unets/unet_2d.py).
 */
const SINCE: [key: string, version: string, before: unknown][] = [
  ['resnet_time_scale_shift', '0.11.0', 'default'],
  ['add_attention', '0.11.0', true],
  ['class_embed_type', '0.13.0', null],
  ['num_class_embeds', '0.13.0', null],
  ['downsample_type', '0.18.0', 'conv'],
  ['upsample_type', '0.18.0', 'conv'],
  ['dropout', '0.21.0', 0],
  ['attn_norm_num_groups', '0.22.0', null],
  ['num_train_timesteps', '0.23.0', null],
  ['time_embedding_dim', '0.32.0', null],
  ['mid_block_type', '0.33.0', 'UNetMidBlock2D'],
];
/** Before 0.17.0 the attention blocks held query/key/value/proj_attn, not the to_q/to_k/to_v/to_out.0 that `toDiffusers` writes. */
const ATTENTION_NAMES_SINCE = '0.17.0';

const versionKey = (v: string) => v.split('.').map(Number).reduce((a, n) => a * 1000 + n, 0);

/**
 * The lowest diffusers release whose `UNet2DModel.from_pretrained` builds the
 * network a config describes (with weights under today's attention names):
 * the latest release that added a key holding something other than the older behaviour.
 */
export function minDiffusersVersion(config: DiffusersUNetConfig): string {
  let min = '0.2.0';
  const raise = (v: string) => { if (versionKey(v) > versionKey(min)) min = v; };
  for (const [key, version, before] of SINCE) {
    if (key in config && config[key] !== undefined && JSON.stringify(config[key]) !== JSON.stringify(before)) raise(version);
  }
  const blocks = [...((config.down_block_types as string[] | undefined) ?? []), ...((config.up_block_types as string[] | undefined) ?? [])];
  if (config.add_attention !== false || blocks.some((b) => b.startsWith('Attn'))) raise(ATTENTION_NAMES_SINCE);
  return min;
}

/** True for a diffusers UNet2DModel or UNet2DConditionModel config (what a diffusers model folder's config.json holds). */
export function isDiffusersUNetConfig(config: unknown): boolean {
  const name = config !== null && typeof config === 'object' ? (config as Record<string, unknown>)._class_name : undefined;
  return name === 'UNet2DModel' || name === 'UNet2DConditionModel';
}
