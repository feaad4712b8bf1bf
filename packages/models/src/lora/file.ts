// diffusers' pytorch_lora_weights.safetensors: write an adapter, read one onto a model.
import * as tf from '@tensorflow/tfjs';
import { checkOptions, nearestOption, optionKeys, showValue } from '@tfjs-diffusion/schedules';
import { encodeSafetensors, type SafetensorsTensor } from '../safetensors.js';
import type { LoraAdapter } from './adapter.js';
import { attachAdapter, type LoraModel, type PairSpec } from './add.js';
import { type LoraModule, loraModules } from './modules.js';
import { ADAPTER_METADATA_KEY, parseLoraFile, patternValue } from './parse.js';

/** The file's shapes of a module's pair: Linear A [r, in], B [out, r]; conv A [r, in, k, k], B [out, r, 1, 1]. */
function fileShapes(m: LoraModule, r: number): { A: number[]; B: number[] } {
  return m.kind === 'linear'
    ? { A: [r, m.inFeatures], B: [m.outFeatures, r] }
    : { A: [r, m.inFeatures, m.kernelSize, m.kernelSize], B: [m.outFeatures, r, 1, 1] };
}

/** The value occurring most often (PEFT's r / lora_alpha of a file with patterns). */
function mostCommon(xs: number[]): number {
  const n = new Map<number, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n].reduce((b, e) => (e[1] > b[1] ? e : b))[0];
}

export interface EncodeLoraOptions {
  /** The component the keys go under (default 'unet', as diffusers' pipelines save it). */
  prefix?: string;
}

/**
 * An adapter as diffusers' `pytorch_lora_weights.safetensors`: PEFT keys
 * `unet.<module>.lora_A.weight` / `.lora_B.weight` (PyTorch layouts) and the LoraConfig
 * (r, lora_alpha, rank/alpha patterns, target_modules, lora_dropout) in the
 * `lora_adapter_metadata` entry, as `save_lora_weights` writes them.
 */
export function encodeLora(adapter: LoraAdapter, opts: EncodeLoraOptions = {}): Uint8Array {
  checkOptions('encodeLora', opts, optionKeys<EncodeLoraOptions>()(['prefix']));
  if (adapter.removed) throw new Error(`encodeLora: adapter '${adapter.name}' was removed`);
  const prefix = opts.prefix ?? 'unet';
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const p of adapter.pairs) {
    const m = p.module;
    const s = fileShapes(m, p.rank);
    const [a, b] = tf.tidy(() => {
      const a = m.kind === 'linear' ? tf.transpose(tf.reshape(p.A, [m.inFeatures, p.rank])) : tf.transpose(p.A, [3, 2, 0, 1]);
      const b = tf.transpose(tf.reshape(p.B, [p.rank, m.outFeatures]));
      return [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
    });
    tensors[`${prefix}.${m.name}.lora_A.weight`] = { dtype: 'F32', shape: s.A, data: a };
    tensors[`${prefix}.${m.name}.lora_B.weight`] = { dtype: 'F32', shape: s.B, data: b };
  }
  const r = mostCommon(adapter.pairs.map((p) => p.rank));
  const alpha = mostCommon(adapter.pairs.map((p) => p.alpha));
  const config: Record<string, unknown> = {
    alpha_pattern: Object.fromEntries(adapter.pairs.filter((p) => p.alpha !== alpha).map((p) => [p.module.name, p.alpha])),
    init_lora_weights: true,
    lora_alpha: alpha,
    lora_bias: false,
    lora_dropout: adapter.dropout,
    r,
    rank_pattern: Object.fromEntries(adapter.pairs.filter((p) => p.rank !== r).map((p) => [p.module.name, p.rank])),
    target_modules: adapter.pairs.map((p) => p.module.name),
    use_dora: false,
  };
  const meta = Object.fromEntries(Object.keys(config).sort().map((k) => [`${prefix}.${k}`, config[k]]));
  return encodeSafetensors(tensors, { format: 'pt', [ADAPTER_METADATA_KEY]: JSON.stringify(meta, null, 2) });
}

export interface LoadLoraOptions {
  /** Adapter name on the model (default 'default'). */
  name?: string;
  /** Its weight at sampling time (default 1). */
  weight?: number;
  /** The component whose keys to read (default 'unet'). */
  prefix?: string;
  /** Named in errors (the file's path, say). */
  source?: string;
}

