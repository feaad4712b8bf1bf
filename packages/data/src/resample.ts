import type { DecodedImage } from './decodedImage.js';

/** A float image with alpha-premultiplied RGBA in [0, 1], row-major: the form resizing and averaging work on. */
export interface Plane {
  data: Float32Array;
  height: number;
  width: number;
}

/** An RGB colour, 0..255 per channel, or '#rrggbb'. */
export type Background = [number, number, number] | string;

/** The background as [r, g, b] in [0, 1]; errors name `where` and what is accepted. */
export function parseBackground(bg: Background | undefined, where: string): [number, number, number] {
  if (bg === undefined) return [1, 1, 1];
  if (typeof bg === 'string') {
    const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(bg);
    if (m) return [1, 2, 3].map((i) => parseInt(m[i]!, 16) / 255) as [number, number, number];
  } else if (Array.isArray(bg) && bg.length === 3 && bg.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    return bg.map((v) => v / 255) as [number, number, number];
  }
  throw new RangeError(`${where}: background must be '#rrggbb' or [r, g, b] with integers in 0..255; got ${JSON.stringify(bg)}`);
}

/** RGBA bytes → premultiplied float RGBA, so transparent pixels' colours never bleed into their neighbours. */
export function premultiply(img: DecodedImage): Plane {
  const n = img.width * img.height;
  const data = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const a = img.rgba[i * 4 + 3]! / 255;
    data[i * 4] = (img.rgba[i * 4]! / 255) * a;
    data[i * 4 + 1] = (img.rgba[i * 4 + 1]! / 255) * a;
    data[i * 4 + 2] = (img.rgba[i * 4 + 2]! / 255) * a;
    data[i * 4 + 3] = a;
  }
  return { data, height: img.height, width: img.width };
}

/**
 * The size torchvision's `Resize` gives: for a square `resolution` the
 * shorter side becomes it and the longer `int(resolution · long / short)`;
 * for [h, w] the smallest such size that covers h × w.
 */
export function coverSize(height: number, width: number, h: number, w: number): [number, number] {
  if (h / height >= w / width) return [h, Math.max(w, Math.trunc((h * width) / height))];
  return [Math.max(h, Math.trunc((w * height) / width)), w];
}

// Pillow's precompute_coeffs for its bilinear (triangle) filter: when shrinking, the support widens by the scale (antialiasing).
function coefficients(inSize: number, outSize: number): { start: Int32Array; weights: Float64Array[] } {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = filterScale;
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const k = new Float64Array(hi - lo);
    let sum = 0;
    for (let x = lo; x < hi; x++) {
      const t = Math.abs((x - center + 0.5) / filterScale);
      k[x - lo] = t < 1 ? 1 - t : 0;
      sum += k[x - lo]!;
    }
    for (let j = 0; j < k.length; j++) k[j]! /= sum;
    start[o] = lo;
    weights.push(k);
  }
  return { start, weights };
}

/** Bilinear resize as Pillow's `Image.resize(size, BILINEAR)` (what torchvision's Resize runs on PIL images), in float. */
export function resizeBilinear(p: Plane, height: number, width: number): Plane {
  if (height === p.height && width === p.width) return p;
  return verticalPass(horizontalPass(p.data, 1, p.height, p.width, width), p.height, width, height);
}

/**
 * `resizeBilinear(premultiply(img), h, w)` without the full-size float copy:
 * the first pass premultiplies the bytes as it reads them, so a large photo
 * costs its RGBA bytes and a thin strip, not four floats per pixel.
 */
export function resizeRgba(img: DecodedImage, height: number, width: number): Plane {
  if (height === img.height && width === img.width) return premultiply(img);
  return verticalPass(horizontalPass(img.rgba, 255, img.height, img.width, width), img.height, width, height);
}

