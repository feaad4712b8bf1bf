import * as tf from '@tensorflow/tfjs';
import { checkOptions, createRng, optionKeys } from '@tfjs-diffusion/schedules';
import { checkDataset, mixSeed, take, type ImageDataset } from './dataset.js';

export interface BatchOptions {
  batchSize: number;
  seed?: number;
  /** Reshuffle every epoch. Default true. */
  shuffle?: boolean;
  /** Skip a last batch smaller than batchSize. Default true (every batch has batchSize examples). */
  dropLast?: boolean;
}

const BATCH_KEYS = optionKeys<BatchOptions>()(['batchSize', 'seed', 'shuffle', 'dropLast']);

export interface HostBatch {
  images: Float32Array;
  shape: [number, number, number, number];
  labels?: Int32Array;
  captions?: string[];
  /** Dataset indices of the examples. */
  indices: Int32Array;
  epoch: number;
}

/** Where an iterator stands: JSON, for checkpoints. */
export interface BatchState {
  epoch: number;
  position: number;
}

export interface BatchIterator {
  next(): HostBatch;
  readonly epoch: number;
  readonly position: number;
  readonly batchesPerEpoch: number;
  getState(): BatchState;
  setState(state: unknown): void;
}

/**
 * Endless shuffled minibatches. Epoch e's order is a permutation drawn from
 * (seed, e) alone, so a saved `{ epoch, position }` resumes exactly.
 */
export function batches(ds: ImageDataset, opts: BatchOptions): BatchIterator {
  checkOptions('batches', opts, BATCH_KEYS);
  checkDataset(ds, 'batches');
  const n = ds.shape[0];
  const { batchSize } = opts;
  const dropLast = opts.dropLast ?? true;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batches: batchSize must be a positive integer; got ${batchSize}`);
  if (n === 0) throw new Error('batches: the dataset is empty');
  if (dropLast && batchSize > n) throw new RangeError(`batches: batchSize ${batchSize} is larger than the dataset (${n} examples); lower it or pass dropLast: false`);
  const seed = opts.seed ?? 0;
  const shuffle = opts.shuffle ?? true;
  const perEpoch = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  let epoch = 0;
  let position = 0;
  let order: Int32Array | undefined;
  const orderOf = (e: number) => {
    const o = Int32Array.from({ length: n }, (_, i) => i);
    if (!shuffle) return o;
    const rng = createRng(mixSeed(seed, e));
    for (let i = n - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      const t = o[i]!;
      o[i] = o[j]!;
      o[j] = t;
    }
    return o;
  };
  return {
    get epoch() { return epoch; },
    get position() { return position; },
    batchesPerEpoch: perEpoch,
    next(): HostBatch {
      if (position >= perEpoch) {
        epoch += 1;
        position = 0;
        order = undefined;
      }
      order ??= orderOf(epoch);
      const start = position * batchSize;
      const idx = order.subarray(start, Math.min(n, start + batchSize));
      position += 1;
      const b = take(ds, idx);
      return { images: b.images, shape: b.shape, labels: b.labels, ...(b.captions ? { captions: b.captions } : {}), indices: Int32Array.from(idx), epoch };
    },
    getState: () => ({ epoch, position }),
    setState(s: unknown) {
      const st = s as BatchState;
      if (!st || !Number.isInteger(st.epoch) || !Number.isInteger(st.position) || st.epoch < 0 || st.position < 0 || st.position > perEpoch) {
        throw new Error(`batches.setState: expected { epoch, position } with 0 ≤ position ≤ ${perEpoch}; got ${JSON.stringify(s)}`);
      }
      epoch = st.epoch;
      position = st.position;
      order = undefined;
    },
  };
}

/** An augmentation as `augment()` returns it. */
export type Augmenter = (images: tf.Tensor4D, seed: number) => tf.Tensor4D;

export interface BatchSourceOptions extends BatchOptions {
  /** Applied to each batch's images, seeded by (seed, epoch, position). */
  augment?: Augmenter;
  /** Whether batches carry labels. Default: when the dataset has them. */
  labels?: boolean;
}

const BATCH_SOURCE_KEYS = optionKeys<BatchSourceOptions>()([...BATCH_KEYS, 'augment', 'labels']);

/**
 * Batches as tensors, in the shape the training package's `BatchSource`
 * takes (`next()` → `{ images, labels }`, `getState`/`setState`). Each
 * batch's augmentation seed comes from (seed, epoch, position), so a resumed
 * run sees the same augmented batches.
 */
export function batchSource(ds: ImageDataset, opts: BatchSourceOptions) {
  checkOptions('batchSource', opts, BATCH_SOURCE_KEYS);
  const it = batches(ds, { batchSize: opts.batchSize, seed: opts.seed, shuffle: opts.shuffle, dropLast: opts.dropLast });
  const seed = opts.seed ?? 0;
  const withLabels = opts.labels ?? ds.labels !== undefined;
  return {
    iterator: it,
    next(): { images: tf.Tensor4D; labels?: Int32Array; captions?: string[] } {
      const augSeed = mixSeed(seed, it.epoch, it.position, 0x5eed);
      const b = it.next();
      const images = tf.tidy(() => {
        const x = tf.tensor4d(b.images, b.shape, 'float32');
        return opts.augment ? opts.augment(x, augSeed) : x;
      });
      return { images, labels: withLabels ? b.labels : undefined, ...(b.captions ? { captions: b.captions } : {}) };
    },
    getState: () => it.getState(),
    setState: (s: unknown) => it.setState(s),
  };
}
