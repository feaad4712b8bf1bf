import * as tf from '@tensorflow/tfjs';
import { checkOptions, createRng, optionKeys, type Rng } from '@tfjs-diffusion/schedules';
import type { Augmenter } from './batches.js';

/** One augmentation: draws its per-image parameters from `rng`, then transforms the batch with tensor ops. */
export interface Augmentation {
  name: string;
  apply(images: tf.Tensor4D, rng: Rng): tf.Tensor4D;
}

export function checkP(p: number | undefined, name: string, dflt: number): number {
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
