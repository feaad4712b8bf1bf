import * as tf from '@tensorflow/tfjs';
import { matchesAny, type NamedParameter } from '@tfjs-diffusion/regularizers';
import { checkOptions, showList } from '@tfjs-diffusion/schedules';
import type { UNetConfig } from './config.js';
import {
  diffusersConfigOf, unetConfigFromDiffusers, FROM_DIFFUSERS_KEYS, type DiffusersUNetConfig, type FromDiffusersOptions,
} from './diffusersConfig.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './safetensors.js';
import { checkModelFits } from './size.js';
import { type Layout, mapName } from './diffusersLayout.js';
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
 * UNet2DConditionModel adds Transformer2DModel blocks (ours `*.transformer.*`, see diffusersLayout.ts):
 * their Linear layers (to_q/to_k/to_v without bias, to_out.0, ff.net.*) are dense kernels, one per tensor.
 */

/** Each of our parameter names with the diffusers names of the tensors it holds (three for a fused q/k/v). */
export function diffusersNames(model: UNet): Map<string, string[]> {
  const L = model.config.blockOutChannels.length;
  return new Map(model.parameters().map((p) => [p.name, mapName(p.name, L, p.variable.rank).sources.map((s) => s.name)]));
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
    const { sources, layout } = mapName(name, L, shape.length);
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
  if (missing.length) problems.push(`missing: ${showList(missing)}`);
  if (unexpected.length) problems.push(`unexpected: ${showList(unexpected)}`);
  if (mismatched.length) problems.push(`shape mismatch: ${showList(mismatched)}`);
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
  if ('reason' in cfg) throw new Error(`toDiffusers: diffusers' UNet2DModel / UNet2DConditionModel cannot express this network: ${cfg.reason}`);
  const L = model.config.blockOutChannels.length;
  const out: Record<string, SafetensorsTensor> = {};
  for (const p of model.parameters()) {
    const { sources, layout } = mapName(p.name, L, p.variable.rank);
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
