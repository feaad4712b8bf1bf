import type * as tf from '@tensorflow/tfjs';

/** A model parameter with its dotted name; the one definition that models, training and backend's replicas use. */
export interface NamedParameter {
  name: string;
  variable: tf.Variable;
}

/** Plain tensor contents, for checkpoints (safetensors) without tfjs objects. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}
