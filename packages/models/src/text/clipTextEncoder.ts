import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from '@tfjs-diffusion/samplers';
import { checkOptions, optionKeys, showValue } from '@tfjs-diffusion/schedules';
import { ParamModule, ParamStore } from '../layers.js';
import { resolveClipTextConfig, type ClipTextConfig, type ClipTextOptions } from './clipConfig.js';

export interface ClipTextEncoderOptions {
  /** Same seed, same initial weights. Default 0. */
  seed?: number;
}
const ENCODER_KEYS = optionKeys<ClipTextEncoderOptions>()(['seed']);

/** Each parameter's name and shape in creation order (names as transformers' with `kernel` [in, out] for `weight`). */
export function clipTextParameterShapes(c: ClipTextConfig): { name: string; shape: number[] }[] {
  const D = c.hiddenSize;
  const F = c.intermediateSize;
  const out: { name: string; shape: number[] }[] = [
    { name: 'embeddings.token_embedding.table', shape: [c.vocabSize, D] },
    { name: 'embeddings.position_embedding.table', shape: [c.maxPositionEmbeddings, D] },
  ];
  const norm = (n: string) => out.push({ name: `${n}.gamma`, shape: [D] }, { name: `${n}.beta`, shape: [D] });
  const linear = (n: string, i: number, o: number) => out.push({ name: `${n}.kernel`, shape: [i, o] }, { name: `${n}.bias`, shape: [o] });
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const n = `encoder.layers.${l}`;
    norm(`${n}.layer_norm1`);
    for (const q of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linear(`${n}.self_attn.${q}`, D, D);
    norm(`${n}.layer_norm2`);
    linear(`${n}.mlp.fc1`, D, F);
    linear(`${n}.mlp.fc2`, F, D);
  }
  norm('final_layer_norm');
  return out;
}

/** The parameter count of a config, without allocating anything. */
export function clipTextParameterCount(config: ClipTextOptions): number {
  return clipTextParameterShapes(resolveClipTextConfig(config)).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * table[ids] whose gradient is a scatter-add of the rows' gradients: tfjs' own (UnsortedSegmentSum)
 * costs vocabulary × tokens on the cpu backend, minutes for CLIP's 49,408 rows.
 */
const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [table, ids, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([ids]);
  const [V, D] = table.shape as [number, number];
  return {
    value: tf.gather(table, ids),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
      tf.scatterND(tf.reshape(saved[0]!, [-1, 1]), dy as tf.Tensor, [V, D]),
      tf.zerosLike(saved[0]!),
    ],
  };
}) as (table: tf.Tensor2D, ids: tf.Tensor1D) => tf.Tensor2D;

// fp32 softmax of a row with these added gives exactly 0 there (exp underflows), never NaN.
const MASKED = -1e9;

/**
 * CLIP's text transformer (transformers' CLIPTextModel without pooling): token + position
 * embeddings, pre-LayerNorm layers of causal multi-head self-attention and an MLP, each residual,
 * then the final LayerNorm. `encode` gives the last hidden state, which a Stable Diffusion
 * U-Net takes as `encoder_hidden_states`. Weights are tf.Variables (trainable).
 */
export class ClipTextEncoder extends ParamModule {
  readonly config: ClipTextConfig;
  protected readonly p: ParamStore;

  constructor(config: ClipTextOptions = {}, opts: ClipTextEncoderOptions = {}) {
    super();
    checkOptions('ClipTextEncoder', opts, ENCODER_KEYS);
    this.config = resolveClipTextConfig(config);
    this.p = new ParamStore(opts.seed ?? 0);
    // transformers' CLIP initialisation: embeddings N(0, 0.02) and N(0, 0.01), LayerNorm 1 and 0, biases 0.
    for (const { name, shape } of clipTextParameterShapes(this.config)) {
      const init = name.endsWith('.gamma') ? 'ones'
        : name.endsWith('.beta') || name.endsWith('.bias') ? 'zeros'
        : name.startsWith('embeddings.token') ? { normal: 0.02 }
        : name.startsWith('embeddings.position') ? { normal: 0.01 }
        : 'lecun';
      this.p.create(name, shape, init);
    }
  }

  /** The hidden size D of `encode`'s output [B, L, D]. */
  get hiddenSize(): number {
    return this.config.hiddenSize;
  }

