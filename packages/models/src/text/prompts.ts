import * as tf from '@tensorflow/tfjs';
import type { Conditioning } from '@tfjs-diffusion/samplers';
import { checkOptions, optionKeys, showValue } from '@tfjs-diffusion/schedules';
import type { ClipTextEncoder } from './clipTextEncoder.js';
import type { ClipTokenizer } from './clipTokenizer.js';

export interface PromptEncoderOptions {
  tokenizer: ClipTokenizer;
  encoder: ClipTextEncoder;
  /** The most distinct prompts kept (the oldest go first). Default 4096. */
  maxCached?: number;
}
export const PROMPT_ENCODER_KEYS = optionKeys<PromptEncoderOptions>()(['tokenizer', 'encoder', 'maxCached']);

/** Prompts as a frozen text encoder's states, each distinct prompt encoded once. */
export interface PromptEncoder {
  /** `{ encoderHiddenStates }` [prompts.length, 77, D]: a U-Net's text condition, one row per prompt. */
  conditioning(prompts: readonly string[]): Conditioning & { encoderHiddenStates: tf.Tensor3D };
  /**
   * The null condition of text for classifier-free guidance (`guidance.nulls`): the empty
   * prompt's states, or a negative prompt's, which guidance then steers away from.
   */
  nulls(negativePrompt?: string): { encoderHiddenStates: Float32Array };
  /** One prompt's states [77·D] on the host, row-major. */
  embedding(prompt: string): Float32Array;
  /** How many prompts have been through the encoder (cache misses). */
  readonly encoded: number;
  /** Forgets the cache (after the encoder's weights change). */
  clear(): void;
}

/**
 * Tokenizes and encodes prompts for sampling with a text-conditioned U-Net and for
 * training it with the text encoder frozen: embeddings are computed once per distinct
 * token sequence (prompts that differ only in case or spacing share one) and kept on the host.
 */
export function promptEncoder(options: PromptEncoderOptions): PromptEncoder {
  checkOptions('promptEncoder', options, PROMPT_ENCODER_KEYS);
  const { tokenizer, encoder } = options;
  if (typeof tokenizer?.encodeBatch !== 'function') throw new TypeError('promptEncoder: tokenizer must be a ClipTokenizer (clipTokenizer({ vocab, merges }))');
  if (typeof encoder?.encode !== 'function') throw new TypeError('promptEncoder: encoder must be a ClipTextEncoder (fromTransformers or new ClipTextEncoder)');
  const maxCached = options.maxCached ?? 4096;
  if (!Number.isInteger(maxCached) || maxCached < 1) throw new RangeError(`promptEncoder: maxCached must be an integer >= 1; got ${showValue(maxCached)}`);
  const cache = new Map<string, Float32Array>();
  let encoded = 0;
  const L = tokenizer.maxLength;
  const D = encoder.hiddenSize;

  /** Host states of each prompt, encoding the missing ones in one batch. */
  const rows = (prompts: readonly string[]): Float32Array[] => {
    if (!Array.isArray(prompts) || prompts.some((p) => typeof p !== 'string')) throw new TypeError(`promptEncoder: prompts must be an array of strings; got ${showValue(prompts)}`);
    const ids = tokenizer.encodeBatch(prompts);
    const keys = prompts.map((_, i) => ids.data.subarray(i * L, (i + 1) * L).join(','));
    const missing = [...new Set(keys.filter((k) => !cache.has(k)))];
    const fresh = new Map<string, Float32Array>();
    if (missing.length > 0) {
      const data = Int32Array.from(missing.flatMap((k) => k.split(',').map(Number)));
      const out = encoder.encode({ data, shape: [missing.length, L] });
      const flat = out.dataSync() as Float32Array;
      out.dispose();
      missing.forEach((k, i) => {
        if (cache.size >= maxCached) cache.delete(cache.keys().next().value!);
        fresh.set(k, flat.slice(i * L * D, (i + 1) * L * D));
        cache.set(k, fresh.get(k)!);
      });
      encoded += missing.length;
    }
    return keys.map((k) => fresh.get(k) ?? cache.get(k)!);
  };

  return {
    conditioning(prompts) {
      const r = rows(prompts);
      const data = new Float32Array(r.length * L * D);
      r.forEach((row, i) => data.set(row, i * L * D));
      return { encoderHiddenStates: tf.tensor3d(data, [r.length, L, D]) };
    },
    nulls: (negativePrompt = '') => ({ encoderHiddenStates: rows([negativePrompt])[0]!.slice() }),
    embedding: (prompt) => rows([prompt])[0]!.slice(),
    get encoded() {
      return encoded;
    },
    clear: () => cache.clear(),
  };
}