const LOAD_KEYS = optionKeys<LoadLoraOptions>()(['name', 'weight', 'prefix', 'source']);

/**
 * Reads a diffusers LoRA file onto the model as a new adapter. Alpha comes from the file's
 * adapter metadata (lora_alpha, alpha_pattern), else its `.alpha` tensors (network_alphas), else
 * equals the rank (scale 1), as diffusers loads them. Every key is checked before anything is
 * allocated; an error names the key: unknown module (no base parameter), shape mismatch, rank 0.
 */
export function loadLora(model: LoraModel, bytes: Uint8Array | ArrayBuffer, opts: LoadLoraOptions = {}): LoraAdapter {
  checkOptions('loadLora', opts, LOAD_KEYS);
  const where = opts.source ? `loadLora (${opts.source})` : 'loadLora';
  const weight = opts.weight ?? 1;
  if (!Number.isFinite(weight)) throw new RangeError(`${where}: weight must be a finite number; got ${showValue(weight)}`);
  const { pairs, config } = parseLoraFile(bytes, { prefix: opts.prefix ?? 'unet', where });
  const mods = new Map(loraModules(model).map((m) => [m.name, m]));
  const specs: (PairSpec & { a: Float32Array; b: Float32Array })[] = [];
  for (const fp of pairs) {
    const m = mods.get(fp.module);
    if (!m) {
      const near = nearestOption(fp.module, [...mods.keys()]);
      throw new Error(`${where}: key '${fp.keyA}': this model has no layer '${fp.module}' (base parameter '${fp.module}.weight' missing)${near ? `; nearest: '${near}'` : ''}`);
    }
    const want = fileShapes(m, fp.rank);
    // A 1×1 conv and a Linear hold the same numbers; accept either layout for them.
    const fits = (got: number[], w: number[]) => got.join() === w.join() || (m.kernelSize === 1 && got.filter((d, i) => i < 2 || d !== 1).join() === w.slice(0, 2).join());
    if (!fits(fp.A.shape, want.A)) throw new Error(`${where}: key '${fp.keyA}' has shape [${fp.A.shape}]; module '${m.name}' (${m.kind}, ${m.inFeatures} → ${m.outFeatures}) takes [${want.A}]`);
    if (!fits(fp.B.shape, want.B)) throw new Error(`${where}: key '${fp.keyB}' has shape [${fp.B.shape}]; module '${m.name}' (${m.kind}, ${m.inFeatures} → ${m.outFeatures}) takes [${want.B}]`);
    const alpha = config ? patternValue(config.alpha_pattern, m.name) ?? config.lora_alpha ?? fp.rank : fp.alpha ?? fp.rank;
    if (!(alpha > 0)) throw new Error(`${where}: key '${fp.keyA}': alpha of module '${m.name}' must be positive; got ${showValue(alpha)}`);
    const f32 = (t: SafetensorsTensor) => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>));
    specs.push({ module: m, rank: fp.rank, alpha, a: f32(fp.A), b: f32(fp.B) });
  }
  // The model's order, not the file's (safetensors sorts its keys).
  const order = [...mods.keys()];
  specs.sort((a, b) => order.indexOf(a.module.name) - order.indexOf(b.module.name));
  const tensors: tf.Tensor[] = [];
  try {
    for (const s of specs) {
      const m = s.module;
      const [A, B] = tf.tidy(() => {
        const a = m.kind === 'linear'
          ? tf.transpose(tf.tensor2d(s.a, [s.rank, m.inFeatures]))
          : tf.transpose(tf.tensor4d(s.a, [s.rank, m.inFeatures, m.kernelSize, m.kernelSize]), [2, 3, 1, 0]);
        return [a, tf.transpose(tf.tensor2d(s.b, [m.outFeatures, s.rank]))];
      });
      tensors.push(A, B);
      s.A = A;
      s.B = B;
    }
    const rank = mostCommon(specs.map((s) => s.rank));
    const info = { rank, alpha: mostCommon(specs.map((s) => s.alpha)), dropout: config?.lora_dropout ?? 0, targets: specs.map((s) => s.module.name) };
    return attachAdapter(model, opts.name ?? 'default', specs, info, weight);
  } finally {
    tf.dispose(tensors);
  }
}
