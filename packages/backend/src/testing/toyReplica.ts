// A small conv net as a replica module for the data-parallel tests.
import * as tf from '@tensorflow/tfjs';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import type { Replica } from '../parallel/types.js';

export interface ToyInit { seed: number; channels: number }
export interface ToyBatch { x: Float32Array; y: Float32Array; shape: [number, number, number, number]; fail?: string }

export function createReplica(init: ToyInit): Replica<ToyBatch> & { predict(batch: ToyBatch): Float32Array } {
  const c = init.channels;
  const params: NamedParameter[] = [
    { name: 'conv1.kernel', variable: tf.variable(tf.randomNormal([3, 3, 1, c], 0, 0.5, 'float32', init.seed)) },
    { name: 'conv1.bias', variable: tf.variable(tf.zeros([c])) },
    { name: 'conv2.kernel', variable: tf.variable(tf.randomNormal([3, 3, c, 1], 0, 0.5, 'float32', init.seed + 1)) },
  ];
  const [k1, b1, k2] = params.map((p) => p.variable) as [tf.Variable<tf.Rank.R4>, tf.Variable<tf.Rank.R1>, tf.Variable<tf.Rank.R4>];
  return {
    parameters: () => params,
    // Work other than a step (callWorkers): the first conv's output, on the host.
    predict(batch) {
      if (batch.fail) throw new Error(batch.fail);
      return tf.tidy(() => tf.conv2d(tf.tensor4d(batch.x, batch.shape), k1, 1, 'same').dataSync() as Float32Array);
    },
    lossAndGrads(batch) {
      if (batch.fail) throw new Error(batch.fail);
      return tf.tidy(() => {
        const x = tf.tensor4d(batch.x, batch.shape);
        const y = tf.tensor4d(batch.y, batch.shape);
        const { value, grads } = tf.variableGrads(() => {
          const h = tf.relu(tf.add(tf.conv2d(x, k1, 1, 'same'), b1));
          return tf.mean(tf.square(tf.sub(tf.conv2d(h as tf.Tensor4D, k2, 2, 'same'), tf.avgPool(y as tf.Tensor4D, 2, 2, 'same')))) as tf.Scalar;
        }, params.map((p) => p.variable));
        const named: Record<string, tf.Tensor> = {};
        params.forEach((p) => { named[p.name] = tf.keep(grads[p.variable.name]!); });
        return { loss: value.dataSync()[0]!, grads: named };
      });
    },
  };
}
