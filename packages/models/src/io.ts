import * as tf from '@tensorflow/tfjs';
import { resolveUNetConfig, uncheckedOptions, type UNetConfig, type UNetOptions } from './config.js';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import { checkOptions, optionKeys, showList, showValue } from '@tfjs-diffusion/schedules';
import { MLPDenoiser, resolveMLPConfig, type MLPConfig, type MLPOptions } from './mlp.js';
import type { SafetensorsTensor } from './safetensors.js';
import { checkModelFits, type MemoryLimit } from './size.js';
import { UNet } from './unet.js';

export type ModelConfig = UNetConfig | MLPConfig;
export type Model = UNet | MLPDenoiser;

/** A model config with `kind`, as `createModel` takes it. */
export type ModelConfigJson = { kind: string } & Record<string, unknown>;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The model config in a config.json: a run folder's `{ model: {...}, ... }`
 * or a bare model config (as `saveModel` writes). The one parser of that
 * file's shape; `where` names it in errors.
 */
export function modelConfigOf(json: unknown, where: string): ModelConfigJson {
  if (!isObj(json)) throw new Error(`${where}: must be a JSON object; got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
  const cfg = isObj(json.model) ? json.model : json;
  // Run configs written before `kind` was stored hold U-Nets.
  const kind = cfg.kind ?? (isObj(json.model) ? 'unet' : undefined);
  if (kind !== 'unet' && kind !== 'mlp') {
    throw new Error(
      `${where}: no model config: expected a model config with "kind" ('unet' or 'mlp'), a run config with "model": { "kind": … }, ` +
        `or a diffusers config with "_class_name"; got kind ${showValue(cfg.kind)}`,
    );
  }
  return { ...cfg, kind };
}

const CREATE_MODEL_KEYS = optionKeys<NonNullable<Parameters<typeof createModel>[1]>>()(['seed', 'memoryLimit']);

/**
 * Builds a model from a config as stored in config.json (`kind` picks the class). Its size is
 * checked against `memoryLimit` (default the wasm heap) before any weight is allocated.
 */
export function createModel(config: ModelConfig | ({ kind?: string } & Record<string, unknown>), opts: { seed?: number; memoryLimit?: MemoryLimit } = {}): Model {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError(`createModel: config must be an object of model options; got ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}`);
  }
  if (config.kind !== undefined && config.kind !== 'unet' && config.kind !== 'mlp') {
    throw new Error(`createModel: config.kind must be 'unet' or 'mlp'; got ${showValue(config.kind)}`);
  }
  checkOptions('createModel', opts, CREATE_MODEL_KEYS);
  checkModelFits(config, { limit: opts.memoryLimit, what: 'createModel' });
  const seed = opts.seed === undefined ? {} : { seed: opts.seed };
  return config.kind === 'mlp' ? new MLPDenoiser(resolveMLPConfig(uncheckedOptions<MLPOptions>(config)), seed) : new UNet(resolveUNetConfig(uncheckedOptions<UNetOptions>(config)), seed);
}

/** The weights as safetensors entries, keyed by parameter name. */
export function modelTensors(model: { parameters(): NamedParameter[] }): Record<string, SafetensorsTensor> {
  const out: Record<string, SafetensorsTensor> = {};
  for (const { name, variable } of model.parameters()) {
    out[name] = { dtype: 'F32', shape: variable.shape.slice(), data: variable.dataSync() as Float32Array };
  }
  return out;
}

export interface LoadWeightsOptions {
  /** false: tensors the model has no parameter for are ignored. Default true. */
  strict?: boolean;
  /** Names the weights in errors. Default 'weights'. */
  source?: string;
}

const LOAD_WEIGHTS_KEYS = optionKeys<LoadWeightsOptions>()(['strict', 'source']);

/**
 * Copies `tensors` into the model's parameters. Every name and shape is
 * checked before anything is assigned; the error lists every missing,
 * unexpected and mismatched tensor. `strict: false` ignores unexpected ones
 * and loads the parameters that are present.
 */
export function loadWeights(
  model: { parameters(): NamedParameter[] },
  tensors: Record<string, { shape: number[]; data: ArrayLike<number> | BigInt64Array }>,
  opts: LoadWeightsOptions = {},
): string[] {
  checkOptions('loadWeights', opts, LOAD_WEIGHTS_KEYS);
  const { strict = true, source = 'weights' } = opts;
  const params = model.parameters();
  const names = new Set(params.map((q) => q.name));
  const missing = params.filter((q) => !(q.name in tensors)).map((q) => q.name);
  const unexpected = Object.keys(tensors).filter((n) => !names.has(n));
  const mismatched: string[] = [];
  const integer: string[] = [];
  for (const q of params) {
    const t = tensors[q.name];
    if (!t) continue;
    // A safetensors file may hold I64 tensors; a weight must be floating point.
    if (t.data instanceof BigInt64Array) integer.push(q.name);
    const same = t.shape.length === q.variable.shape.length && t.shape.every((d, i) => d === q.variable.shape[i]);
    if (!same || t.data.length !== q.variable.size) mismatched.push(`${q.name} (file ${t.shape.length <= 8 ? `[${t.shape}]` : showValue(t.shape, 60)}, model [${q.variable.shape}])`);
  }
  const problems: string[] = [];
  if (strict && missing.length) problems.push(`missing: ${showList(missing)}`);
  if (strict && unexpected.length) problems.push(`unexpected: ${showList(unexpected)}`);
  if (mismatched.length) problems.push(`shape mismatch: ${showList(mismatched)}`);
  if (integer.length) problems.push(`64-bit integer data where a weight must be floating point: ${showList(integer)}`);
  if (problems.length) throw new Error(`${source} do not fit the model; ${problems.join('; ')}`);
  const loaded: string[] = [];
  for (const q of params) {
    const t = tensors[q.name];
    if (!t || t.data instanceof BigInt64Array) continue;
    const data = t.data;
    tf.tidy(() => q.variable.assign(tf.tensor(Float32Array.from(data), q.variable.shape, 'float32')));
    loaded.push(q.name);
  }
  return loaded;
}