  /**
   * The last hidden state [B, L, D] of token ids [B, L] (int32 tensor or host ids, L ≤
   * maxPositionEmbeddings), after the final LayerNorm. Every id is checked against the vocabulary.
   */
  encode(inputIds: tf.Tensor2D | HostTensor): tf.Tensor3D {
    const c = this.config;
    const isTensor = inputIds instanceof tf.Tensor;
    const shape = isTensor ? inputIds.shape : (inputIds as HostTensor | undefined)?.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || !(shape[1]! >= 1)) {
      throw new Error(`ClipTextEncoder.encode: inputIds must be [batch, length] token ids (an int32 tensor or { data, shape }); got shape ${showValue(shape)}`);
    }
    const [B, L] = shape as [number, number];
    if (L > c.maxPositionEmbeddings) throw new Error(`ClipTextEncoder.encode: inputIds has ${L} tokens per row, more than maxPositionEmbeddings (${c.maxPositionEmbeddings})`);
    const ids = isTensor ? inputIds.dataSync() : (inputIds as HostTensor).data;
    if (ids.length !== B * L) throw new Error(`ClipTextEncoder.encode: inputIds has ${ids.length} values for shape [${B}, ${L}]`);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new RangeError(`ClipTextEncoder.encode: inputIds holds ${id} at ${i}; ids must be integers in [0, ${c.vocabSize})`);
    }
    const p = (n: string) => this.p.get(n);
    const D = c.hiddenSize;
    const H = c.numAttentionHeads;
    const d = D / H;
    return tf.tidy(() => {
      const flatIds = (isTensor ? tf.cast(tf.reshape(inputIds, [B * L]), 'int32') : tf.tensor1d(Int32Array.from(ids), 'int32')) as tf.Tensor1D;
      const tokens = lookup(p('embeddings.token_embedding.table') as tf.Tensor2D, flatIds);
      const positions = tf.slice(p('embeddings.position_embedding.table'), [0, 0], [L, D]);
      let x = tf.reshape(tf.add(tf.reshape(tokens, [B, L, D]), positions), [B * L, D]) as tf.Tensor2D;
      const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([L, L]), -1, 0)), MASKED);
      const norm = (n: string, h: tf.Tensor2D) => {
        const { mean, variance } = tf.moments(h, 1, true);
        return tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, c.layerNormEps))), p(`${n}.gamma`)), p(`${n}.beta`)) as tf.Tensor2D;
      };
      const linear = (n: string, h: tf.Tensor2D) => tf.add(tf.matMul(h, p(`${n}.kernel`) as tf.Tensor2D), p(`${n}.bias`)) as tf.Tensor2D;
      // [B·L, D] → [B·H, L, d]
      const heads = (h: tf.Tensor2D) => tf.reshape(tf.transpose(tf.reshape(h, [B, L, H, d]), [0, 2, 1, 3]), [B * H, L, d]) as tf.Tensor3D;
      const act = (h: tf.Tensor2D) => (c.hiddenAct === 'quick_gelu'
        ? tf.mul(h, tf.sigmoid(tf.mul(h, 1.702)))
        : tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2))))) as tf.Tensor2D;
      for (let l = 0; l < c.numHiddenLayers; l++) {
        const n = `encoder.layers.${l}`;
        const h = norm(`${n}.layer_norm1`, x);
        const q = heads(tf.mul(linear(`${n}.self_attn.q_proj`, h), 1 / Math.sqrt(d)));
        const k = heads(linear(`${n}.self_attn.k_proj`, h));
        const v = heads(linear(`${n}.self_attn.v_proj`, h));
        const a = tf.softmax(tf.add(tf.matMul(q, k, false, true), mask));
        const o = tf.reshape(tf.transpose(tf.reshape(tf.matMul(a, v), [B, H, L, d]), [0, 2, 1, 3]), [B * L, D]) as tf.Tensor2D;
        x = tf.add(x, linear(`${n}.self_attn.out_proj`, o));
        x = tf.add(x, linear(`${n}.mlp.fc2`, act(linear(`${n}.mlp.fc1`, norm(`${n}.layer_norm2`, x)))));
      }
      return tf.reshape(norm('final_layer_norm', x), [B, L, D]) as tf.Tensor3D;
    });
  }
}
