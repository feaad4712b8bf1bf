import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from './types.js';

/** Number of items and flat dimension of an image set. */
export function setSize(set: ImageSet, name: string): { n: number; d: number } {
  const shape = set.shape;
  if (shape.length < 2) {
    throw new Error(`${name} must have shape [N, ...] with at least 2 axes; got [${shape.join(', ')}]`);
  }
  const n = shape[0]!;
  const d = shape.slice(1).reduce((a, b) => a * b, 1);
  if (!(set instanceof tf.Tensor) && set.data.length !== n * d) {
    throw new Error(`${name}.data has ${set.data.length} values but shape [${shape.join(', ')}] needs ${n * d}`);
  }
  if (n < 1 || d < 1) throw new Error(`${name} must hold at least one non-empty item; got shape [${shape.join(', ')}]`);
  return { n, d };
}

/** The set as a new float32 `[N, D]` tensor (the caller disposes it). */
export function toMatrix(set: ImageSet, name: string): tf.Tensor2D {
  const { n, d } = setSize(set, name);
  if (set instanceof tf.Tensor) return tf.tidy(() => tf.cast(tf.reshape(set, [n, d]), 'float32')) as tf.Tensor2D;
  return tf.tensor2d(set.data, [n, d], 'float32');
}

/** The set's values on the host, row-major `[N, D]`. */
export function toHost(set: ImageSet, name: string): { data: Float32Array; n: number; d: number } {
  const { n, d } = setSize(set, name);
  if (set instanceof tf.Tensor) {
    const data = set.dtype === 'float32' ? (set.dataSync() as Float32Array) : Float32Array.from(set.dataSync());
    return { data, n, d };
  }
  return { data: set.data, n, d };
}
