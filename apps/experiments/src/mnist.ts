import { split, type ImageDataset } from '@tfjs-diffusion/data';
import { loadFashionMnist as fashion, loadMnist as mnist } from '@tfjs-diffusion/data/node';

export interface LoadedSplit {
  images: { data: Float32Array; shape: [number, number, number, number] };
  labels: Int32Array;
}

const asSplit = (ds: ImageDataset): LoadedSplit => ({ images: { data: ds.images, shape: ds.shape }, labels: ds.labels! });

function trainTest(ds: ImageDataset, trainFraction: number, seed: number): { train: LoadedSplit; test: LoadedSplit } {
  const { train, validation } = split(ds, { validation: 1 - trainFraction, seed });
  return { train: asSplit(train), test: asSplit(validation) };
}

/** The 10,000 MNIST digits of the data package, split per class into train and test. */
export function loadMnist(options: { trainFraction?: number; seed?: number } = {}) {
  return trainTest(mnist(), options.trainFraction ?? 0.8, options.seed ?? 0);
}

/** Fashion-MNIST (the first `perClass` of each class), split like `loadMnist`. */
export function loadFashionMnist(options: { perClass?: number; trainFraction?: number; seed?: number } = {}) {
  return trainTest(fashion({ perClass: options.perClass ?? 250 }), options.trainFraction ?? 0.8, options.seed ?? 0);
}
