// Training the evaluation classifier (or loading it from a cache of trained ones).
import * as tf from '@tensorflow/tfjs';
import { loadWeights, modelTensors } from '@tfjs-diffusion/models';
import { checkOptions, createRng, offsetSeed, optionKeys } from '@tfjs-diffusion/schedules';
import { classAccuracy, Classifier, type CachedClassifier, type ClassifierCache, type ClassifierConfig, type ClassifierDataset, type TrainClassifierOptions } from './classifier.js';
import { toHost } from './imageSet.js';
import type { ImageSet } from './types.js';

const TRAIN_KEYS = optionKeys<TrainClassifierOptions>()([
  'epochs', 'seed', 'cache', 'conv', 'downsample', 'hidden', 'batchSize', 'learningRate', 'shift', 'onEpoch',
]);

/**
 * Trains the classifier with Adam and softmax cross-entropy, reports its test
 * accuracy, and keeps it in `cache` (when given) so a run folder trains it once.
 */
export async function trainClassifier(dataset: ClassifierDataset, options: TrainClassifierOptions = {}): Promise<Classifier> {
  checkOptions('trainClassifier', options, TRAIN_KEYS);
  const epochs = options.epochs ?? 8;
  const seed = options.seed ?? 0;
  const batchSize = options.batchSize ?? 64;
  const learningRate = options.learningRate ?? 2e-3;
  const hidden = options.hidden ?? [128];
  const conv = options.conv ?? [32, 64];
  const shift = options.shift ?? 1;
  if (!Number.isInteger(shift) || shift < 0) throw new RangeError(`shift must be an integer >= 0; got ${shift}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be a positive integer; got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer; got ${batchSize}`);
  if (hidden.length < 1 || hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new RangeError(`hidden must be a non-empty list of positive integers; got [${hidden.join(', ')}]`);
  if (conv.some((h) => !Number.isInteger(h) || h < 1)) throw new RangeError(`conv must be a list of positive integers; got [${conv.join(', ')}]`);
  const train = toHost(dataset.train.images, 'dataset.train.images');
  const test = toHost(dataset.test.images, 'dataset.test.images');
  if (train.d !== test.d) throw new Error(`dataset.train and dataset.test images must have the same size; got ${train.d} and ${test.d}`);
  checkLabels(dataset.train.labels, train.n, 'dataset.train.labels');
  checkLabels(dataset.test.labels, test.n, 'dataset.test.labels');
  let numClasses = 0;
  for (let i = 0; i < train.n; i++) numClasses = Math.max(numClasses, dataset.train.labels[i]! + 1);
  const downsample = options.downsample ?? 'stride';
  if (downsample !== 'stride' && downsample !== 'maxpool') throw new Error(`downsample must be one of 'stride', 'maxpool'; got ${JSON.stringify(downsample)}`);
  const config: ClassifierConfig = { inputShape: imageShape(dataset.train.images, conv.length > 0), conv, downsample, hidden, numClasses };
  const key = JSON.stringify({ config, epochs, seed, batchSize, learningRate, shift, nTrain: train.n, nTest: test.n });

  if (options.cache) {
    const cached = await loadCached(options.cache, key, config, seed);
    if (cached) return cached;
  }

  const clf = new Classifier(config, seed);
  const rng = createRng(offsetSeed(seed, 1));
  // learningRate is protected in tfjs' typings but read on every update.
  const optimizer = tf.train.adam(learningRate) as unknown as tf.AdamOptimizer & { learningRate: number };
  const vars = clf.namedWeights().map((w) => w.variable);
  const totalSteps = epochs * Math.ceil(train.n / batchSize);
  let step = 0;
  const labels = Int32Array.from(dataset.train.labels);
  const order = Array.from({ length: train.n }, (_, i) => i);
  const xb = new Float32Array(batchSize * train.d);
  const yb = new Int32Array(batchSize);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let lossSum = 0;
    let batches = 0;
    for (let s = 0; s < train.n; s += batchSize) {
      const b = Math.min(batchSize, train.n - s);
      for (let r = 0; r < b; r++) {
        const idx = order[s + r]!;
        const src = train.data.subarray(idx * train.d, (idx + 1) * train.d);
        if (shift > 0 && config.inputShape[0] > 1) {
          translate(src, xb.subarray(r * train.d, (r + 1) * train.d), config.inputShape, rng.nextInt(2 * shift + 1) - shift, rng.nextInt(2 * shift + 1) - shift);
        } else {
          xb.set(src, r * train.d);
        }
        yb[r] = labels[idx]!;
      }
      // Cosine decay of the learning rate to 0 over the run.
      optimizer.learningRate = 0.5 * learningRate * (1 + Math.cos((Math.PI * step) / totalSteps));
      step++;
      const x = tf.tensor2d(xb.subarray(0, b * train.d), [b, train.d]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(yb.subarray(0, b), 'int32'), numClasses));
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, clf.forward(x).logits) as tf.Scalar, true, vars)!;
      lossSum += loss.dataSync()[0]!;
      tf.dispose([x, y, loss]);
      batches++;
    }
    options.onEpoch?.(epoch, lossSum / batches);
  }
  optimizer.dispose();
  clf.testAccuracy = classAccuracy(clf, dataset.test.images, dataset.test.labels);
  if (options.cache) await options.cache.save(key, { tensors: modelTensors({ parameters: () => clf.namedWeights() }), config: clf.config, testAccuracy: clf.testAccuracy });
  return clf;
}

function translate(src: Float32Array, dst: Float32Array, [h, w, c]: [number, number, number], dy: number, dx: number): void {
  dst.fill(-1);
  for (let y = Math.max(0, dy); y < Math.min(h, h + dy); y++) {
    for (let x = Math.max(0, dx); x < Math.min(w, w + dx); x++) {
      for (let k = 0; k < c; k++) dst[(y * w + x) * c + k] = src[((y - dy) * w + (x - dx)) * c + k]!;
    }
  }
}

function imageShape(images: ImageSet, spatial: boolean): [number, number, number] {
  const s = images.shape;
  if (s.length === 4) return [s[1]!, s[2]!, s[3]!];
  if (spatial) throw new Error(`dataset.train.images must have shape [N, H, W, C] for a conv classifier; got [${s.join(', ')}]`);
  return [1, 1, s.slice(1).reduce((a, b) => a * b, 1)];
}

function checkLabels(labels: ArrayLike<number>, n: number, name: string): void {
  if (labels.length !== n) throw new Error(`${name} must have one label per image (${n}); got ${labels.length}`);
  for (let i = 0; i < n; i++) {
    const v = labels[i]!;
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must hold integers >= 0; got ${v} at ${i}`);
  }
}

async function loadCached(cache: ClassifierCache, key: string, config: ClassifierConfig, seed: number): Promise<Classifier | undefined> {
  let entry: CachedClassifier | undefined;
  try {
    entry = await cache.load(key);
  } catch {
    return undefined;
  }
  if (!entry) return undefined;
  const clf = new Classifier(config, seed);
  try {
    loadWeights({ parameters: () => clf.namedWeights() }, entry.tensors);
  } catch {
    // A stale or damaged cache is retrained, not an error.
    clf.dispose();
    return undefined;
  }
  clf.testAccuracy = entry.testAccuracy;
  return clf;
}
