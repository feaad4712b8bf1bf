import { checkOptions, optionKeys, showValue } from '@tfjs-diffusion/schedules';

/** The feed-forward activations of transformers' CLIPTextModel this encoder has. */
export const CLIP_TEXT_ACTIVATIONS = ['quick_gelu', 'gelu'] as const;
export type ClipTextActivation = (typeof CLIP_TEXT_ACTIVATIONS)[number];

/** A CLIP text encoder's size (transformers' CLIPTextConfig, camelCased). */
export interface ClipTextConfig {
  kind: 'clip-text';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numAttentionHeads: number;
  numHiddenLayers: number;
  /** The longest input (CLIP's context, 77). */
  maxPositionEmbeddings: number;
  /** quick_gelu: x·sigmoid(1.702x) (OpenAI's CLIP, SD 1.x); gelu: the erf GELU (OpenCLIP, SD 2.x). */
  hiddenAct: ClipTextActivation;
  layerNormEps: number;
}

export type ClipTextOptions = Partial<Omit<ClipTextConfig, 'kind'>> & { kind?: 'clip-text' };

export const CLIP_TEXT_OPTION_KEYS = optionKeys<ClipTextOptions>()([
  'kind', 'vocabSize', 'hiddenSize', 'intermediateSize', 'numAttentionHeads', 'numHiddenLayers', 'maxPositionEmbeddings', 'hiddenAct', 'layerNormEps',
]);

/** Stable Diffusion 1.x's text encoder (CLIP ViT-L/14's text tower): the defaults. */
const SD1: Omit<ClipTextConfig, 'kind'> = {
  vocabSize: 49408, hiddenSize: 768, intermediateSize: 3072, numAttentionHeads: 12, numHiddenLayers: 12,
  maxPositionEmbeddings: 77, hiddenAct: 'quick_gelu', layerNormEps: 1e-5,
};

const LIMIT = 1 << 20;

function positiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > LIMIT) throw new RangeError(`${where}: ${name} must be an integer in [1, ${LIMIT}]; got ${showValue(v)}`);
  return v;
}

/** A checked config: defaults from Stable Diffusion 1.x's encoder, unknown options refused naming the nearest. */
export function resolveClipTextConfig(options: ClipTextOptions = {}, where = 'ClipTextEncoder'): ClipTextConfig {
  checkOptions(where, options, CLIP_TEXT_OPTION_KEYS);
  if (options.kind !== undefined && options.kind !== 'clip-text') throw new Error(`${where}: kind must be 'clip-text'; got ${showValue(options.kind)}`);
  const c = { ...SD1, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Omit<ClipTextConfig, 'kind'> & { kind?: string };
  for (const k of ['vocabSize', 'hiddenSize', 'intermediateSize', 'numAttentionHeads', 'numHiddenLayers', 'maxPositionEmbeddings'] as const) positiveInt(where, k, c[k]);
  if (c.hiddenSize % c.numAttentionHeads !== 0) throw new RangeError(`${where}: hiddenSize (${c.hiddenSize}) must be a multiple of numAttentionHeads (${c.numAttentionHeads})`);
  if (!(CLIP_TEXT_ACTIVATIONS as readonly unknown[]).includes(c.hiddenAct)) {
    throw new RangeError(`${where}: hiddenAct must be one of ${CLIP_TEXT_ACTIVATIONS.map((a) => `'${a}'`).join(', ')}; got ${showValue(c.hiddenAct)}`);
  }
  if (typeof c.layerNormEps !== 'number' || !(c.layerNormEps > 0 && c.layerNormEps < 1)) throw new RangeError(`${where}: layerNormEps must be a number in (0, 1); got ${showValue(c.layerNormEps)}`);
  return { kind: 'clip-text', ...c } as ClipTextConfig;
}

/** transformers' CLIPTextConfig keys read into our config. */
const READ: Record<string, keyof ClipTextOptions> = {
  vocab_size: 'vocabSize', hidden_size: 'hiddenSize', intermediate_size: 'intermediateSize', num_attention_heads: 'numAttentionHeads',
  num_hidden_layers: 'numHiddenLayers', max_position_embeddings: 'maxPositionEmbeddings', hidden_act: 'hiddenAct', layer_norm_eps: 'layerNormEps',
};
/**
 * Keys that do not change the forward pass: bookkeeping, the pooled output's token ids, the
 * projection (CLIPTextModel has none), initialisation, and dropout (which encode never applies,
 * as transformers in eval mode and Stable Diffusion pipelines).
 */
const IGNORED = [
  '_name_or_path', 'transformers_version', 'architectures', 'model_type', 'torch_dtype', 'dtype', 'bos_token_id', 'eos_token_id', 'pad_token_id',
  'projection_dim', 'initializer_range', 'initializer_factor', 'dropout', 'attention_dropout',
];
const KNOWN = [...Object.keys(READ), ...IGNORED];

/** transformers' `config.json` of a CLIPTextModel (object or text) as our config; unknown keys refused by name. */
export function clipTextConfigFromTransformers(config: unknown, where = 'fromTransformers'): ClipTextConfig {
  let c = config;
  if (typeof c === 'string') {
    try {
      c = JSON.parse(c);
    } catch (e) {
      throw new Error(`${where}: config is not JSON (the text of config.json): ${(e as Error).message}`);
    }
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new TypeError(`${where}: config must be the object or text of config.json; got ${showValue(c)}`);
  const o = c as Record<string, unknown>;
  if (o.model_type !== undefined && o.model_type !== 'clip_text_model') {
    throw new Error(`${where}: config.model_type must be 'clip_text_model' (a CLIPTextModel's config.json); got ${showValue(o.model_type)}`);
  }
  if (o.architectures !== undefined && !(Array.isArray(o.architectures) && o.architectures.every((a) => a === 'CLIPTextModel'))) {
    throw new Error(`${where}: config.architectures must be ['CLIPTextModel']; got ${showValue(o.architectures)}`);
  }
  checkOptions(`${where}: config.json`, o, KNOWN);
  const opts: Record<string, unknown> = {};
  for (const [k, ours] of Object.entries(READ)) if (o[k] !== undefined) opts[ours] = o[k];
  try {
    return resolveClipTextConfig(opts as ClipTextOptions, where);
  } catch (e) {
    // Name the file's key, not ours.
    const key = Object.entries(READ).find(([, ours]) => (e as Error).message.includes(`${ours} `))?.[0];
    throw key ? new RangeError(`${(e as Error).message} (config.json key '${key}')`) : e;
  }
}

/** Our config as transformers' CLIPTextModel `config.json`. */
export function clipTextConfigToTransformers(c: ClipTextConfig): Record<string, unknown> {
  return {
    architectures: ['CLIPTextModel'], model_type: 'clip_text_model',
    ...Object.fromEntries(Object.entries(READ).map(([k, ours]) => [k, c[ours]])),
    attention_dropout: 0, dropout: 0, initializer_factor: 1, initializer_range: 0.02,
    bos_token_id: 49406, eos_token_id: 49407, pad_token_id: 1, projection_dim: c.hiddenSize, torch_dtype: 'float32',
  };
}
