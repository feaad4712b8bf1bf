import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import type { DecodedImage } from './decodedImage.js';
import { jpegOrientation, orient } from './exif.js';

/** PIL's decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`): larger images are refused before decoding. */
export const MAX_IMAGE_PIXELS = 89_478_485;

const isPng = (b: Uint8Array) => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isJpeg = (b: Uint8Array) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/**
 * Width and height from a PNG's IHDR or a JPEG's frame header, without
 * decoding, so oversized images are refused before their pixels are allocated.
 */
export function imageSize(bytes: Uint8Array, path: string): { width: number; height: number; format: 'png' | 'jpeg' } {
  const u32 = (o: number) => ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
  const u16 = (o: number) => (bytes[o]! << 8) | bytes[o + 1]!;
  if (isPng(bytes)) {
    if (bytes.length < 24) throw new Error(`${path}: truncated PNG header`);
    return { width: u32(16), height: u32(20), format: 'png' };
  }
  if (isJpeg(bytes)) {
    let o = 2;
    while (o + 9 < bytes.length) {
      if (bytes[o] !== 0xff) throw new Error(`${path}: malformed JPEG marker at byte ${o}`);
      const m = bytes[o + 1]!;
      if (m === 0xff) { o += 1; continue; }
      // SOF0–SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return { width: u16(o + 7), height: u16(o + 5), format: 'jpeg' };
      o += 2 + u16(o + 2);
    }
    throw new Error(`${path}: no JPEG frame header`);
  }
  throw new Error(`${path}: not a PNG or JPEG (unrecognised signature)`);
}

/**
 * Decodes a PNG (any colour type: grey, grey + alpha, RGB, RGBA, palette,
 * with tRNS transparency; 1–16 bits, 16-bit rounded to 8) or a baseline or
 * progressive JPEG to 8-bit RGBA, turned upright by its EXIF orientation.
 * Pure JavaScript, so it runs in a browser.
 * The format is read from the bytes; errors name `path`.
 */
export function decodeImage(bytes: Uint8Array, path: string, opts: { maxPixels?: number } = {}): DecodedImage {
  const { width, height, format } = imageSize(bytes, path);
  const maxPixels = opts.maxPixels ?? MAX_IMAGE_PIXELS;
  if (width < 1 || height < 1) throw new Error(`${path}: image is ${width}×${height}`);
  if (width * height > maxPixels) throw new Error(`${path}: ${width}×${height} is over maxPixels (${maxPixels.toLocaleString('en-US')} pixels)`);
  try {
    if (format === 'jpeg') {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 8) / 2 ** 20)) });
      return orient({ width: img.width, height: img.height, rgba: img.data }, jpegOrientation(bytes));
    }
    return pngToRgba(decodePng(bytes));
  } catch (e) {
    throw new Error(`${path}: cannot decode ${format === 'png' ? 'PNG' : 'JPEG'}: ${(e as Error).message}`);
  }
}

function pngToRgba(png: ReturnType<typeof decodePng>): DecodedImage {
  const { width, height, depth, channels, palette, transparency } = png;
  const n = width * height;
  const samples = unpack(png.data, width, height, channels, depth);
  const rgba = new Uint8Array(n * 4);
  if (palette) {
    for (let i = 0; i < n; i++) {
      const c = palette[samples[i]!];
      if (!c) throw new Error(`palette index ${samples[i]} is outside the ${palette.length}-colour palette`);
      rgba.set([c[0]!, c[1]!, c[2]!, c[3] ?? 255], i * 4);
    }
    return { width, height, rgba };
  }
  const max = 2 ** depth - 1;
  const to8 = (v: number) => Math.round((v * 255) / max);
  // tRNS for grey or RGB names one colour (in the image's own bit depth) that is fully transparent.
  const key = transparency && transparency.length === (channels === 1 ? 1 : 3) && (channels === 1 || channels === 3) ? transparency : undefined;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const g = channels <= 2;
    const r = samples[s]!, gr = g ? r : samples[s + 1]!, b = g ? r : samples[s + 2]!;
    let a = channels === 2 ? samples[s + 1]! : channels === 4 ? samples[s + 3]! : max;
    if (key && r === key[0] && (channels === 1 || (gr === key[1] && b === key[2]))) a = 0;
    rgba[i * 4] = to8(r);
    rgba[i * 4 + 1] = to8(gr);
    rgba[i * 4 + 2] = to8(b);
    rgba[i * 4 + 3] = to8(a);
  }
  return { width, height, rgba };
}

// fast-png leaves samples of under 8 bits packed, each row starting on a byte.
function unpack(data: ArrayLike<number>, width: number, height: number, channels: number, depth: number): ArrayLike<number> {
  if (depth >= 8) return data;
  const perRow = Math.ceil((width * channels * depth) / 8);
  const out = new Uint8Array(width * height * channels);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * channels; x++) {
      const bit = x * depth;
      out[y * width * channels + x] = (data[y * perRow + (bit >> 3)]! >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}
