import * as tf from '@tensorflow/tfjs';
import { checkConditioning, type Conditioning, type ConditioningField } from '@tfjs-diffusion/samplers';
import { optionKeys } from '@tfjs-diffusion/schedules';

export interface PredictOptions {
  /** Dropout on (only then). Default false. */
  training?: boolean;
  /** Seed of the dropout masks. */
  seed?: number;
  /** Overrides `config.dropout` while training (a dropout schedule). */
  dropoutRate?: number;
}

export interface ModelOptions {
  /** Same seed, same initial weights. Default 0. */
  seed?: number;
}

export const MODEL_OPTION_KEYS = optionKeys<ModelOptions>()(['seed']);

/** Per condition field: true when the model reads it, else why it cannot. */
export type ConditionReads = { readonly [K in ConditioningField]?: true | string };

/**
 * Shared checks of a denoiser's inputs; errors name the argument and the expected shape. A condition
 * field the model does not read is refused: class labels without a class embedding, text
 * embeddings (`encoderHiddenStates`) without a cross-attention block; `reads` marks what it does read.
 */
export function checkInputs(name: string, x: tf.Tensor, t: tf.Tensor, cond: Conditioning | undefined, numClasses: number | null, reads: ConditionReads = {}): void {
  if (x.rank !== 4) throw new Error(`${name}.predict: x must be a 4-D tensor [batch, height, width, channels]; got shape [${x.shape}]`);
  const b = x.shape[0];
  if (t.rank !== 1 || t.shape[0] !== b) throw new Error(`${name}.predict: t must be a 1-D tensor of ${b} timesteps (one per image); got shape [${t.shape}]`);
  checkConditioning(`${name}.predict`, cond, b, {
    classLabels: numClasses !== null || 'the model has no class embedding (numClasses is null)',
    encoderHiddenStates: "the model has no cross-attention block to read it (diffusers' CrossAttn* blocks)",
    ...reads,
  });
}

/** The ids to embed: the given labels, or the null class when there are none. */
export function classIds(cond: Conditioning | undefined, numClasses: number, batch: number): tf.Tensor1D {
  return cond?.classLabels ? tf.cast(cond.classLabels, 'int32') : tf.fill([batch], numClasses, 'int32');
}
