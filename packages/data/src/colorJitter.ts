import * as tf from '@tensorflow/tfjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { checkP, type Augmentation } from './augment.js';

type Range = number | [number, number];

function factorRange(v: Range | undefined, name: string, centre: number): [number, number] | undefined {
  if (v === undefined || v === 0) return undefined;
  const [lo, hi] = typeof v === 'number' ? [Math.max(0, centre - v), centre + v] : v;
  if (!(lo >= 0 && hi >= lo)) throw new RangeError(`colorJitter: ${name} must be a non-negative number or a [min, max] factor range; got ${JSON.stringify(v)}`);
  return [lo, hi];
}

function hueRange(v: Range | undefined): [number, number] | undefined {
  if (v === undefined || v === 0) return undefined;
  const [lo, hi] = typeof v === 'number' ? [-v, v] : v;
  if (!(lo >= -0.5 && hi >= lo && hi <= 0.5)) throw new RangeError(`colorJitter: hue must be a number in [0, 0.5] or a [min, max] range within [-0.5, 0.5]; got ${JSON.stringify(v)}`);
  return [lo, hi];
}

const COLOR_JITTER_KEYS = optionKeys<NonNullable<Parameters<typeof colorJitter>[0]>>()([
  'brightness', 'contrast', 'saturation', 'hue', 'p',
]);

type Op = 'brightness' | 'contrast' | 'saturation' | 'hue';

/**
 * torchvision's ColorJitter (its tensor `adjust_*` functions) on images in
 * [-1, 1] with 1 to 4 channels: brightness scales, contrast blends with the
 * mean grey, saturation blends with the grey image, hue shifts H in HSV; each
 * image takes its own factors and its own random order of the four, as
 * torchvision draws them per call. Numbers give factors in [max(0, 1 − v), 1 + v]
 * (hue: shifts in [−v, v], v ≤ 0.5); pairs give the range. 3 channels are RGB,
 * 4 RGB + alpha, 2 grey + alpha, 1 grey: alpha is left alone, and grey takes
 * brightness and contrast only (saturation or hue on grey is refused, where
 * torchvision would silently do nothing).
 */
export function colorJitter(opts: { brightness?: Range; contrast?: Range; saturation?: Range; hue?: Range; p?: number }): Augmentation {
  checkOptions('colorJitter', opts, COLOR_JITTER_KEYS);
  const ranges: Record<Op, [number, number] | undefined> = {
    brightness: factorRange(opts.brightness, 'brightness', 1),
    contrast: factorRange(opts.contrast, 'contrast', 1),
    saturation: factorRange(opts.saturation, 'saturation', 1),
    hue: hueRange(opts.hue),
  };
  const ops = (Object.keys(ranges) as Op[]).filter((k) => ranges[k]);
  const p = checkP(opts.p, 'colorJitter', 1);
  return {
    name: 'colorJitter',
    apply(x, rng) {
      const [b, , , c] = x.shape;
      if (!(c >= 1 && c <= 4)) throw new Error(`colorJitter: images must have 1 to 4 channels (grey, grey + alpha, RGB, RGBA); got ${c}`);
      if (!ops.length) return x;
      const colour = c >= 3 ? 3 : 1;
      if (colour === 1 && (ranges.saturation || ranges.hue)) {
        throw new Error(`colorJitter: saturation and hue need RGB images (3 or 4 channels); this batch has ${c} (use brightness and contrast only)`);
      }
      // Per image: applied or not, the order of the ops, then their factors (neutral where not applied).
      const on = Array.from({ length: b }, () => rng.next() < p);
      const order = on.map((a) => (a ? shuffled(ops, rng) : [])); // an image left alone goes through no op: exactly itself
      const factor: Record<Op, number[]> = { brightness: [], contrast: [], saturation: [], hue: [] };
      for (const op of Object.keys(factor) as Op[]) {
        const r = ranges[op];
        factor[op] = on.map((a) => (r && a ? r[0] + (r[1] - r[0]) * rng.next() : op === 'hue' ? 0 : 1));
      }
      return tf.tidy(() => {
        let z = tf.div(tf.add(colour === c ? x : tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, colour]), 1), 2) as tf.Tensor4D; // [0, 1], as torchvision
        for (let k = 0; k < ops.length; k++) {
          for (const op of ops) {
            const here = order.map((o) => o[k] === op);
            if (!here.some(Boolean)) continue;
            const y = ADJUST[op](z, tf.tensor4d(factor[op], [b, 1, 1, 1]));
            z = here.every(Boolean) ? y : (tf.where(tf.reshape(tf.tensor1d(here, 'bool'), [b, 1, 1, 1]), y, z) as tf.Tensor4D);
          }
        }
        const out = tf.sub(tf.mul(z, 2), 1) as tf.Tensor4D;
        return colour === c ? out : (tf.concat([out, tf.slice(x, [0, 0, 0, colour], [-1, -1, -1, 1])], 3) as tf.Tensor4D);
      });
    },
  };
}

