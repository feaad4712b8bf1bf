import * as tf from '@tensorflow/tfjs';
import { matchesAny, type NamedParameter } from '@tfjs-diffusion/regularizers';
import { checkOptions, checkPrediction, optionKeys, type Prediction } from '@tfjs-diffusion/schedules';
import {
  attentionHeadsFor, attentionLevels, resolveUNetConfig,
  type DownBlockType, type UNetConfig, type UpBlockType,
} from './config.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './safetensors.js';
import { checkModelFits, type MemoryLimit } from './size.js';
import { UNet, unetParameterShapes } from './unet.js';

/*
 * diffusers' UNet2DModel and our UNet are the same network (the DDPM U-Net):
 * conv_in; per level, resnets (+ attention) then a stride-2 conv; mid block
 * res → attn → res; per level going up layers_per_block + 1 resnets fed the
 * skips in reverse order (concatenated after the features), then nearest ×2 +
 * conv. What differs is naming and layout:
 *   - conv weights: PyTorch [out, in, kh, kw] (OIHW) ↔ tfjs [kh, kw, in, out] (HWIO)
 *   - Linear weights: [out, in] ↔ dense kernels [in, out]
 *   - attention: to_q / to_k / to_v Linear layers ↔ one 1×1 conv `qkv` with [q | k | v]
 *     output channels (heads split each of them into contiguous chunks, as diffusers);
 *     to_out.0 ↔ the 1×1 conv `out`
 *   - up_blocks[i] is level L − 1 − i; GroupNorm weight/bias ↔ gamma/beta
 *   - activations NCHW ↔ NHWC (predict takes and returns NHWC)
 */

/** A diffusers UNet2DModel config.json (snake_case keys, as `save_config` writes them). */
export type DiffusersUNetConfig = Record<string, unknown>;

export interface FromDiffusersOptions {
  /** What the network predicts: in diffusers this lives in the scheduler's config (`prediction_type`). Default 'epsilon'. */
  predictionType?: Prediction;
  /** Names the source in error messages (e.g. the folder). */
  source?: string;
  /** The network must fit here; checked from the config before the weights are read. Default the wasm heap. */
  memoryLimit?: MemoryLimit;
}

