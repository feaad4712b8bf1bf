import * as tf from '@tensorflow/tfjs';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import type { Conditioning } from '@tfjs-diffusion/samplers';
import { checkOptions, optionKeys, type Prediction } from '@tfjs-diffusion/schedules';
import type { PredictOptions } from '../inputs.js';
import { ClipTextEncoder } from './clipTextEncoder.js';
import type { ClipTokenizer } from './clipTokenizer.js';

/** What the wrapped denoiser needs: a U-Net that reads `encoderHiddenStates` (diffusers' UNet2DConditionModel). */
export interface TextReadingDenoiser {
  readonly prediction: Prediction;
  readonly numClasses?: number | null;
  readonly config?: { readonly numClasses?: number | null };
  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning, opts?: PredictOptions): tf.Tensor4D;
  parameters(): NamedParameter[];
}

export interface TextConditionedOptions {
  encoder: ClipTextEncoder;
  tokenizer: ClipTokenizer;
  /**
   * true: the encoder trains with the denoiser (its weights listed as `text_encoder.<name>`,
   * its states recomputed every call). false (default): frozen, each distinct prompt encoded
   * once — a pretrained encoder from `fromTransformers` stays as downloaded.
   */
  trainTextEncoder?: boolean;
  /** The most distinct prompts a frozen encoder's cache keeps. Default 4096. */
  maxCached?: number;
}
export const TEXT_CONDITIONED_KEYS = optionKeys<TextConditionedOptions>()(['encoder', 'tokenizer', 'trainTextEncoder', 'maxCached']);

export interface TextConditionedDenoiser extends TextReadingDenoiser {
  readonly denoiser: TextReadingDenoiser;
  readonly encoder: ClipTextEncoder;
  readonly trainTextEncoder: boolean;
  /**
   * The null value of `inputIds`: the empty prompt's ids. Guidance takes it as `nulls`
   * (a negative prompt's ids instead steer away from it), training's condition dropout reads it.
   */
  readonly conditionNulls: { inputIds: Int32Array };
  /** `{ inputIds }` [prompts.length, 77] of prompts (the caller disposes it). */
  prompts(prompts: readonly string[]): Conditioning & { inputIds: tf.Tensor2D };
  /** The guidance nulls of a negative prompt (default the empty prompt). */
  nulls(negativePrompt?: string): { inputIds: Int32Array };
}

export const TEXT_ENCODER_PREFIX = 'text_encoder.';

/**
 * A denoiser conditioned on prompts' token ids (`cond.inputIds` [B, L]): the text encoder turns
 * them into the `encoderHiddenStates` the wrapped U-Net reads (other fields pass through), so
 * sampling, guidance against the empty prompt, condition dropout (caption dropout) and
 * training — with the text encoder frozen or trained — all see one Denoiser.
 */
export function textConditioned(denoiser: TextReadingDenoiser, options: TextConditionedOptions): TextConditionedDenoiser {
  checkOptions('textConditioned', options, TEXT_CONDITIONED_KEYS);
  const { encoder, tokenizer, trainTextEncoder = false, maxCached = 4096 } = options;
  if (typeof denoiser?.predict !== 'function' || typeof denoiser.parameters !== 'function') throw new TypeError('textConditioned: denoiser must be a model with predict and parameters');
  if (!(encoder instanceof ClipTextEncoder)) throw new TypeError('textConditioned: encoder must be a ClipTextEncoder (fromTransformers or new ClipTextEncoder)');
  if (typeof tokenizer?.encodeBatch !== 'function') throw new TypeError('textConditioned: tokenizer must be a ClipTokenizer (clipTokenizer({ vocab, merges }))');
  if (typeof trainTextEncoder !== 'boolean') throw new TypeError(`textConditioned: trainTextEncoder must be true or false; got ${String(trainTextEncoder)}`);
  if (!Number.isInteger(maxCached) || maxCached < 1) throw new RangeError(`textConditioned: maxCached must be an integer >= 1; got ${String(maxCached)}`);
  const L = tokenizer.maxLength;
  const D = encoder.hiddenSize;
  const cache = new Map<string, Float32Array>();
  const nulls = (negativePrompt = '') => ({ inputIds: tokenizer.encodeBatch([negativePrompt]).data });

  /** [B, L, D] states of ids [B, L]: each distinct row encoded once (and, frozen, cached). */
  const states = (ids: tf.Tensor2D): tf.Tensor3D => {
    const [B, len] = ids.shape;
    const host = Int32Array.from(ids.dataSync());
    const keys = Array.from({ length: B }, (_, i) => host.subarray(i * len, (i + 1) * len).join(','));
    const distinct = [...new Set(keys)];
    const index = new Map(distinct.map((k, i) => [k, i]));
    const rowsOf = (list: string[]) => ({ data: Int32Array.from(list.flatMap((k) => k.split(',').map(Number))), shape: [list.length, len] });
    if (trainTextEncoder) {
      return tf.tidy(() => tf.gather(encoder.encode(rowsOf(distinct)), tf.tensor1d(keys.map((k) => index.get(k)!), 'int32')) as tf.Tensor3D);
    }
    const missing = distinct.filter((k) => !cache.has(k));
    const fresh = new Map<string, Float32Array>();
    if (missing.length > 0) {
      const out = encoder.encode(rowsOf(missing));
      const flat = out.dataSync() as Float32Array;
      out.dispose();
      missing.forEach((k, i) => {
        fresh.set(k, flat.slice(i * len * D, (i + 1) * len * D));
        if (cache.size >= maxCached) cache.delete(cache.keys().next().value!);
        cache.set(k, fresh.get(k)!);
      });
    }
    const data = new Float32Array(B * len * D);
    keys.forEach((k, i) => data.set(fresh.get(k) ?? cache.get(k)!, i * len * D));
    return tf.tensor3d(data, [B, len, D]);
  };

  return {
    denoiser,
    encoder,
    trainTextEncoder,
    prediction: denoiser.prediction,
    get numClasses() {
      return denoiser.numClasses;
    },
    get config() {
      return denoiser.config;
    },
    conditionNulls: nulls(''),
    nulls,
    prompts: (prompts) => {
      const { data, shape } = tokenizer.encodeBatch(prompts);
      return { inputIds: tf.tensor2d(data, shape as [number, number], 'int32') };
    },
    predict(x, t, cond, opts) {
      if (!cond?.inputIds) return denoiser.predict(x, t, cond, opts);
      const ids = cond.inputIds;
      if (!(ids instanceof tf.Tensor) || ids.rank !== 2 || ids.shape[0] !== x.shape[0]) {
        throw new Error(`textConditioned.predict: cond.inputIds must be a 2-D tensor [batch, length] of token ids with ${x.shape[0]} rows; got shape ${ids instanceof tf.Tensor ? `[${ids.shape}]` : typeof ids}`);
      }
      if (cond.encoderHiddenStates) throw new Error('textConditioned.predict: give cond.inputIds or cond.encoderHiddenStates, not both');
      if (ids.shape[1] > L) throw new Error(`textConditioned.predict: cond.inputIds has ${ids.shape[1]} tokens per row, more than the tokenizer's ${L}`);
      return tf.tidy(() => {
        const { inputIds: _, ...rest } = cond;
        return denoiser.predict(x, t, { ...rest, encoderHiddenStates: states(ids) }, opts);
      });
    },
    parameters: () => [
      ...denoiser.parameters(),
      ...(trainTextEncoder ? encoder.parameters().map((p) => ({ name: `${TEXT_ENCODER_PREFIX}${p.name}`, variable: p.variable })) : []),
    ],
  };
}
