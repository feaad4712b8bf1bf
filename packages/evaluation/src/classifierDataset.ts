import { split, type ImageDataset } from '@tfjs-diffusion/data';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import type { LabeledSet } from './classifier.js';

/** One labeled part of a `ClassifierDataset`: a `LabeledSet` in host memory. */
export interface LabeledHostSet extends LabeledSet {
  images: { data: Float32Array; shape: [number, number, number, number] };
  labels: Int32Array;
}

export interface ClassifierDatasetOptions {
  /** Fraction of each class that goes to `train`, in (0, 1); default 0.8. */
  trainFraction?: number;
  /** Seed of the split; same seed, same split. Default 0. */
  seed?: number;
}

const CLASSIFIER_DATASET_KEYS = optionKeys<ClassifierDatasetOptions>()(['trainFraction', 'seed']);

/**
 * A labeled dataset of the data package split per class into the train and
 * test sets `trainClassifier` takes (the data package's seeded, stratified `split`).
 */
export function classifierDataset(ds: ImageDataset, options: ClassifierDatasetOptions = {}): { train: LabeledHostSet; test: LabeledHostSet } {
  checkOptions('classifierDataset', options, CLASSIFIER_DATASET_KEYS);
  const trainFraction = options.trainFraction ?? 0.8;
  if (!(trainFraction > 0 && trainFraction < 1)) {
    throw new RangeError(`classifierDataset: options.trainFraction must be a number in (0, 1); got ${trainFraction}`);
  }
  if (!ds.labels) throw new Error('classifierDataset: the dataset has no labels; a classifier dataset needs one class label per image');
  const { train, validation } = split(ds, { validation: 1 - trainFraction, seed: options.seed ?? 0 });
  const part = (p: ImageDataset): LabeledHostSet => ({ images: { data: p.images, shape: p.shape }, labels: p.labels! });
  return { train: part(train), test: part(validation) };
}
