import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { trainClassifier } from '../src/classifier.js';
import { loadMnist } from '../src/testing/mnist.js';
console.log(await initBackend({ prefer: 'wasm' }));
const ds = loadMnist();
for (const epochs of [5]) {
  const t1 = Date.now();
  const clf = await trainClassifier(ds, { epochs, onEpoch: (e, l) => console.log(e, l.toFixed(4), Date.now() - t1) });
  console.log('epochs', epochs, 'acc', clf.testAccuracy, 'ms', Date.now() - t1);
  clf.dispose();
}
