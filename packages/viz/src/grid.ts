import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';

export interface ImageGridOptions {
  /** Number of images in `pixels`. */
  n: number;
  height: number;
  width: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA; alpha is laid over `background`. */
  channels: 1 | 2 | 3 | 4;
  /** Images per row. Default ceil(sqrt(n)). */
  cols?: number;
  /** Pixels between images (before scaling). Default 2. */
  padding?: number;
  /** Values mapped to black and white; others are clipped. Default [-1, 1]. */
  range?: [number, number];
  /** Integer upscaling (nearest neighbour). Default 1. */
  scale?: number;
  /** Gray level 0..255 of the padding. Default 255 (white). */
  background?: number;
}

/** An RGBA image, laid out as a canvas `ImageData` (`new ImageData(data, width, height)`). */
export const IMAGE_GRID_KEYS = optionKeys<ImageGridOptions>()([
  'n', 'height', 'width', 'channels', 'cols', 'padding', 'range', 'scale', 'background',
]);

export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export function checkGrid(pixels: ArrayLike<number>, o: ImageGridOptions, where: string): void {
  for (const k of ['n', 'height', 'width'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`${where}: ${k} must be a positive integer; got ${o[k]}`);
  }
  if (![1, 2, 3, 4].includes(o.channels)) throw new RangeError(`${where}: channels must be 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA); got ${o.channels}`);
  const want = o.n * o.height * o.width * o.channels;
  if (pixels.length !== want) {
    throw new RangeError(`${where}: pixels has ${pixels.length} values; n·height·width·channels = ${o.n}·${o.height}·${o.width}·${o.channels} = ${want}`);
  }
  if (o.cols !== undefined && (!Number.isInteger(o.cols) || o.cols < 1)) throw new RangeError(`${where}: cols must be a positive integer; got ${o.cols}`);
  if (o.scale !== undefined && (!Number.isInteger(o.scale) || o.scale < 1)) throw new RangeError(`${where}: scale must be a positive integer; got ${o.scale}`);
  if (o.padding !== undefined && (!Number.isInteger(o.padding) || o.padding < 0)) throw new RangeError(`${where}: padding must be a non-negative integer; got ${o.padding}`);
  const [lo, hi] = o.range ?? [-1, 1];
  if (!(hi > lo)) throw new RangeError(`${where}: range must be [low, high] with high > low; got [${lo}, ${hi}]`);
}

/** The grid's layout: where image k's top-left pixel lands, and the canvas size. Takes the grid's whole options too. */
export function gridLayout(o: Pick<ImageGridOptions, 'n' | 'height' | 'width' | 'cols' | 'padding' | 'scale'>) {
  checkOptions('gridLayout', o, IMAGE_GRID_KEYS);
  const cols = Math.min(o.cols ?? Math.ceil(Math.sqrt(o.n)), o.n);
  const rows = Math.ceil(o.n / cols);
  const pad = o.padding ?? 2;
  const s = o.scale ?? 1;
  const cellW = (o.width + pad) * s;
  const cellH = (o.height + pad) * s;
  return {
    cols,
    rows,
    width: cols * cellW + pad * s,
    height: rows * cellH + pad * s,
    origin: (k: number) => ({ x: pad * s + (k % cols) * cellW, y: pad * s + Math.floor(k / cols) * cellH }),
  };
}

/**
 * The grid of n images (NHWC, row-major) as RGBA pixels: values clipped to
 * `range` and mapped linearly to 0..255. Pure: put it on a canvas with
 * `ctx.putImageData(new ImageData(g.data, g.width, g.height), 0, 0)`, or
 * encode it with `imageGridPng` of `@tfjs-diffusion/viz/node`.
 */
export function imageGrid(pixels: ArrayLike<number>, o: ImageGridOptions): RgbaImage {
  checkOptions('imageGrid', o, IMAGE_GRID_KEYS);
  checkGrid(pixels, o, 'imageGrid');
  const L = gridLayout(o);
  const s = o.scale ?? 1;
  const [lo, hi] = o.range ?? [-1, 1];
  const bg = o.background ?? 255;
  const data = new Uint8ClampedArray(L.width * L.height * 4).fill(bg);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  const { height: h, width: w, channels: c } = o;
  const to8 = (v: number) => (Number.isNaN(v) ? 0 : Math.round((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo) * 255));
  for (let k = 0; k < o.n; k++) {
    const { x: ox, y: oy } = L.origin(k);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const base = ((k * h + y) * w + x) * c;
        const colour = c >= 3;
        // Alpha (the last channel of 2 and 4) blends the colour over the background, as a viewer shows it.
        const a = c === 2 || c === 4 ? to8(pixels[base + c - 1]!) / 255 : 1;
        const over = (v: number) => Math.round(a * v + (1 - a) * bg);
        const r = over(to8(pixels[base]!));
        const g = colour ? over(to8(pixels[base + 1]!)) : r;
        const b = colour ? over(to8(pixels[base + 2]!)) : r;
        for (let dy = 0; dy < s; dy++) {
          let q = ((oy + y * s + dy) * L.width + ox + x * s) * 4;
          for (let dx = 0; dx < s; dx++, q += 4) {
            data[q] = r;
            data[q + 1] = g;
            data[q + 2] = b;
          }
        }
      }
    }
  }
  return { data, width: L.width, height: L.height };
}