const FROM_DIFFUSERS_KEYS = optionKeys<FromDiffusersOptions>()(['predictionType', 'source', 'memoryLimit']);

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
    throw new Error(`${where}: ${key} = ${JSON.stringify(value)} is not supported; accepted: ${accepted}`);
  };
  if (raw._class_name !== undefined && raw._class_name !== 'UNet2DModel') refuse('_class_name', raw._class_name, "'UNet2DModel'");
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
  (down as unknown[]).forEach((b, i) => { if (b !== 'DownBlock2D' && b !== 'AttnDownBlock2D') refuse(`down_block_types[${i}]`, b, "'DownBlock2D' or 'AttnDownBlock2D'"); });
  (up as unknown[]).forEach((b, i) => { if (b !== 'UpBlock2D' && b !== 'AttnUpBlock2D') refuse(`up_block_types[${i}]`, b, "'UpBlock2D' or 'AttnUpBlock2D'"); });
  const groups = c.norm_num_groups;
  if (!Number.isInteger(groups) || (groups as number) < 1) refuse('norm_num_groups', groups, 'a positive integer');
  // The mid attention's GroupNorm: diffusers uses norm_num_groups unless told otherwise; the same count is the only one expressible here.
  if (c.attn_norm_num_groups !== null && !(c.attn_norm_num_groups === groups && c.resnet_time_scale_shift === 'default')) {
    refuse('attn_norm_num_groups', c.attn_norm_num_groups, `null${c.resnet_time_scale_shift === 'default' ? ` or ${groups} (norm_num_groups)` : ''}`);
  }
  const size = c.sample_size;
  const okSize = (Number.isInteger(size) && (size as number) > 0)
    || (Array.isArray(size) && size.length === 2 && size.every((n) => Number.isInteger(n) && n > 0));
  if (!okSize) refuse('sample_size', size, 'a positive integer or [height, width] (the image size the model was trained on)');
  const headDim = c.attention_head_dim;
  if (headDim !== null && !(Number.isInteger(headDim) && (headDim as number) > 0)) refuse('attention_head_dim', headDim, 'a positive integer or null (one head)');
  if (headDim !== null) {
    const used = [...ch.filter((_, l) => down[l] === 'AttnDownBlock2D' || up[L - 1 - l] === 'AttnUpBlock2D'), ...(c.add_attention ? [ch[L - 1]!] : [])];
    for (const n of used) if (n % (headDim as number) !== 0) refuse('attention_head_dim', headDim, `a divisor of the attention blocks' channel counts (${n} is not a multiple)`);
  }
  const numClassEmbeds = c.num_class_embeds;
  if (numClassEmbeds !== null && !(Number.isInteger(numClassEmbeds) && (numClassEmbeds as number) >= 2)) refuse('num_class_embeds', numClassEmbeds, 'null or an integer ≥ 2');
  const timeDim = c.time_embedding_dim;
  if (timeDim !== null && !(Number.isInteger(timeDim) && (timeDim as number) > 0)) refuse('time_embedding_dim', timeDim, 'null or a positive integer');
  if (typeof c.freq_shift !== 'number' || !Number.isFinite(c.freq_shift) || c.freq_shift >= ch[0]! / 2) {
    refuse('freq_shift', c.freq_shift, `a number below block_out_channels[0] / 2 = ${ch[0]! / 2}`);
  }
  if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1)) refuse('dropout', c.dropout, 'a number in [0, 1)');
  if (typeof c.norm_eps !== 'number' || !(c.norm_eps > 0)) refuse('norm_eps', c.norm_eps, 'a positive number');
  if (!Number.isInteger(c.layers_per_block) || (c.layers_per_block as number) < 1) refuse('layers_per_block', c.layers_per_block, 'a positive integer');
  for (const key of ['in_channels', 'out_channels']) {
    if (!Number.isInteger(c[key]) || (c[key] as number) < 1) refuse(key, c[key], 'a positive integer');
  }
  if (ch[0]! % 2 !== 0) refuse('block_out_channels', ch, 'an even first entry (the sinusoidal time features have block_out_channels[0] entries)');
  try {
    return resolveUNetConfig({
      sampleSize: Array.isArray(size) ? [size[0], size[1]] : (size as number),
      inChannels: c.in_channels as number,
      outChannels: c.out_channels as number,
      blockOutChannels: ch.slice(),
      layersPerBlock: c.layers_per_block as number,
      attentionResolutions: [],
      downBlockTypes: down as DownBlockType[],
      upBlockTypes: up as UpBlockType[],
      midBlockAttention: c.add_attention as boolean,
      attentionHeads: 1,
      attentionHeadDim: headDim as number | null,
      normNumGroups: groups as number,
      normEps: c.norm_eps as number,
      dropout: c.dropout as number,
      numClasses: numClassEmbeds === null ? null : (numClassEmbeds as number) - 1,
      timeFeatureDim: ch[0],
      embedDim: (timeDim as number | null) ?? 4 * ch[0]!,
      predictionType: checkPrediction(opts.predictionType ?? 'epsilon', `${where}: predictionType`),
      timeConditioning: true,
      flipSinToCos: c.flip_sin_to_cos as boolean,
      freqShift: c.freq_shift as number,
      downsamplePadding: c.downsample_padding as 0 | 1,
      resnetTimeScaleShift: c.resnet_time_scale_shift as 'default' | 'scale_shift',
      centerInputSample: c.center_input_sample as boolean,
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
  const L = c.blockOutChannels.length;
  const { down, up } = attentionLevels(c);
  const attnChannels = [...c.blockOutChannels.filter((_, l) => down[l] || up[l]), ...(c.midBlockAttention ? [c.blockOutChannels[L - 1]!] : [])];
  let headDim: number | null = null;
  if (c.attentionHeadDim !== null) headDim = c.attentionHeadDim;
  else if (c.attentionHeads > 1) {
    const dims = new Set(attnChannels.map((n) => n / attentionHeadsFor(c, n)));
    if (dims.size > 1) return { reason: `attentionHeads = ${c.attentionHeads} gives head sizes ${[...dims].join(', ')}; UNet2DModel has one attention_head_dim for every block` };
    headDim = dims.size === 1 ? [...dims][0]! : null;
  }
  const config: DiffusersUNetConfig = {
    _class_name: 'UNet2DModel',
    _diffusers_version: '0.21.4',
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
  return { config };
}

type Layout = 'conv' | 'dense' | 'vector' | 'table' | 'qkv' | 'attnOut';

/** One diffusers tensor behind (part of) one of our parameters. */
interface Source {
  name: string;
  /** For `qkv`: which third (q, k, v). */
  part?: number;
}

const RES_PARTS: Record<string, string> = { norm1: 'norm1', conv1: 'conv1', emb: 'time_emb_proj', norm2: 'norm2', conv2: 'conv2', skip: 'conv_shortcut' };
const SUFFIX: Record<string, string> = { kernel: 'weight', bias: 'bias', gamma: 'weight', beta: 'bias', table: 'weight' };

/** diffusers' name(s) of one of our U-Net parameters, and how its layout differs. */
function mapName(name: string, levels: number): { sources: Source[]; layout: Layout } {
  const fail = (): never => { throw new Error(`toDiffusers: no diffusers name for parameter '${name}'`); };
  const m = /^(.*)\.(kernel|bias|gamma|beta|table)$/.exec(name) ?? fail();
  const [, path, leaf] = m as unknown as [string, string, string];
  const suffix = SUFFIX[leaf]!;
  const isVec = leaf !== 'kernel' && leaf !== 'table';
  const simple = (p: string, layout: Layout) => ({ sources: [{ name: `${p}.${suffix}` }], layout: isVec ? 'vector' as Layout : layout });
  if (path === 'convIn') return simple('conv_in', 'conv');
  if (path === 'convOut') return simple('conv_out', 'conv');
  if (path === 'normOut') return simple('conv_norm_out', 'vector');
  if (path === 'timeEmbed.0') return simple('time_embedding.linear_1', 'dense');
  if (path === 'timeEmbed.1') return simple('time_embedding.linear_2', 'dense');
  if (path === 'classEmbed') return { sources: [{ name: 'class_embedding.weight' }], layout: 'table' };
  const block = (where: string): string => {
    let r = /^down\.(\d+)$/.exec(where);
    if (r) return `down_blocks.${r[1]}`;
    r = /^up\.(\d+)$/.exec(where);
    if (r) return `up_blocks.${levels - 1 - Number(r[1])}`;
    if (where === 'mid') return 'mid_block';
    return fail();
  };
  let r = /^(down\.\d+|up\.\d+|mid)\.res\.(\d+)\.(\w+)$/.exec(path);
  if (r) return simple(`${block(r[1]!)}.resnets.${r[2]}.${RES_PARTS[r[3]!] ?? fail()}`, r[3]!.startsWith('conv') || r[3] === 'skip' ? 'conv' : 'dense');
  r = /^(down\.\d+|up\.\d+)\.attn\.(\d+)\.(\w+)$/.exec(path) ?? /^(mid)\.attn()\.(\w+)$/.exec(path);
  if (r) {
    const base = `${block(r[1]!)}.attentions.${r[2] || 0}`;
    if (r[3] === 'norm') return simple(`${base}.group_norm`, 'vector');
    if (r[3] === 'out') return simple(`${base}.to_out.0`, 'attnOut');
    if (r[3] === 'qkv') return { sources: ['to_q', 'to_k', 'to_v'].map((q, part) => ({ name: `${base}.${q}.${suffix}`, part })), layout: isVec ? 'vector' : 'qkv' };
    return fail();
  }
  r = /^down\.(\d+)\.downsample$/.exec(path);
  if (r) return simple(`down_blocks.${r[1]}.downsamplers.0.conv`, 'conv');
  r = /^up\.(\d+)\.upsample$/.exec(path);
  if (r) return simple(`up_blocks.${levels - 1 - Number(r[1])}.upsamplers.0.conv`, 'conv');
  return fail();
}

/** Each of our parameter names with the diffusers names of the tensors it holds (three for a fused q/k/v). */
export function diffusersNames(model: UNet): Map<string, string[]> {
  const L = model.config.blockOutChannels.length;
  return new Map(model.parameters().map((p) => [p.name, mapName(p.name, L).sources.map((s) => s.name)]));
}

/** out[perm-ordered index] — a plain transpose of a row-major array. */
function transpose(data: ArrayLike<number>, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]!);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) { inStrides[i] = s; s *= shape[i]!; }
  const strides = perm.map((p) => inStrides[p]!);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k]! * strides[k]!;
    out[o] = data[src]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

