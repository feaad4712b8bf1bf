import * as tf from '@tensorflow/tfjs';
import { checkOptions, createRng, optionKeys, type Rng } from '@tfjs-diffusion/schedules';
import type { Augmenter } from './batches.js';

/** One augmentation: draws its per-image parameters from `rng`, then transforms the batch with tensor ops. */
export interface Augmentation {
  name: string;
  apply(images: tf.Tensor4D, rng: Rng): tf.Tensor4D;
}

function checkP(p: number | undefined, name: string, dflt: number): number {
  const v = p ?? dflt;
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name}: p must be in [0, 1]; got ${p}`);
  return v;
}

/** Composes augmentations into one seeded function of a batch (values clipped to [-1, 1] at the end). */
export function augment(ops: Augmentation[]): Augmenter {
  return (images, seed) =>
    tf.tidy(() => {
      const rng = createRng(seed);
      let x = images;
      for (const op of ops) x = op.apply(x, rng);
      return tf.clipByValue(x, -1, 1);
    });
}

const RANDOM_CROP_KEYS = optionKeys<NonNullable<Parameters<typeof randomCrop>[0]>>()(['padding', 'fill', 'p']);

/** Pads by `padding` pixels (with `fill`, default -1: black) and crops back at a random offset per image. */
export function randomCrop(opts: { padding: number; fill?: number; p?: number }): Augmentation {
  checkOptions('randomCrop', opts, RANDOM_CROP_KEYS);
  const pad = opts.padding;
  if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`randomCrop: padding must be a non-negative integer; got ${pad}`);
  const p = checkP(opts.p, 'randomCrop', 1);
  return {
    name: 'randomCrop',
    apply(x, rng) {
      const [b, h, w] = x.shape;
      const offsets = Array.from({ length: b }, () => (rng.next() < p ? [rng.nextInt(2 * pad + 1), rng.nextInt(2 * pad + 1)] : [pad, pad]));
      if (pad === 0) return x;
      return tf.tidy(() => {
        const padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], opts.fill ?? -1);
        const crops = offsets.map(([oy, ox], i) => tf.slice(padded, [i, oy!, ox!, 0], [1, h, w, -1]));
        return tf.concat(crops, 0);
      });
    },
  };
}

const RANDOM_FLIP_KEYS = optionKeys<NonNullable<Parameters<typeof randomFlip>[0]>>()(['horizontal', 'vertical', 'p']);

/** Mirrors images with probability p: horizontally by default (off for digits: it changes their meaning). */
export function randomFlip(opts: { horizontal?: boolean; vertical?: boolean; p?: number } = {}): Augmentation {
  checkOptions('randomFlip', opts, RANDOM_FLIP_KEYS);
  const horizontal = opts.horizontal ?? true;
  const vertical = opts.vertical ?? false;
  const p = checkP(opts.p, 'randomFlip', 0.5);
  return {
    name: 'randomFlip',
    apply(x, rng) {
      const b = x.shape[0];
      const pick = (on: boolean) => Array.from({ length: b }, () => (on && rng.next() < p ? 1 : 0));
      const h = pick(horizontal);
      const v = pick(vertical);
      return tf.tidy(() => {
        let y = x;
        const sel = (mask: number[], flipped: tf.Tensor4D) =>
          tf.where(tf.reshape(tf.tensor1d(mask, 'bool'), [b, 1, 1, 1]), flipped, y) as tf.Tensor4D;
        if (h.some(Boolean)) y = sel(h, tf.reverse(y, 2));
        if (v.some(Boolean)) y = sel(v, tf.reverse(y, 1));
        return y;
      });
    },
  };
}

const RANDOM_ROTATION_KEYS = optionKeys<NonNullable<Parameters<typeof randomRotation>[0]>>()([
  'degrees', 'p', 'fill', 'interpolation',
]);

/**
 * Rotates each image about its centre by an angle drawn from [-degrees, degrees]
 * (counter-clockwise as displayed), filling with `fill` (default -1).
 */
export function randomRotation(opts: { degrees: number; p?: number; fill?: number; interpolation?: 'bilinear' | 'nearest' }): Augmentation {
  checkOptions('randomRotation', opts, RANDOM_ROTATION_KEYS);
  if (!(opts.degrees >= 0 && opts.degrees <= 180)) throw new RangeError(`randomRotation: degrees must be in [0, 180]; got ${opts.degrees}`);
  const p = checkP(opts.p, 'randomRotation', 1);
  return {
    name: 'randomRotation',
    apply(x, rng) {
      const [b, h, w] = x.shape;
      const angles = Array.from({ length: b }, () => (rng.next() < p ? (2 * rng.next() - 1) * opts.degrees : 0));
      return rotate(x, angles, opts.fill ?? -1, opts.interpolation ?? 'bilinear', h, w);
    },
  };
}

/** Rotates image i by angles[i] degrees about its centre (tf.image.transform maps output to input pixels). */
export function rotate(x: tf.Tensor4D, angles: number[], fill = -1, interpolation: 'bilinear' | 'nearest' = 'bilinear', h = x.shape[1], w = x.shape[2]): tf.Tensor4D {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const rows = angles.map((deg) => {
    const t = (deg * Math.PI) / 180;
    const c = Math.cos(t);
    const s = Math.sin(t);
    // input = R(θ)·(output − centre) + centre, with y pointing down
    return [c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy, 0, 0];
  });
  // One image at a time: the cpu backend's Transform ignores every transform but the first for batch > 1 (measured, tfjs 4.22).
  return tf.tidy(() =>
    tf.concat(
      rows.map((r, i) => tf.image.transform(tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]), tf.tensor2d(r, [1, 8]), interpolation, 'constant', fill)),
      0,
    ),
  );
}

type Range = number | [number, number];

function factorRange(v: Range | undefined, name: string, centre: number, max = Infinity): [number, number] | undefined {
  if (v === undefined || v === 0) return undefined;
  const [lo, hi] = typeof v === 'number' ? [Math.max(0, centre - v), centre + v] : v;
  if (!(lo >= 0 && hi >= lo && hi <= max)) throw new RangeError(`colorJitter: ${name} must be a non-negative number or a [min, max] factor range; got ${JSON.stringify(v)}`);
  return [lo, hi];
}

const COLOR_JITTER_KEYS = optionKeys<NonNullable<Parameters<typeof colorJitter>[0]>>()([
  'brightness', 'contrast', 'saturation', 'hue', 'p',
]);

/**
 * torchvision's ColorJitter on images in [-1, 1]: brightness scales, contrast
 * blends with the image's mean gray, saturation blends with its grayscale,
 * hue rotates chroma (in YIQ space) by up to ±hue·360°. Numbers give factors
 * in [max(0, 1 − v), 1 + v] (hue: shifts in [−v, v], v ≤ 0.5); pairs give the
 * range. Grayscale images take brightness and contrast only.
 */
export function colorJitter(opts: { brightness?: Range; contrast?: Range; saturation?: Range; hue?: number; p?: number }): Augmentation {
  checkOptions('colorJitter', opts, COLOR_JITTER_KEYS);
  const brightness = factorRange(opts.brightness, 'brightness', 1);
  const contrast = factorRange(opts.contrast, 'contrast', 1);
  const saturation = factorRange(opts.saturation, 'saturation', 1);
  const hue = opts.hue ?? 0;
  if (!(hue >= 0 && hue <= 0.5)) throw new RangeError(`colorJitter: hue must be in [0, 0.5]; got ${hue}`);
  const p = checkP(opts.p, 'colorJitter', 1);
  return {
    name: 'colorJitter',
    apply(x, rng) {
      const [b, , , c] = x.shape;
      if (!brightness && !contrast && !saturation && !hue) return x;
      if (c === 1 && (saturation || hue)) {
        throw new Error('colorJitter: saturation and hue need 3-channel (RGB) images; this batch has 1 channel (use brightness and contrast only)');
      }
      if (c !== 1 && c !== 3) throw new Error(`colorJitter: images must have 1 or 3 channels; got ${c}`);
      const on = Array.from({ length: b }, () => rng.next() < p);
      const draw = (r: [number, number] | undefined, neutral: number) =>
        Array.from({ length: b }, (_, i) => (r && on[i] ? r[0] + (r[1] - r[0]) * rng.next() : neutral));
      const fb = draw(brightness, 1);
      const fc = draw(contrast, 1);
      const fs = draw(saturation, 1);
      const fh = draw(hue ? [-hue, hue] : undefined, 0);
      return tf.tidy(() => {
        const per = (v: number[]) => tf.tensor4d(v, [b, 1, 1, 1]);
        const gray = (z: tf.Tensor4D) =>
          c === 1 ? z : (tf.sum(tf.mul(z, tf.tensor1d([0.299, 0.587, 0.114])), 3, true) as tf.Tensor4D);
        let z = tf.div(tf.add(x, 1), 2) as tf.Tensor4D; // [0, 1], as torchvision
        if (brightness) z = tf.clipByValue(tf.mul(z, per(fb)), 0, 1) as tf.Tensor4D;
        if (contrast) {
          const mean = tf.mean(gray(z), [1, 2, 3], true);
          z = tf.clipByValue(tf.add(tf.mul(z, per(fc)), tf.mul(mean, tf.sub(1, per(fc)))), 0, 1) as tf.Tensor4D;
        }
        if (saturation) z = tf.clipByValue(tf.add(tf.mul(z, per(fs)), tf.mul(gray(z), tf.sub(1, per(fs)))), 0, 1) as tf.Tensor4D;
        if (hue) z = tf.clipByValue(hueRotate(z, fh), 0, 1) as tf.Tensor4D;
        return tf.sub(tf.mul(z, 2), 1) as tf.Tensor4D;
      });
    },
  };
}

// RGB → YIQ, rotate (I, Q) by 2π·shift, back: a hue shift that keeps luma.
function hueRotate(z: tf.Tensor4D, shifts: number[]): tf.Tensor4D {
  const toYiq = [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]];
  const toRgb = [[1, 0.956, 0.621], [1, -0.272, -0.647], [1, -1.106, 1.703]];
  const mats = shifts.map((s) => {
    const c = Math.cos(2 * Math.PI * s);
    const n = Math.sin(2 * Math.PI * s);
    const rot = [[1, 0, 0], [0, c, -n], [0, n, c]];
    const m = mul3(toRgb, mul3(rot, toYiq));
    return [0, 1, 2].map((j) => [0, 1, 2].map((i) => m[i]![j]!)); // transposed: pixels are row vectors
  });
  const [b, h, w] = z.shape;
  const out = tf.matMul(tf.reshape(z, [b, h * w, 3]), tf.tensor3d(mats.flat(2), [b, 3, 3]));
  return tf.reshape(out, [b, h, w, 3]);
}

function mul3(a: number[][], b: number[][]): number[][] {
  return a.map((row) => [0, 1, 2].map((j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}
