import * as tf from '@tensorflow/tfjs';

// A small network with every op kind of the diffusion U-Net's training step:
// 3×3 convs (stride 1 and 2), 1×1 convs, group-norm moments, SiLU,
// single-head attention, nearest upsampling, a skip concat, a
// class-embedding gather, sinusoidal time features and MSE.
export const smallUnetShapes: Record<string, number[]> = {
  conv1: [3, 3, 2, 4], time: [4, 4], down: [3, 3, 4, 6], qkv: [1, 1, 6, 18], up: [3, 3, 6, 4], skip: [1, 1, 8, 4], out: [3, 3, 4, 2], emb: [3, 4],
};

export function smallUnetLoss(p: Record<string, tf.Tensor>, x: tf.Tensor4D, t: tf.Tensor1D, labels: tf.Tensor1D, target: tf.Tensor4D): tf.Scalar {
  const silu = (v: tf.Tensor) => tf.mul(v, tf.sigmoid(v));
  const groupNorm = (v: tf.Tensor4D, groups: number) => {
    const [b, h, w, c] = v.shape;
    const g = tf.reshape(v, [b, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    return tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [b, h, w, c]) as tf.Tensor4D;
  };
  const freqs = tf.tensor1d([1, 0.1]);
  const tFeat = tf.concat([tf.sin(tf.outerProduct(t, freqs)), tf.cos(tf.outerProduct(t, freqs))], 1);
  const cond = tf.add(tf.matMul(tFeat, p.time as tf.Tensor2D), tf.gather(p.emb!, labels));
  const h1 = tf.add(tf.conv2d(x, p.conv1 as tf.Tensor4D, 1, 'same'), tf.reshape(cond, [-1, 1, 1, 4])) as tf.Tensor4D;
  const h2 = tf.conv2d(silu(groupNorm(h1, 2)) as tf.Tensor4D, p.down as tf.Tensor4D, 2, 'same');
  const [b, hh, ww, c] = h2.shape;
  const [q, k, v] = tf.split(tf.reshape(tf.conv2d(h2, p.qkv as tf.Tensor4D, 1, 'valid'), [b, hh * ww, 3 * c]), 3, 2);
  const att = tf.softmax(tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(c)));
  const h3 = tf.add(h2, tf.reshape(tf.matMul(att, v!), [b, hh, ww, c])) as tf.Tensor4D;
  const up = tf.image.resizeNearestNeighbor(h3, [hh * 2, ww * 2]);
  const h4 = tf.conv2d(up, p.up as tf.Tensor4D, 1, 'same');
  const h5 = tf.conv2d(tf.concat([h4, h1], 3) as tf.Tensor4D, p.skip as tf.Tensor4D, 1, 'valid');
  const out = tf.conv2d(silu(groupNorm(h5, 2)) as tf.Tensor4D, p.out as tf.Tensor4D, 1, 'same');
  return tf.mean(tf.square(tf.sub(out, target)));
}