const OLD_ATTENTION: Record<string, string> = { query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' };

/** The old attention names (`query`, `key`, `value`, `proj_attn`) renamed as diffusers does on load. */
function renameOldAttention(tensors: Record<string, SafetensorsTensor>, where: string): Record<string, SafetensorsTensor> {
  const out: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const m = /^(.*\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$/.exec(name);
    const renamed = m ? `${m[1]}.${OLD_ATTENTION[m[2]!]}.${m[3]}` : name;
    if (m && tensors[renamed]) throw new Error(`${where}: both '${name}' and '${renamed}' are present`);
    out[renamed] = t;
  }
  return out;
}

/** The tensors of one of our parameters, built from diffusers tensors (shapes checked by the caller). */
function toOurs(layout: Layout, srcs: SafetensorsTensor[], shape: number[]): Float32Array {
  const f32 = (t: SafetensorsTensor) => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>));
  switch (layout) {
    case 'vector': {
      if (srcs.length === 1) return f32(srcs[0]!);
      const out = new Float32Array(shape[0]!);
      srcs.forEach((s, i) => out.set(f32(s), i * s.shape[0]!));
      return out;
    }
    case 'table': return f32(srcs[0]!);
    case 'conv': return transpose(f32(srcs[0]!), srcs[0]!.shape, [2, 3, 1, 0]);
    case 'dense': return transpose(f32(srcs[0]!), srcs[0]!.shape, [1, 0]);
    case 'attnOut': return transpose(f32(srcs[0]!), srcs[0]!.shape, [1, 0]);
    case 'qkv': {
      // kernel [1, 1, C, 3C]: row i holds q_i·, k_i·, v_i· (each W^T of its Linear).
      const C = shape[2]!;
      const out = new Float32Array(C * 3 * C);
      srcs.forEach((s, part) => {
        const wt = transpose(f32(s), s.shape, [1, 0]);
        for (let i = 0; i < C; i++) out.set(wt.subarray(i * C, (i + 1) * C), i * 3 * C + part * C);
      });
      return out;
    }
  }
}

