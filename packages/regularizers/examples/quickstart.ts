import * as tf from '@tensorflow/tfjs';
import { clipByGlobalNorm, createAdamW, createEma, minSnrWeights } from '@tfjs-diffusion/regularizers';

// Fit y = 3x with AdamW, clipping and an EMA of the weight.
const params = [
  { name: 'w.kernel', variable: tf.variable(tf.scalar(0)) },
  { name: 'w.bias', variable: tf.variable(tf.scalar(0)) },
];
const opt = createAdamW(params, { learningRate: 0.05, weightDecay: 0.01, noDecay: ['*.bias'] });
const ema = createEma(params, { decay: 0.99 });
const x = tf.tensor1d([-1, 0, 1, 2]);
const y = tf.tensor1d([-3, 0, 3, 6]);
for (let step = 1; step <= 300; step++) {
  const { value, grads } = tf.variableGrads(() =>
    tf.mean(tf.square(tf.sub(tf.add(tf.mul(params[0].variable, x), params[1].variable), y))) as tf.Scalar,
  );
  const named = { 'w.kernel': grads[params[0].variable.name], 'w.bias': grads[params[1].variable.name] };
  const clipped = clipByGlobalNorm(named, 1.0);
  opt.apply(clipped.grads);
  ema.update(step);
  tf.dispose([value, grads, clipped.grads]);
}
console.log('w =', params[0].variable.dataSync()[0].toFixed(3), 'EMA w =', ema.shadow.get('w.kernel')!.dataSync()[0].toFixed(3));
// min-SNR-γ weights for three timesteps of a 3-step schedule
console.log('min-SNR weights', Array.from(minSnrWeights({ numTrainTimesteps: 3, alphasCumprod: [0.99, 0.5, 0.01] }, [0, 1, 2], { gamma: 5, prediction: 'epsilon' })));
