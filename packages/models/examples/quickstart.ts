import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UNet, unetPreset } from '@tfjs-diffusion/models';
import { loadModel, saveModel } from '@tfjs-diffusion/models/node';

const model = new UNet(unetPreset('mnist-ref'), { seed: 0 });
console.log('parameters:', model.numParameters()); // 1,624,577

// One forward pass: 4 noised digits at t = 500, classes 0..3 (10 = the null class).
const x = tf.randomNormal([4, 28, 28, 1]) as tf.Tensor4D;
const t = tf.fill([4], 500) as tf.Tensor1D;
const cond = { classLabels: tf.tensor1d([0, 1, 2, 3], 'int32') };
const eps = model.predict(x, t, cond);
console.log('output shape:', eps.shape);

// Save (model.safetensors + config.json) and load back.
const dir = join(mkdtempSync(join(tmpdir(), 'unet-')), 'mnist-ref');
await saveModel(model, dir);
const loaded = await loadModel(dir);
const same = tf.max(tf.abs(tf.sub(loaded.predict(x, t, cond), eps))).dataSync()[0];
console.log('saved to', dir, '- max difference after loading:', same);

// Freeze everything but the up path for fine-tuning:
console.log('trainable when fine-tuning:', model.selectParameters('up.*').length, 'of', model.parameters().length, 'tensors');