// Resizes each row; `unit` is the value of full intensity (1 for planes, 255 for bytes, which are premultiplied here).
function horizontalPass(src: ArrayLike<number>, unit: number, rows: number, inWidth: number, width: number): Float32Array {
  const cx = coefficients(inWidth, width);
  const mid = new Float32Array(rows * width * 4);
  const straight = unit !== 1;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < width; x++) {
      const k = cx.weights[x]!, s = cx.start[x]!;
      let r = 0, g = 0, b = 0, a = 0;
      for (let j = 0; j < k.length; j++) {
        const o = (y * inWidth + s + j) * 4;
        const al = src[o + 3]! / unit;
        const w = straight ? (k[j]! * al) / unit : k[j]!;
        r += w * src[o]!;
        g += w * src[o + 1]!;
        b += w * src[o + 2]!;
        a += k[j]! * al;
      }
      const o = (y * width + x) * 4;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
      mid[o + 3] = a;
    }
  }
  return mid;
}

function verticalPass(mid: Float32Array, inHeight: number, width: number, height: number): Plane {
  const cy = coefficients(inHeight, height);
  const data = new Float32Array(height * width * 4);
  for (let y = 0; y < height; y++) {
    const k = cy.weights[y]!, s = cy.start[y]!;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let v = 0;
        for (let j = 0; j < k.length; j++) v += k[j]! * mid[((s + j) * width + x) * 4 + c]!;
        data[(y * width + x) * 4 + c] = v;
      }
    }
  }
  return { data, height, width };
}

/** Means of k × k blocks (area averaging), for an exact integer downscale. */
export function areaDownsample(p: Plane, k: number): Plane {
  if (k === 1) return p;
  if (p.height % k || p.width % k) throw new RangeError(`areaDownsample: ${p.height}×${p.width} is not divisible by ${k}`);
  const height = p.height / k, width = p.width / k;
  const data = new Float32Array(height * width * 4);
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      const o = (Math.floor(y / k) * width + Math.floor(x / k)) * 4;
      for (let c = 0; c < 4; c++) data[o + c]! += p.data[(y * p.width + x) * 4 + c]! / (k * k);
    }
  }
  return { data, height, width };
}

/** The h × w window at (top, left). */
export function crop(p: Plane, top: number, left: number, height: number, width: number): Plane {
  if (top === 0 && left === 0 && height === p.height && width === p.width) return p;
  const data = new Float32Array(height * width * 4);
  for (let y = 0; y < height; y++) data.set(p.data.subarray(((top + y) * p.width + left) * 4, ((top + y) * p.width + left + width) * 4), y * width * 4);
  return { data, height, width };
}


const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b; // ITU-R 601-2, as PIL's convert('L')

/**
 * Writes the plane as `channels` values per pixel in [-1, 1] at `out[offset]`:
 * 1 grey and 3 RGB are composited on `background`; 2 grey + alpha and 4 RGBA keep alpha
 * (colour un-premultiplied; fully transparent pixels are 0, i.e. black).
 */
export function writeChannels(p: Plane, channels: number, background: [number, number, number], out: Float32Array, offset: number): void {
  const n = p.height * p.width;
  const [br, bg, bb] = background;
  for (let i = 0; i < n; i++) {
    const a = p.data[i * 4 + 3]!;
    let r = p.data[i * 4]!, g = p.data[i * 4 + 1]!, b = p.data[i * 4 + 2]!;
    const o = offset + i * channels;
    if (channels === 1 || channels === 3) {
      r += (1 - a) * br;
      g += (1 - a) * bg;
      b += (1 - a) * bb;
      if (channels === 1) out[o] = 2 * luma(r, g, b) - 1;
      else [out[o], out[o + 1], out[o + 2]] = [2 * r - 1, 2 * g - 1, 2 * b - 1];
    } else {
      const u = a > 1e-6 ? 1 / a : 0;
      if (channels === 2) out[o] = 2 * Math.min(1, luma(r, g, b) * u) - 1;
      else [out[o], out[o + 1], out[o + 2]] = [2 * Math.min(1, r * u) - 1, 2 * Math.min(1, g * u) - 1, 2 * Math.min(1, b * u) - 1];
      out[o + channels - 1] = 2 * a - 1;
    }
  }
}
