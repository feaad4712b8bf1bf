import { augment, batchSource as dataBatchSource, randomCrop, split, take, type ImageDataset } from '@tfjs-diffusion/data';
import { loadFashionMnist, loadMnist } from '@tfjs-diffusion/data/node';
import type { DatasetName } from './presets.js';

export interface HostImages {
  /** [n, height, width, channels] in [-1, 1]. */
  data: Float32Array;
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  classNames: string[];
}

const cache = new Map<DatasetName, ImageDataset>();

function load(name: DatasetName): ImageDataset {
  let ds = cache.get(name);
  if (!ds) {
    ds = name === 'mnist' ? loadMnist() : loadFashionMnist();
    cache.set(name, ds);
  }
  return ds;
}

const host = (ds: ImageDataset): HostImages => ({
  data: ds.images, labels: ds.labels!, n: ds.shape[0], height: ds.shape[1], width: ds.shape[2], channels: ds.shape[3],
  numClasses: ds.classNames!.length, classNames: ds.classNames!,
});

/**
 * A stratified, seeded train/validation split of a dataset from the data package;
 * `trainSize` 0 keeps every remaining image, otherwise the first `trainSize` of the shuffled rest.
 */
export async function loadDataset(name: DatasetName, opts: { trainSize: number; valSize: number; seed: number }): Promise<{ train: HostImages; val: HostImages }> {
  const { train, validation } = split(load(name), { validation: opts.valSize, seed: opts.seed + 7919 });
  const kept = opts.trainSize > 0 && opts.trainSize < train.shape[0] ? take(train, Array.from({ length: opts.trainSize }, (_, i) => i)) : train;
  return { train: host(kept), val: host(validation) };
}

export interface ImageShape { height: number; width: number; channels: number }

export const shapeText = (s: ImageShape): string => `${s.height}×${s.width}×${s.channels}`;

/** The model's images and the dataset's must have one shape: training, fine-tuning and eval compare them pixel by pixel. */
export function checkDatasetShape(model: ImageShape, data: ImageShape, dataset: string, what: string): void {
  if (model.height !== data.height || model.width !== data.width || model.channels !== data.channels) {
    throw new Error(`${what}: the model takes ${shapeText(model)} images; --dataset ${dataset} gives ${shapeText(data)} images (use a dataset of the model's shape)`);
  }
}

/** Shuffled, resumable batches for the trainer, each image shifted by up to `shift` pixels. */
export function batchSource(set: HostImages, opts: { batchSize: number; seed: number; shift: number; labels: boolean }) {
  const ds: ImageDataset = { images: set.data, shape: [set.n, set.height, set.width, set.channels], labels: set.labels };
  return dataBatchSource(ds, {
    batchSize: opts.batchSize,
    seed: opts.seed,
    labels: opts.labels,
    augment: opts.shift > 0 ? augment([randomCrop({ padding: opts.shift })]) : undefined,
  });
}
