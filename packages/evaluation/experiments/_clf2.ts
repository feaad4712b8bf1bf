import { initBackend } from '@tfjs-diffusion/backend';
import { trainClassifier } from '../src/classifier.js';
import { loadMnist } from '../src/testing/mnist.js';
await initBackend({ prefer: 'wasm', quiet: true });
const ds = loadMnist();
const cfg = JSON.parse(process.argv[2]!);
const t1 = Date.now();
const clf = await trainClassifier(ds, { ...cfg, onEpoch: (e, l) => console.log(e, l.toFixed(4), Date.now() - t1) });
console.log(JSON.stringify(cfg), 'acc', clf.testAccuracy, 'ms', Date.now() - t1);