/** The diffusers shape of each source of one of our parameters. */
function diffusersShapes(layout: Layout, shape: number[], nSources: number): number[][] {
  switch (layout) {
    case 'vector': return Array.from({ length: nSources }, () => [shape[0]! / nSources]);
    case 'table': return [shape];
    case 'conv': return [[shape[3]!, shape[2]!, shape[0]!, shape[1]!]];
    case 'dense': return [[shape[1]!, shape[0]!]];
    case 'attnOut': return [[shape[3]!, shape[2]!]];
    case 'qkv': return [0, 1, 2].map(() => [shape[2]!, shape[2]!]);
  }
}

/**
 * A diffusers UNet2DModel checkpoint as our UNet config and weights under our
 * parameter names, without building the model (for loaders that hand weights on).
 * Both attention namings load; every tensor is checked, as
 * `load_state_dict(strict=True)`: the error lists what is missing, unexpected or mis-shaped.
 */
export function diffusersTensors(
  config: DiffusersUNetConfig | string, weights: Uint8Array | ArrayBuffer, opts: FromDiffusersOptions = {},
): { config: UNetConfig; tensors: Record<string, { shape: number[]; data: Float32Array }> } {
  checkOptions('diffusersTensors', opts, FROM_DIFFUSERS_KEYS);
  const where = opts.source ? `fromDiffusers (${opts.source})` : 'fromDiffusers';
  const cfg = unetConfigFromDiffusers(config, opts);
  checkModelFits(cfg, { limit: opts.memoryLimit, what: `${where}: config.json` });
  if (!(weights instanceof Uint8Array) && !(weights instanceof ArrayBuffer)) {
    throw new TypeError(`${where}: weights must be the bytes of diffusion_pytorch_model.safetensors (Uint8Array or ArrayBuffer); got ${Object.prototype.toString.call(weights)}`);
  }
  const file = decodeSafetensors(weights instanceof Uint8Array ? weights : new Uint8Array(weights), `${where}: weights`);
  const tensors = renameOldAttention(file.tensors, where);
  const L = cfg.blockOutChannels.length;
  const used = new Set<string>();
  const missing: string[] = [];
  const mismatched: string[] = [];
  const plan: { name: string; shape: number[]; layout: Layout; srcs: SafetensorsTensor[] }[] = [];
  for (const { name, shape } of unetParameterShapes(cfg)) {
    const { sources, layout } = mapName(name, L);
    const want = diffusersShapes(layout, shape, sources.length);
    const srcs: SafetensorsTensor[] = [];
    sources.forEach((s, i) => {
      const t = tensors[s.name];
      if (!t) { missing.push(s.name); return; }
      used.add(s.name);
      if (t.shape.join() !== want[i]!.join()) mismatched.push(`${s.name} (file [${t.shape}], expected [${want[i]}])`);
      srcs.push(t);
    });
    plan.push({ name, shape, layout, srcs });
  }
  const unexpected = Object.keys(tensors).filter((n) => !used.has(n));
  const problems: string[] = [];
  if (missing.length) problems.push(`missing: ${missing.join(', ')}`);
  if (unexpected.length) problems.push(`unexpected: ${unexpected.join(', ')}`);
  if (mismatched.length) problems.push(`shape mismatch: ${mismatched.join(', ')}`);
  if (problems.length) throw new Error(`${where}: the weights do not fit the config; ${problems.join('; ')}`);
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const { name, shape, layout, srcs } of plan) out[name] = { shape, data: toOurs(layout, srcs, shape) };
  return { config: cfg, tensors: out };
}

