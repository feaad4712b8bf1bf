import { checkPrediction, nearestOption, type Prediction, showValue } from '@tfjs-diffusion/schedules';

import { DOWN_BLOCK_TYPES, MID_BLOCK_TYPES, UP_BLOCK_TYPES, type DownBlockType, type MidBlockType, type UpBlockType } from './blocks/registry.js';
import { CROSS_ATTENTION_KEYS, type CrossAttentionConfig, perLevel, resolveCrossAttention } from './crossAttentionConfig.js';

export { attentionHeadsFor } from './blocks/attention.js';
export { DOWN_BLOCK_TYPES, MID_BLOCK_TYPES, UP_BLOCK_TYPES, type DownBlockType, type MidBlockType, type UpBlockType };
export type TimeScaleShift = 'default' | 'scale_shift';

/** A config object (JSON) typed as a resolver's options; the cast is sound because the resolver checks every field at run time. */
export function uncheckedOptions<T>(config: object): T {
  return config as T;
}

/** U-Net options, diffusers' UNet2DModel names camelCased where they exist. */
export interface UNetConfig extends CrossAttentionConfig {
  kind: 'unet';
  /** Height and width of the training images (square when a number). */
  sampleSize: number | [number, number];
  inChannels: number;
  outChannels: number;
  /** Channels per resolution level; level l works at sampleSize / 2^l. */
  blockOutChannels: number[];
  /** Residual blocks per level on the way down (the way up has one more, for the extra skip). */
  layersPerBlock: number;
  /** Side lengths (in pixels) of the levels that get self-attention after each residual block, e.g. [7]. */
  attentionResolutions: number[];
  /**
   * Block type per level, down the U-Net (diffusers' order): overrides
   * `attentionResolutions` when set, so down and up paths can differ. null: from `attentionResolutions`.
   */
  downBlockTypes: DownBlockType[] | null;
  /** Block type per level, up the U-Net: `upBlockTypes[0]` is the deepest level (diffusers' order). */
  upBlockTypes: UpBlockType[] | null;
  /** Self-attention in the middle block (res → attn → res); diffusers' `add_attention`. */
  midBlockAttention: boolean;
  /** Attention heads, one count or one per level (the middle block takes the last); each level's channels must divide evenly. Ignored when `attentionHeadDim` is set. */
  attentionHeads: number | number[];
  /** Channels per attention head (diffusers' `attention_head_dim`): a level with c channels has c / attentionHeadDim heads. null: `attentionHeads` heads everywhere. */
  attentionHeadDim: number | null;
  normNumGroups: number;
  normEps: number;
  /** Dropout rate inside residual blocks, used only when training. */
  dropout: number;
  /** Real classes for class conditioning (the embedding has one more row: the null class, index numClasses). null: unconditional. */
  numClasses: number | null;
  /** Size of the sinusoidal timestep features (diffusers: blockOutChannels[0]). */
  timeFeatureDim: number;
  /** Width of the time/class embedding MLP (diffusers: 4 × blockOutChannels[0]). */
  embedDim: number;
  predictionType: Prediction;
  /** false: the network never sees t (the noise-unconditioned variant). */
  timeConditioning: boolean;
  /** Timestep features cos then sin (diffusers' default) instead of sin then cos (the DDPM paper's, ours). */
  flipSinToCos: boolean;
  /** Frequencies exp(−ln(10000)·i/(half − freqShift)); the original DDPM checkpoints use 1. */
  freqShift: number;
  /**
   * Padding of the stride-2 downsampling conv: 0 pads one row and column at the
   * bottom and right (TensorFlow's 'same', the DDPM checkpoints'), 1 pads one on every side (diffusers' default).
   */
  downsamplePadding: 0 | 1;
  /** 'default': the embedding is added after conv1; 'scale_shift': norm2's output is scaled by (1 + scale) and shifted. */
  resnetTimeScaleShift: TimeScaleShift;
  /** The input is mapped by x ↦ 2x − 1 first. */
  centerInputSample: boolean;
}

export type UNetOptions = Partial<Omit<UNetConfig, 'kind'>> & { kind?: 'unet'; numClassEmbeds?: number | null };

/** Upper bounds that keep every tensor's length a valid typed-array length; the memory a size needs is the caller's check (see `unetParameterCount`). */
export const UNET_LIMITS = { channels: 65536, sampleSize: 65536, numClasses: 1 << 24 } as const;

