import type * as tf from '@tensorflow/tfjs';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import type { Conditioning, ConditioningNulls } from '@tfjs-diffusion/samplers';
import type { Prediction } from '@tfjs-diffusion/schedules';

/** What training needs of a model (the models package's UNet and MLPDenoiser satisfy it). */
export interface TrainableDenoiser {
  readonly prediction: Prediction;
  predict(
    x: tf.Tensor4D,
    t: tf.Tensor1D,
    cond?: Conditioning,
    opts?: { training?: boolean; seed?: number; dropoutRate?: number },
  ): tf.Tensor4D;
  parameters(): NamedParameter[];
  readonly config?: { readonly numClasses?: number | null };
  /** The null value of condition fields it reads beyond class labels (a text-conditioned model: the empty prompt's `inputIds`), for condition dropout. */
  readonly conditionNulls?: Omit<ConditioningNulls, 'classLabels'>;
}

/** One training batch: clean samples in the model's scale and optional int class labels. */
export interface Batch {
  images: tf.Tensor4D;
  labels?: tf.Tensor1D | ArrayLike<number>;
  /** Each row's condition (e.g. `encoderHiddenStates`); `labels`, when given, is its classLabels. Disposed after the step. */
  cond?: Conditioning;
}

/**
 * A source of training batches. The trainer disposes the tensors of each batch
 * after the step. `getState`/`setState` (JSON) let checkpoints resume the same data order.
 */
export interface BatchSource {
  next(): Batch | Promise<Batch>;
  getState?(): unknown;
  setState?(state: unknown): void;
}

/** A fixed validation set. */
export interface ValidationSet {
  images: tf.Tensor4D;
  labels?: tf.Tensor1D | ArrayLike<number>;
}
