import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { augment, colorJitter } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// torchvision's adjust_* on one image, pixel by pixel in [0, 1] (channels last), written from their definitions.
type Px = number[];
const clamp = (v: number) => Math.min(1, Math.max(0, v));
const luma = (p: Px) => (p.length === 1 ? p[0]! : 0.2989 * p[0]! + 0.587 * p[1]! + 0.114 * p[2]!);
const brightness = (im: Px[], f: number) => im.map((p) => p.map((v) => clamp(f * v)));
const contrast = (im: Px[], f: number) => {
  const m = im.reduce((s, p) => s + luma(p), 0) / im.length;
  return im.map((p) => p.map((v) => clamp(f * v + (1 - f) * m)));
};
const saturation = (im: Px[], f: number) => im.map((p) => p.map((v) => clamp(f * v + (1 - f) * luma(p))));
// HSV as Python's colorsys (what PIL's and torchvision's conversions compute), h shifted mod 1.
function hue(im: Px[], shift: number): Px[] {
  return im.map(([r, g, b]) => {
    const mx = Math.max(r!, g!, b!);
    const mn = Math.min(r!, g!, b!);
    let h = 0;
    if (mx !== mn) {
      const d = mx - mn;
      if (mx === r) h = ((g! - b!) / d) / 6;
      else if (mx === g) h = (2 + (b! - r!) / d) / 6;
      else h = (4 + (r! - g!) / d) / 6;
    }
    const s = mx === 0 ? 0 : (mx - mn) / mx;
    h = (((h + shift) % 1) + 1) % 1;
    const i = Math.floor(h * 6);
    const f = h * 6 - i;
    const [v, p, q, t] = [mx, mx * (1 - s), mx * (1 - s * f), mx * (1 - s * (1 - f))];
    return [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6]!;
  });
}

/** One image [h·w pixels][c] in [0, 1] → a batch of one in [-1, 1]. */
const toTensor = (im: Px[], h: number, w: number) => tf.tensor4d(im.flat().map((v) => 2 * v - 1), [1, h, w, im[0]!.length]);
const pixels = (t: tf.Tensor) => {
  const c = t.shape[3]!;
  const d = Array.from(t.dataSync(), (v) => (v + 1) / 2);
  return Array.from({ length: d.length / c }, (_, i) => d.slice(i * c, i * c + c));
};
const expectClose = (a: Px[], b: Px[], digits = 5) => {
  expect(a.length).toBe(b.length);
  a.forEach((p, i) => p.forEach((v, j) => expect(v, `pixel ${i} channel ${j}`).toBeCloseTo(b[i]![j]!, digits)));
};
// A 4×4 RGB image with every hue sector, greys, black, white and saturated corners.
const RGB: Px[] = [
  [1, 0, 0], [1, 0.5, 0], [0.6, 1, 0], [0, 1, 0.3], [0, 0.7, 1], [0.2, 0, 1], [1, 0, 0.8], [0.5, 0.5, 0.5],
  [0, 0, 0], [1, 1, 1], [0.9, 0.2, 0.4], [0.1, 0.3, 0.2], [0.3, 0.25, 0.9], [0.75, 0.75, 0.1], [0.05, 0.6, 0.6], [0.4, 0.1, 0.1],
];
const ALPHA = RGB.map((_, i) => i / 15);