function positiveInt(v: unknown, name: string, max = 1 << 30): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) {
    throw new RangeError(`UNet: ${name} must be an integer in [1, ${max}]; got ${showValue(v)}`);
  }
  return v as number;
}

const UNET_KEYS: readonly string[] = [
  'kind', 'sampleSize', 'inChannels', 'outChannels', 'blockOutChannels', 'layersPerBlock', 'attentionResolutions', 'midBlockAttention',
  'attentionHeads', 'normNumGroups', 'normEps', 'dropout', 'numClasses', 'numClassEmbeds', 'timeFeatureDim', 'embedDim', 'predictionType',
  'timeConditioning', 'downBlockTypes', 'upBlockTypes', 'attentionHeadDim', 'flipSinToCos', 'freqShift', 'downsamplePadding',
  'resnetTimeScaleShift', 'centerInputSample', ...CROSS_ATTENTION_KEYS,
];

/** The known name closest to `key` (schedules' `nearestOption`, kept under this name for the config checks of the apps). */
export function nearestName(key: string, known: readonly string[]): string | undefined {
  return nearestOption(key, known);
}

/** Keys whose value is an array: a hint for an unknown key holding an array ('channels': [8, 16] → blockOutChannels). */
const UNET_ARRAY_KEYS = ['blockOutChannels', 'attentionResolutions', 'sampleSize'];

/**
 * Refuses keys a config does not have, naming the nearest known one; with `arrayKeys`, an
 * unknown key holding an array is matched among those first.
 */
export function checkKnownKeys(o: object, known: readonly string[], where: string, arrayKeys: readonly string[] = []): void {
  for (const [k, v] of Object.entries(o)) {
    if (known.includes(k)) continue;
    const near = (Array.isArray(v) && nearestName(k, arrayKeys)) || nearestName(k, known);
    throw new Error(`${where}: unknown option ${showValue(k)}${near ? `; did you mean '${near}'?` : ''} (known: ${known.join(', ')})`);
  }
}