function shuffled<T>(items: T[], rng: { nextInt(n: number): number }): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** torchvision's rgb_to_grayscale (ITU-R 601-2 luma with its 0.2989); grey images are their own. */
function grey(z: tf.Tensor4D): tf.Tensor4D {
  return z.shape[3] === 1 ? z : (tf.sum(tf.mul(z, tf.tensor1d([0.2989, 0.587, 0.114])), 3, true) as tf.Tensor4D);
}

/** torchvision's _blend: ratio·a + (1 − ratio)·b, clamped to [0, 1]. */
function blend(a: tf.Tensor4D, b: tf.Tensor, ratio: tf.Tensor4D): tf.Tensor4D {
  return tf.clipByValue(tf.add(tf.mul(a, ratio), tf.mul(b, tf.sub(1, ratio))), 0, 1) as tf.Tensor4D;
}

const ADJUST: Record<Op, (z: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D> = {
  brightness: (z, f) => tf.clipByValue(tf.mul(z, f), 0, 1) as tf.Tensor4D,
  contrast: (z, f) => blend(z, tf.mean(grey(z), [1, 2, 3], true), f),
  saturation: (z, f) => blend(z, grey(z), f),
  hue: (z, f) => {
    const [h, s, v] = rgbToHsv(z);
    return hsvToRgb(tf.mod(tf.add(h, f), 1), s, v);
  },
};

// torchvision's _rgb2hsv, channels last.
function rgbToHsv(z: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const [r, g, b] = tf.split(z, 3, 3) as tf.Tensor4D[];
  const maxc = tf.max(z, 3, true);
  const minc = tf.min(z, 3, true);
  const eqc = tf.equal(maxc, minc);
  const cr = tf.sub(maxc, minc);
  const ones = tf.onesLike(maxc);
  const s = tf.div(cr, tf.where(eqc, ones, maxc));
  const crDiv = tf.where(eqc, ones, cr);
  const rc = tf.div(tf.sub(maxc, r!), crDiv);
  const gc = tf.div(tf.sub(maxc, g!), crDiv);
  const bc = tf.div(tf.sub(maxc, b!), crDiv);
  const isR = tf.equal(maxc, r!);
  const isG = tf.logicalAnd(tf.equal(maxc, g!), tf.logicalNot(isR));
  const isB = tf.logicalAnd(tf.logicalNot(tf.equal(maxc, g!)), tf.logicalNot(isR));
  const hr = tf.mul(tf.cast(isR, 'float32'), tf.sub(bc, gc));
  const hg = tf.mul(tf.cast(isG, 'float32'), tf.add(2, tf.sub(rc, bc)));
  const hb = tf.mul(tf.cast(isB, 'float32'), tf.add(4, tf.sub(gc, rc)));
  const h = tf.mod(tf.add(tf.div(tf.add(tf.add(hr, hg), hb), 6), 1), 1);
  return [h as tf.Tensor4D, s as tf.Tensor4D, maxc as tf.Tensor4D];
}

// torchvision's _hsv2rgb: sector i = ⌊6h⌋ mod 6 picks each channel from (v, q, p, t).
function hsvToRgb(h: tf.Tensor4D, s: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D {
  const h6 = tf.mul(h, 6);
  const i = tf.floor(h6);
  const f = tf.sub(h6, i);
  const clamp = (t: tf.Tensor) => tf.clipByValue(t, 0, 1);
  const p = clamp(tf.mul(v, tf.sub(1, s)));
  const q = clamp(tf.mul(v, tf.sub(1, tf.mul(s, f))));
  const t = clamp(tf.mul(v, tf.sub(1, tf.mul(s, tf.sub(1, f)))));
  const sector = tf.oneHot(tf.cast(tf.reshape(tf.mod(i, 6), [-1]), 'int32'), 6).reshape([...h.shape.slice(0, 3), 6]).toFloat();
  const pick = (cands: tf.Tensor[]) => tf.sum(tf.mul(sector, tf.concat(cands, 3)), 3, true);
  return tf.concat([pick([v, q, p, p, t, v]), pick([t, v, v, q, p, p]), pick([p, p, t, v, v, q])], 3) as tf.Tensor4D;
}