describe('colorJitter against torchvision\'s adjust_* formulas', () => {
  it.each([
    ['brightness', { brightness: [1.4, 1.4] }, (im: Px[]) => brightness(im, 1.4)],
    ['contrast', { contrast: [0.3, 0.3] }, (im: Px[]) => contrast(im, 0.3)],
    ['contrast above 1', { contrast: [1.8, 1.8] }, (im: Px[]) => contrast(im, 1.8)],
    ['saturation', { saturation: [1.7, 1.7] }, (im: Px[]) => saturation(im, 1.7)],
    ['saturation 0 (grey)', { saturation: [0, 0] }, (im: Px[]) => saturation(im, 0)],
    ['hue +0.2', { hue: [0.2, 0.2] }, (im: Px[]) => hue(im, 0.2)],
    ['hue −0.45', { hue: [-0.45, -0.45] }, (im: Px[]) => hue(im, -0.45)],
  ] as const)('%s on RGB', (_, opts, expected) => {
    const y = augment([colorJitter(opts as Parameters<typeof colorJitter>[0])])(toTensor(RGB, 4, 4), 0);
    expectClose(pixels(y), expected(RGB));
  });

  it('hue shifts pure colours around the wheel: red by 1/3 is green, by 1/2 cyan', () => {
    const red = toTensor([[1, 0, 0]], 1, 1);
    expectClose(pixels(augment([colorJitter({ hue: [1 / 3, 1 / 3] })])(red, 0)), [[0, 1, 0]]);
    expectClose(pixels(augment([colorJitter({ hue: [0.5, 0.5] })])(red, 0)), [[0, 1, 1]]);
  });

  it('RGBA: colour channels as RGB, alpha left as it was', () => {
    const rgba = RGB.map((p, i) => [...p, ALPHA[i]!]);
    const y = pixels(augment([colorJitter({ saturation: [1.5, 1.5], hue: [0.1, 0.1] })])(toTensor(rgba, 4, 4), 3));
    expectClose(y.map((p) => [p[3]!]), ALPHA.map((a) => [a]), 6);
    const rgb = y.map((p) => p.slice(0, 3));
    // Two ops in a random order: either order's result, per image.
    const a = hue(saturation(RGB, 1.5), 0.1);
    const b = saturation(hue(RGB, 0.1), 1.5);
    const d = (x: Px[]) => Math.max(...x.flatMap((p, i) => p.map((v, j) => Math.abs(v - rgb[i]![j]!))));
    expect(Math.min(d(a), d(b))).toBeLessThan(1e-5);
  });

  it('grey and grey + alpha: brightness and contrast on the grey channel (its own mean), alpha kept; saturation and hue refused', () => {
    const g = RGB.map(luma).map((v) => [v]);
    expectClose(pixels(augment([colorJitter({ contrast: [0.4, 0.4] })])(toTensor(g, 4, 4), 0)), contrast(g, 0.4));
    const ga = g.map((p, i) => [p[0]!, ALPHA[i]!]);
    const y = pixels(augment([colorJitter({ brightness: [0.6, 0.6] })])(toTensor(ga, 4, 4), 0));
    expectClose(y.map((p) => [p[0]!]), brightness(g, 0.6));
    expectClose(y.map((p) => [p[1]!]), ALPHA.map((a) => [a]));
    for (const im of [toTensor(g, 4, 4), toTensor(ga, 4, 4)]) {
      expect(() => augment([colorJitter({ hue: 0.1 })])(im, 0)).toThrow(/colorJitter: saturation and hue need RGB images \(3 or 4 channels\); this batch has [12]/);
    }
    expect(() => augment([colorJitter({ brightness: 0.1 })])(tf.zeros([1, 2, 2, 5]) as tf.Tensor4D, 0)).toThrow(/1 to 4 channels.*got 5/);
  });

  it('draws a random order per image, as torchvision per call: both orders of two ops occur', () => {
    // brightness 1.5 then contrast 0.5 differs from the other order (clamping at 1).
    const batch = 24;
    const x = tf.concat(Array.from({ length: batch }, () => toTensor(RGB, 4, 4)));
    const y = augment([colorJitter({ brightness: [1.5, 1.5], contrast: [0.5, 0.5] })])(x, 7);
    const bc = contrast(brightness(RGB, 1.5), 0.5).flat();
    const cb = brightness(contrast(RGB, 0.5), 1.5).flat();
    const seen = new Set<string>();
    const all = Array.from(y.dataSync(), (v) => (v + 1) / 2);
    for (let i = 0; i < batch; i++) {
      const im = all.slice(i * 48, i * 48 + 48);
      const dist = (r: number[]) => Math.max(...r.map((v, j) => Math.abs(v - im[j]!)));
      const which = dist(bc) < 1e-5 ? 'bc' : dist(cb) < 1e-5 ? 'cb' : 'neither';
      seen.add(which);
    }
    expect([...seen].sort()).toEqual(['bc', 'cb']);
  });

  it('refuses bad ranges naming the parameter, and leaks no tensors (also when it throws)', () => {
    expect(() => colorJitter({ hue: 0.6 })).toThrow(/colorJitter: hue must be a number in \[0, 0.5\]/);
    expect(() => colorJitter({ hue: [-0.6, 0] })).toThrow(/colorJitter: hue/);
    expect(() => colorJitter({ saturation: [2, 1] })).toThrow(/colorJitter: saturation must be/);
    const x0 = toTensor(RGB, 4, 4);
    const kept = augment([colorJitter({ saturation: 0.5, hue: 0.3, p: 0 })])(x0, 1);
    expectClose(pixels(kept), RGB, 6); // p = 0: only the [-1, 1] ↔ [0, 1] round trip's rounding
    kept.dispose();
    x0.dispose();
    const aug = augment([colorJitter({ brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.2, p: 0.7 })]);
    const x = toTensor(RGB.map((p, i) => [...p, ALPHA[i]!]), 4, 4);
    tf.dispose(aug(x, 0));
    const n = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) tf.dispose(aug(x, i));
    const grey = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
    const m = tf.memory().numTensors;
    expect(() => augment([colorJitter({ saturation: 0.2 })])(grey, 0)).toThrow(/need RGB/);
    expect(tf.memory().numTensors).toBe(m);
    grey.dispose();
    expect(tf.memory().numTensors).toBe(n);
    x.dispose();
  });
});