/** Fills defaults and checks every option; the result is what config.json stores. */
export function resolveUNetConfig(options: UNetOptions): UNetConfig {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`UNet: the config must be an object; got ${showValue(options)}`);
  }
  checkKnownKeys(options, UNET_KEYS, 'UNet', UNET_ARRAY_KEYS);
  if (options.kind !== undefined && options.kind !== 'unet') throw new Error(`UNet: kind must be 'unet'; got ${showValue(options.kind)}`);
  const blockOutChannels = options.blockOutChannels ?? [32, 64, 64];
  if (!Array.isArray(blockOutChannels) || blockOutChannels.length === 0) {
    throw new RangeError('UNet: blockOutChannels must be a non-empty array of channel counts');
  }
  blockOutChannels.forEach((c, i) => positiveInt(c, `blockOutChannels[${i}]`, UNET_LIMITS.channels));
  const c0 = blockOutChannels[0]!;
  const numClasses = options.numClasses !== undefined ? options.numClasses
    : options.numClassEmbeds !== undefined && options.numClassEmbeds !== null ? options.numClassEmbeds - 1 : null;
  const cfg: UNetConfig = {
    kind: 'unet',
    sampleSize: options.sampleSize ?? 28,
    inChannels: positiveInt(options.inChannels ?? 1, 'inChannels', UNET_LIMITS.channels),
    outChannels: positiveInt(options.outChannels ?? options.inChannels ?? 1, 'outChannels', UNET_LIMITS.channels),
    blockOutChannels: blockOutChannels.slice(),
    layersPerBlock: positiveInt(options.layersPerBlock ?? 2, 'layersPerBlock'),
    attentionResolutions: (options.attentionResolutions ?? []).slice(),
    downBlockTypes: options.downBlockTypes ? options.downBlockTypes.slice() : null,
    upBlockTypes: options.upBlockTypes ? options.upBlockTypes.slice() : null,
    midBlockAttention: options.midBlockAttention ?? true,
    attentionHeads: perLevel(options.attentionHeads ?? 1, blockOutChannels.length, 'attentionHeads', (x) => Number.isInteger(x) && (x as number) >= 1, 'a positive integer'),
    attentionHeadDim: options.attentionHeadDim === undefined || options.attentionHeadDim === null ? null : positiveInt(options.attentionHeadDim, 'attentionHeadDim'),
    normNumGroups: positiveInt(options.normNumGroups ?? 8, 'normNumGroups'),
    normEps: options.normEps ?? 1e-5,
    dropout: options.dropout ?? 0,
    numClasses,
    timeFeatureDim: positiveInt(options.timeFeatureDim ?? c0, 'timeFeatureDim', UNET_LIMITS.channels),
    embedDim: positiveInt(options.embedDim ?? 4 * c0, 'embedDim', UNET_LIMITS.channels),
    predictionType: checkPrediction(options.predictionType ?? 'epsilon', 'UNet: predictionType'),
    timeConditioning: options.timeConditioning ?? true,
    flipSinToCos: options.flipSinToCos ?? false,
    freqShift: options.freqShift ?? 0,
    downsamplePadding: options.downsamplePadding ?? 0,
    resnetTimeScaleShift: options.resnetTimeScaleShift ?? 'default',
    centerInputSample: options.centerInputSample ?? false,
    ...resolveCrossAttention(options, blockOutChannels.length, [...(options.downBlockTypes ?? []), ...(options.upBlockTypes ?? [])]),
  };
  const [h, w] = sampleHW(cfg.sampleSize);
  const levels = cfg.blockOutChannels.length;
  const div = 2 ** (levels - 1);
  if (h % div !== 0 || w % div !== 0) {
    throw new RangeError(
      `UNet: sampleSize ${h}×${w} cannot be halved ${levels - 1} times (blockOutChannels has ${levels} levels); ` +
        `height and width must be multiples of ${div}`,
    );
  }
  cfg.blockOutChannels.forEach((c, l) => {
    if (c % cfg.normNumGroups !== 0) throw new RangeError(`UNet: channel count ${c} is not divisible by normNumGroups ${cfg.normNumGroups}`);
    const heads = typeof cfg.attentionHeads === 'number' ? cfg.attentionHeads : cfg.attentionHeads[l]!;
    if (cfg.attentionHeadDim !== null) {
      if (c % cfg.attentionHeadDim !== 0) throw new RangeError(`UNet: channel count ${c} is not divisible by attentionHeadDim ${cfg.attentionHeadDim}`);
    } else if (c % heads !== 0) throw new RangeError(`UNet: channel count ${c} is not divisible by attentionHeads ${heads}`);
  });
  for (const [key, types, allowed] of [['downBlockTypes', cfg.downBlockTypes, DOWN_BLOCK_TYPES], ['upBlockTypes', cfg.upBlockTypes, UP_BLOCK_TYPES]] as const) {
    if (types === null) continue;
    if (!Array.isArray(types) || types.length !== levels) throw new RangeError(`UNet: ${key} must list one block type per level (${levels}); got ${showValue(types)}`);
    types.forEach((b, i) => {
      if (!(allowed as readonly string[]).includes(b)) throw new RangeError(`UNet: ${key}[${i}] must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${showValue(b)}`);
    });
  }
  if ((cfg.downBlockTypes === null) !== (cfg.upBlockTypes === null)) throw new RangeError('UNet: give downBlockTypes and upBlockTypes together, or neither');
  if (cfg.downBlockTypes !== null && cfg.attentionResolutions.length > 0) {
    throw new RangeError('UNet: attentionResolutions must be empty when downBlockTypes/upBlockTypes choose the attention levels');
  }
  if (typeof cfg.flipSinToCos !== 'boolean') throw new TypeError(`UNet: flipSinToCos must be true or false; got ${showValue(cfg.flipSinToCos)}`);
  if (typeof cfg.centerInputSample !== 'boolean') throw new TypeError(`UNet: centerInputSample must be true or false; got ${showValue(cfg.centerInputSample)}`);
  if (!Number.isFinite(cfg.freqShift) || cfg.freqShift >= cfg.timeFeatureDim / 2) {
    throw new RangeError(`UNet: freqShift must be a number below timeFeatureDim / 2 = ${cfg.timeFeatureDim / 2}; got ${showValue(cfg.freqShift)}`);
  }
  if (cfg.downsamplePadding !== 0 && cfg.downsamplePadding !== 1) throw new RangeError(`UNet: downsamplePadding must be 0 or 1; got ${showValue(cfg.downsamplePadding)}`);
  if (cfg.resnetTimeScaleShift !== 'default' && cfg.resnetTimeScaleShift !== 'scale_shift') {
    throw new RangeError(`UNet: resnetTimeScaleShift must be 'default' or 'scale_shift'; got ${showValue(cfg.resnetTimeScaleShift)}`);
  }
  if (cfg.timeFeatureDim % 2 !== 0) throw new RangeError(`UNet: timeFeatureDim must be even; got ${cfg.timeFeatureDim}`);
  if (typeof cfg.dropout !== 'number' || !(cfg.dropout >= 0 && cfg.dropout < 1)) throw new RangeError(`UNet: dropout must be in [0, 1); got ${cfg.dropout}`);
  if (cfg.numClasses !== null) positiveInt(cfg.numClasses, 'numClasses', UNET_LIMITS.numClasses);
  if (typeof cfg.normEps !== 'number' || !(cfg.normEps > 0 && cfg.normEps < 1)) {
    throw new RangeError(`UNet: normEps must be a number in (0, 1) (GroupNorm's epsilon, e.g. 1e-5); got ${showValue(cfg.normEps)}`);
  }
  for (const k of ['midBlockAttention', 'timeConditioning'] as const) {
    if (typeof cfg[k] !== 'boolean') throw new TypeError(`UNet: ${k} must be true or false; got ${showValue(cfg[k])}`);
  }
  const sizes = cfg.blockOutChannels.map((_, l) => h / 2 ** l);
  for (const r of cfg.attentionResolutions) {
    if (!sizes.includes(r)) throw new RangeError(`UNet: attentionResolutions has ${r}; the levels' heights are ${sizes.join(', ')}`);
  }
  return cfg;
}

