import { loadFashionMnist as fashion, loadMnist as mnist } from '@tfjs-diffusion/data/node';
import { classifierDataset } from '@tfjs-diffusion/evaluation';

/** The 10,000 MNIST digits of the data package, split per class into train and test. */
export function loadMnist(options: { trainFraction?: number; seed?: number } = {}) {
  return classifierDataset(mnist(), options);
}

/** Fashion-MNIST (the first `perClass` of each class), split like `loadMnist`. */
export function loadFashionMnist(options: { perClass?: number; trainFraction?: number; seed?: number } = {}) {
  const { perClass = 250, ...rest } = options;
  return classifierDataset(fashion({ perClass }), rest);
}
