import { checkOptions, optionKeys, showValue } from '@tfjs-diffusion/schedules';
import { attentionHeadsFor, levelBlockTypes, resolveUNetConfig, sampleHW, uncheckedOptions, type UNetConfig, type UNetOptions } from './config.js';
import { resolveMLPConfig, type MLPConfig, type MLPOptions } from './mlp.js';
import { unetParameterCount } from './unet.js';

/** How much memory one instance (a backend, a worker, a tab) can give a model, and what sets that bound. */
export interface MemoryLimit {
  bytes: number;
  /** Named in the error, e.g. "the wasm backend's 4 GiB heap". */
  what: string;
}

/** The wasm backend's heap: 4 GiB per instance (main thread, each worker, each tab). */
export const WASM_HEAP_LIMIT: MemoryLimit = { bytes: 4 * 2 ** 30, what: 'the wasm backend\'s 4 GiB heap per instance' };

export interface SizeEstimate {
  parameters: number;
  bytes: number;
}

/** A typed config, or one read from JSON (`resolved` checks every field). */
export type SizedConfig = ({ kind?: 'unet' } & Partial<UNetConfig>) | ({ kind: 'mlp' } & Partial<MLPConfig>) | ({ kind?: string } & Record<string, unknown>);

const GB = (b: number) => `${(b / 1e9).toFixed(b < 1e8 ? 3 : 1)} GB`;

function resolved(config: SizedConfig): UNetConfig | MLPConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError(`model config must be an object; got ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}`);
  }
  if (config.kind === 'mlp') return resolveMLPConfig(uncheckedOptions<MLPOptions>(config));
  if (config.kind !== undefined && config.kind !== 'unet') throw new Error(`model config: kind must be 'unet' or 'mlp'; got ${showValue(config.kind)}`);
  return resolveUNetConfig(uncheckedOptions<UNetOptions>(config));
}

function mlpParameterCount(c: MLPConfig): number {
  const h = c.hidden;
  return (c.dim * h + h) + (c.timeConditioning ? c.timeFeatureDim * h + h + h * h + h : 0) + (c.numClasses !== null ? (c.numClasses + 1) * h : 0) +
    c.layers * 3 * (h * h + h) + (h * c.dim + c.dim);
}

/**
 * Floats alive per image in one U-Net forward: about 12 tensors of each residual block's
 * activation size (norms, SiLU, convs, the skip) kept until the step's tidy ends, and each
 * attention's (hw)² scores per head. Calibrated on the reference U-Net, where 400 images
 * (200 guided) in one sampling call overflowed the 4 GiB wasm heap.
 */
export function activationFloatsPerImage(c: UNetConfig | MLPConfig): number {
  if (c.kind === 'mlp') return 12 * c.hidden * (c.layers + 2) + 4 * c.dim;
  const [h, w] = sampleHW(c.sampleSize);
  let n = 0;
  const types = levelBlockTypes(c);
  c.blockOutChannels.forEach((ch, l) => {
    const hw = (h / 2 ** l) * (w / 2 ** l);
    const blocks = 2 * c.layersPerBlock + 1 + (l === c.blockOutChannels.length - 1 ? 2 : 0);
    n += 12 * hw * ch * blocks;
    // Self-attention (AttnDownBlock2D, CrossAttn*'s transformer blocks) at this level, in any block.
    const attn = [types.down[l], types.up[l]].some((t) => t !== 'DownBlock2D' && t !== 'UpBlock2D') ? blocks : 0;
    n += attn * (3 * hw * ch + 2 * hw * hw * attentionHeadsFor(c, ch, l));
  });
  return n;
}

const ESTIMATE_KEYS = optionKeys<NonNullable<Parameters<typeof estimateModelBytes>[1]>>()(['batch', 'training']);

/**
 * Bytes one instance needs, from the config alone (nothing is allocated): weights (×5 when
 * training: weights, gradients, two AdamW moments, EMA) and activations of `batch` images
 * (×2 when training: the backward pass keeps them and makes as many gradients). `batch` 0: the weights only.
 */
export function estimateModelBytes(config: SizedConfig, opts: { batch?: number; training?: boolean } = {}): SizeEstimate {
  checkOptions('estimateModelBytes', opts, ESTIMATE_KEYS);
  const { batch = 0, training = false } = opts;
  const c = resolved(config);
  const parameters = c.kind === 'mlp' ? mlpParameterCount(c) : unetParameterCount(c);
  const weights = parameters * 4 * (training ? 5 : 1);
  const acts = activationFloatsPerImage(c) * 4 * batch * (training ? 2 : 1);
  return { parameters, bytes: weights + acts };
}

export interface CheckModelFitsOptions {
  /** Images in one forward (0: only the weights, as when building). Default 0. */
  batch?: number;
  training?: boolean;
  /** Default {@link WASM_HEAP_LIMIT}. */
  limit?: MemoryLimit;
  /** Starts the error: the file or setting the config came from. Default 'model config'. */
  what?: string;
}

const CHECK_FITS_KEYS = optionKeys<CheckModelFitsOptions>()(['batch', 'training', 'limit', 'what']);
const LIMIT_KEYS = optionKeys<MemoryLimit>()(['bytes', 'what']);

/**
 * Refuses a model (and batch) that cannot fit in `limit`, with the estimate, before anything is
 * allocated; `createModel`, `loadModel` and `fromDiffusers` call it, so a hostile config.json fails
 * in milliseconds instead of exhausting the heap.
 */
export function checkModelFits(config: SizedConfig, o: CheckModelFitsOptions = {}): SizeEstimate {
  checkOptions('checkModelFits', o, CHECK_FITS_KEYS);
  checkOptions('checkModelFits', o.limit, LIMIT_KEYS, 'limit');
  const { batch = 0, training = false, limit = WASM_HEAP_LIMIT, what = 'model config' } = o;
  if (!Number.isInteger(batch) || batch < 0) throw new RangeError(`${what}: the batch must be an integer >= 0 images; got ${batch}`);
  const c = resolved(config);
  const e = estimateModelBytes(c, { batch, training });
  if (!(e.bytes <= limit.bytes)) {
    const shape = c.kind === 'mlp' ? `dim ${c.dim}, hidden ${c.hidden}, ${c.layers} layers` : `blockOutChannels [${c.blockOutChannels}], ${JSON.stringify(c.sampleSize)} px`;
    const doing = training ? 'training' : batch > 0 ? 'sampling' : 'building';
    throw new RangeError(
      `${what}: ${doing} this ${c.kind === 'mlp' ? 'MLP' : 'U-Net'} (${e.parameters.toLocaleString('en')} parameters, ${shape}` +
        `${c.numClasses !== null ? `, ${c.numClasses.toLocaleString('en')} classes` : ''})` +
        `${batch > 0 ? ` on ${batch} image${batch === 1 ? '' : 's'} at once` : ''} needs about ${GB(e.bytes)}, ` +
        `more than ${limit.what} (${GB(limit.bytes)}); use a smaller model${batch > 0 ? ' or batch' : ''}`,
    );
  }
  return e;
}
