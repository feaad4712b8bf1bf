import * as tf from '@tensorflow/tfjs';
import { checkOptions, optionKeys, showList } from '@tfjs-diffusion/schedules';
import { decodeSafetensors, type SafetensorsTensor } from '../safetensors.js';
import { clipTextConfigFromTransformers, clipTextConfigToTransformers } from './clipConfig.js';
import { ClipTextEncoder, clipTextParameterShapes } from './clipTextEncoder.js';

/*
 * transformers' CLIPTextModel state dict ↔ our parameters: the same names under `text_model.`,
 * `weight` of a Linear [out, in] ↔ our `kernel` [in, out], LayerNorm weight/bias ↔ gamma/beta,
 * Embedding weight ↔ table.
 */

export interface FromTransformersOptions {
  /** Names the weights in errors (e.g. the file). */
  source?: string;
}
const FROM_KEYS = optionKeys<FromTransformersOptions>()(['source']);

// Older transformers saved the position ids buffer; transformers itself ignores it on load.
const IGNORED_WEIGHTS = new Set(['text_model.embeddings.position_ids']);

/** transformers' name of one of our parameters. */
export function transformersName(name: string): string {
  const m = /^(.*)\.(kernel|bias|gamma|beta|table)$/.exec(name);
  if (!m) throw new Error(`toTransformers: no transformers name for parameter '${name}'`);
  return `text_model.${m[1]}.${m[2] === 'bias' || m[2] === 'beta' ? 'bias' : 'weight'}`;
}

function transpose2d(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

const isKernel = (name: string) => name.endsWith('.kernel');

/**
 * A CLIP text encoder from transformers' CLIPTextModel folder (Stable Diffusion's
 * `text_encoder/`): `config` its config.json (object or text), `weights` model.safetensors as
 * `decodeSafetensors` gives its tensors (or the file's bytes). Every key is checked, as
 * `load_state_dict(strict=True)`: the error names what is missing, unexpected or mis-shaped.
 */
export function fromTransformers(
  config: Record<string, unknown> | string,
  weights: Record<string, SafetensorsTensor> | Uint8Array | ArrayBuffer,
  opts: FromTransformersOptions = {},
): ClipTextEncoder {
  checkOptions('fromTransformers', opts, FROM_KEYS);
  const where = opts.source ? `fromTransformers (${opts.source})` : 'fromTransformers';
  const cfg = clipTextConfigFromTransformers(config, where);
  let tensors: Record<string, SafetensorsTensor>;
  if (weights instanceof Uint8Array || weights instanceof ArrayBuffer) {
    tensors = decodeSafetensors(weights instanceof Uint8Array ? weights : new Uint8Array(weights), `${where}: weights`).tensors;
  } else if (typeof weights === 'object' && weights !== null && !Array.isArray(weights) && !ArrayBuffer.isView(weights)) {
    tensors = weights;
  } else {
    throw new TypeError(`${where}: weights must be model.safetensors' tensors (name → { dtype, shape, data }) or its bytes; got ${Object.prototype.toString.call(weights)}`);
  }
  const plan = clipTextParameterShapes(cfg).map(({ name, shape }) => ({ name, shape, key: transformersName(name) }));
  const keys = new Set(plan.map((q) => q.key));
  const missing: string[] = [];
  const mismatched: string[] = [];
  const integer: string[] = [];
  for (const { name, shape, key } of plan) {
    const t = tensors[key];
    if (!t) { missing.push(key); continue; }
    const want = isKernel(name) ? [shape[1]!, shape[0]!] : shape;
    const ok = Array.isArray(t.shape) && t.shape.join() === want.join() && t.data?.length === want.reduce((a, b) => a * b, 1);
    if (!ok) mismatched.push(`${key} (file [${Array.isArray(t.shape) ? t.shape.slice(0, 8).join(',') : '?'}], expected [${want}])`);
    else if (t.data instanceof BigInt64Array || t.dtype.startsWith('I') || t.dtype.startsWith('U') || t.dtype === 'BOOL') integer.push(`${key} (${t.dtype})`);
  }
  const unexpected = Object.keys(tensors).filter((k) => !keys.has(k) && !IGNORED_WEIGHTS.has(k));
  const problems: string[] = [];
  if (missing.length) problems.push(`missing: ${showList(missing)}`);
  if (unexpected.length) problems.push(`unexpected: ${showList(unexpected)}`);
  if (mismatched.length) problems.push(`shape mismatch: ${showList(mismatched)}`);
  if (integer.length) problems.push(`not floating point: ${showList(integer)}`);
  if (problems.length) throw new Error(`${where}: the weights do not fit the config; ${problems.join('; ')}`);
  const encoder = new ClipTextEncoder(cfg);
  try {
    const vars = new Map(encoder.parameters().map((q) => [q.name, q.variable]));
    for (const { name, shape, key } of plan) {
      const t = tensors[key]!;
      const data = isKernel(name) ? transpose2d(t.data as ArrayLike<number>, shape[1]!, shape[0]!) : Float32Array.from(t.data as ArrayLike<number>);
      tf.tidy(() => vars.get(name)!.assign(tf.tensor(data, shape, 'float32')));
    }
  } catch (e) {
    encoder.dispose();
    throw e;
  }
  return encoder;
}

/**
 * transformers' CLIPTextModel config.json and state dict of an encoder, under the keys
 * `fromTransformers` reads (`encodeSafetensors(tensors, { format: 'pt' })` is its model.safetensors).
 */
export function toTransformers(encoder: ClipTextEncoder): { config: Record<string, unknown>; tensors: Record<string, SafetensorsTensor> } {
  if (!(encoder instanceof ClipTextEncoder)) throw new TypeError('toTransformers: encoder must be a ClipTextEncoder');
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const { name, variable } of encoder.parameters()) {
    const data = variable.dataSync() as Float32Array;
    const [a = 0, b = 0] = variable.shape;
    tensors[transformersName(name)] = isKernel(name)
      ? { dtype: 'F32', shape: [b, a], data: transpose2d(data, a, b) }
      : { dtype: 'F32', shape: variable.shape.slice(), data: data.slice() };
  }
  return { config: clipTextConfigToTransformers(encoder.config), tensors };
}