/** Per level l: attention after each residual block going down, and going up. */
export function attentionLevels(c: UNetConfig): { down: boolean[]; up: boolean[] } {
  const L = c.blockOutChannels.length;
  if (c.downBlockTypes && c.upBlockTypes) {
    return {
      down: c.downBlockTypes.map((b) => b === 'AttnDownBlock2D'),
      up: c.blockOutChannels.map((_, l) => c.upBlockTypes![L - 1 - l] === 'AttnUpBlock2D'),
    };
  }
  const [h] = sampleHW(c.sampleSize);
  const at = c.blockOutChannels.map((_, l) => c.attentionResolutions.includes(h / 2 ** l));
  return { down: at, up: at.slice() };
}

/** Block type of each level l (level 0 the outermost) going down and going up. */
export function levelBlockTypes(c: UNetConfig): { down: DownBlockType[]; up: UpBlockType[] } {
  const L = c.blockOutChannels.length;
  if (c.downBlockTypes && c.upBlockTypes) return { down: c.downBlockTypes.slice(), up: c.blockOutChannels.map((_, l) => c.upBlockTypes![L - 1 - l]!) };
  const at = attentionLevels(c);
  return { down: at.down.map((a) => (a ? 'AttnDownBlock2D' : 'DownBlock2D')), up: at.up.map((a) => (a ? 'AttnUpBlock2D' : 'UpBlock2D')) };
}

export function sampleHW(s: number | [number, number]): [number, number] {
  const [h, w] = typeof s === 'number' ? [s, s] : s;
  const max = UNET_LIMITS.sampleSize;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1 || h > max || w > max) throw new RangeError(`UNet: sampleSize must be an integer in [1, ${max}] or [height, width]; got ${showValue(s)}`);
  return [h, w];
}

export type UNetPresetName = 'mnist-ref' | 'mnist-tiny';

/**
 * `mnist-ref`: the reference network of the benchmark (1,624,577 parameters).
 * `mnist-tiny`: a small class-conditional U-Net that learns digit strokes in minutes on a CPU.
 */
export function unetPreset(name: UNetPresetName, overrides: UNetOptions = {}): UNetConfig {
  const presets: Record<UNetPresetName, UNetOptions> = {
    'mnist-ref': {
      sampleSize: 28, inChannels: 1, outChannels: 1, blockOutChannels: [32, 64, 64], layersPerBlock: 2,
      attentionResolutions: [7], midBlockAttention: true, normNumGroups: 8, dropout: 0.1, numClasses: 10,
    },
    'mnist-tiny': {
      sampleSize: 28, inChannels: 1, outChannels: 1, blockOutChannels: [8, 16, 16], layersPerBlock: 1,
      attentionResolutions: [], midBlockAttention: false, normNumGroups: 4, dropout: 0, numClasses: 10, embedDim: 64, timeFeatureDim: 32,
    },
  };
  const base = presets[name];
  if (!base) throw new Error(`unetPreset: name must be one of ${Object.keys(presets).map((k) => `'${k}'`).join(', ')}; got ${showValue(name)}`);
  return resolveUNetConfig({ ...base, ...overrides });
}
