import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { fromDiffusers, toDiffusers } from '@tfjs-diffusion/models';

// A diffusers UNet2DConditionModel folder (here the repository's test checkpoint, made by diffusers).
const dir = '../shared/fixtures/diffusers-unet2dcondition-tiny';
const unet = fromDiffusers(readFileSync(`${dir}/config.json`, 'utf8'), readFileSync(`${dir}/diffusion_pytorch_model.safetensors`));
console.log(unet.numParameters(), unet.config.crossAttentionDim); // 792387 32

const x = tf.randomNormal([2, 16, 16, 3]) as tf.Tensor4D; // NHWC
const t = tf.tensor1d([10, 500]);
const encoderHiddenStates = tf.randomNormal([2, 7, 32]) as tf.Tensor3D; // [batch, tokens, crossAttentionDim]: a text encoder's states
const eps = unet.predict(x, t, { encoderHiddenStates });
console.log(eps.shape); // [ 2, 16, 16, 3 ]

const { config, weights } = toDiffusers(unet); // config.json and diffusion_pytorch_model.safetensors again
console.log(config._class_name, weights.byteLength); // UNet2DConditionModel 3192...
tf.dispose([x, t, encoderHiddenStates, eps]);
unet.dispose();
