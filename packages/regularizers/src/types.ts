import type * as tf from '@tensorflow/tfjs';

/** A model parameter with its dotted name (same shape as the models package's NamedParameter). */
export interface NamedParameter {
  name: string;
  variable: tf.Variable;
}

/** Plain tensor contents, for checkpoints (safetensors) without tfjs objects. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}
