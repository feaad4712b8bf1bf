import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';

const info = await initBackend(); // prints e.g. "@tfjs-diffusion/backend: using 'wasm' + training kernels (...), SIMD, own kernels with relaxed SIMD, 1 thread; skipped ..."

// A tiny convolutional denoiser trained for a few steps: the gradients of
// conv2d (filter and input) and of gather run on the wasm training kernels.
const kernel = tf.variable(tf.randomNormal([3, 3, 1, 8], 0, 0.3, 'float32', 1));
const down = tf.variable(tf.randomNormal([3, 3, 8, 8], 0, 0.1, 'float32', 2));
const out = tf.variable(tf.randomNormal([3, 3, 8, 1], 0, 0.1, 'float32', 3));
const classEmb = tf.variable(tf.zeros([11, 8]));
const optimizer = tf.train.adam(1e-2);

const x0 = tf.randomUniform([16, 12, 12, 1], -1, 1, 'float32', 4);
const labels = tf.tensor1d([...Array(16).keys()].map((i) => i % 10), 'int32');
for (let step = 0; step < 5; step++) {
  const loss = optimizer.minimize(() => {
    const noise = tf.randomNormal(x0.shape, 0, 1, 'float32', 100 + step);
    const xt = tf.add(tf.mul(x0, 0.8), tf.mul(noise, 0.6));
    let h = tf.conv2d(xt as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same');
    h = tf.add(h, tf.reshape(tf.gather(classEmb, labels), [16, 1, 1, 8]));
    h = tf.conv2d(tf.relu(h) as tf.Tensor4D, down as tf.Tensor4D, 2, 'same');
    h = tf.image.resizeNearestNeighbor(h as tf.Tensor4D, [12, 12]);
    const eps = tf.conv2d(h as tf.Tensor4D, out as tf.Tensor4D, 1, 'same');
    return tf.losses.meanSquaredError(noise, eps) as tf.Scalar;
  }, true)!;
  console.log(`${info.name} step ${step}: loss ${loss.dataSync()[0]!.toFixed(4)}`);
  loss.dispose();
}
