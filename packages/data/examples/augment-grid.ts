// Writes examples/augment-grid.png: 8 MNIST digits in the first row, augmented versions of them below.
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { augment, colorJitter, randomCrop, randomRotation, subset } from '@tfjs-diffusion/data';
import { loadMnist } from '@tfjs-diffusion/data/node';
import { imageGridPng, writePng } from '@tfjs-diffusion/viz/node';

await initBackend({ prefer: 'wasm' });
const digits = subset(loadMnist(), 8, { balanced: true, seed: 0 });
const aug = augment([randomCrop({ padding: 2 }), randomRotation({ degrees: 15 }), colorJitter({ brightness: 0.3, contrast: 0.3 })]);
const x = tf.tensor4d(digits.images, digits.shape);
const rows = [x, ...[1, 2, 3, 4].map((seed) => aug(x, seed))];
const pixels = tf.concat(rows, 0).dataSync() as Float32Array;
const out = fileURLToPath(new URL('augment-grid.png', import.meta.url));
await writePng(out, imageGridPng(pixels, { n: 40, height: 28, width: 28, channels: 1, cols: 8, scale: 2, rowLabels: ['original', 'seed 1', 'seed 2', 'seed 3', 'seed 4'] }));
console.log(`wrote ${out}`);