/**
 * A UNet from a diffusers UNet2DModel checkpoint: `config` is its config.json
 * (object or text), `weights` the bytes of diffusion_pytorch_model.safetensors.
 * Works in a browser (no file access). See `diffusersTensors` for the checks.
 */
export function fromDiffusers(config: DiffusersUNetConfig | string, weights: Uint8Array | ArrayBuffer, opts: FromDiffusersOptions = {}): UNet {
  checkOptions('fromDiffusers', opts, FROM_DIFFUSERS_KEYS);
  const { config: cfg, tensors } = diffusersTensors(config, weights, opts);
  const model = new UNet(cfg);
  try {
    for (const p of model.parameters()) {
      const t = tensors[p.name]!;
      tf.tidy(() => p.variable.assign(tf.tensor(t.data, p.variable.shape, 'float32')));
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * diffusers' config and safetensors bytes for a UNet, under diffusers' current
 * names: `UNet2DModel(**config)` then `load_state_dict(load_file(...), strict=True)`
 * (or `UNet2DModel.from_pretrained(folder)`) gives the same network. Throws,
 * with the reason, for a network UNet2DModel cannot express.
 */
export function toDiffusers(model: UNet): { config: DiffusersUNetConfig; weights: Uint8Array } {
  if (!(model instanceof UNet)) throw new TypeError('toDiffusers: model must be a UNet (diffusers has no counterpart of the MLP denoiser)');
  const cfg = diffusersConfigOf(model.config);
  if ('reason' in cfg) throw new Error(`toDiffusers: diffusers' UNet2DModel cannot express this network: ${cfg.reason}`);
  const L = model.config.blockOutChannels.length;
  const out: Record<string, SafetensorsTensor> = {};
  for (const p of model.parameters()) {
    const { sources, layout } = mapName(p.name, L);
    const shape = p.variable.shape;
    const data = p.variable.dataSync() as Float32Array;
    const shapes = diffusersShapes(layout, shape, sources.length);
    sources.forEach((s, i) => {
      let d: Float32Array;
      switch (layout) {
        case 'vector': { const n = shapes[i]![0]!; d = data.slice(i * n, (i + 1) * n); break; }
        case 'table': d = data.slice(); break;
        case 'conv': d = transpose(data, shape, [3, 2, 0, 1]); break;
        case 'dense': d = transpose(data, shape, [1, 0]); break;
        case 'attnOut': d = transpose(data, [shape[2]!, shape[3]!], [1, 0]); break;
        case 'qkv': {
          const C = shape[2]!;
          const wt = new Float32Array(C * C); // W^T [in, out] of this third
          for (let r = 0; r < C; r++) wt.set(data.subarray(r * 3 * C + i * C, r * 3 * C + (i + 1) * C), r * C);
          d = transpose(wt, [C, C], [1, 0]);
          break;
        }
      }
      out[s.name] = { dtype: 'F32', shape: shapes[i]!, data: d };
    });
  }
  return { config: cfg.config, weights: encodeSafetensors(out, { format: 'pt' }) };
}

/**
 * Our parameter names selected by glob/RegExp patterns written in our names
 * (`down.0.*`) or diffusers' (`down_blocks.0.*`), e.g. for freezing. A pattern
 * that selects only some of q, k and v of an attention layer is refused (they
 * share one tensor here), as is a pattern that selects nothing.
 */
export function selectByEitherName(model: UNet, patterns: readonly (string | RegExp)[]): string[] {
  const names = diffusersNames(model);
  const picked = new Set<string>();
  for (const pattern of patterns) {
    const m = (name: string): boolean => matchesAny(name, [pattern]);
    let any = false;
    for (const [ours, theirs] of names) {
      const hits = theirs.filter(m);
      if (hits.length > 0 && hits.length < theirs.length && !m(ours)) {
        throw new Error(
          `freeze pattern ${String(pattern)} selects ${hits.join(', ')} but not ${theirs.filter((n) => !m(n)).join(', ')}; ` +
            `they are one tensor here (${ours}): select all of them, e.g. '${theirs[0]!.replace(/\.to_q\..*$/, '.*')}'`,
        );
      }
      if (m(ours) || hits.length > 0) { picked.add(ours); any = true; }
    }
    if (!any) throw new Error(`freeze pattern ${String(pattern)} matches no parameter, in our names (e.g. down.0.res.0.conv1.kernel) or diffusers' (e.g. down_blocks.0.resnets.0.conv1.weight)`);
  }
  return [...names.keys()].filter((n) => picked.has(n));
}

/** True for a diffusers UNet2DModel config (what a diffusers model folder's config.json holds). */
export function isDiffusersUNetConfig(config: unknown): boolean {
  return config !== null && typeof config === 'object' && (config as Record<string, unknown>)._class_name === 'UNet2DModel';
}
