import { PNG } from 'pngjs';
import { renderSvg, escapeXml } from './svg.js';

export interface ImageGridOptions {
  /** Number of images in `pixels`. */
  n: number;
  height: number;
  width: number;
  channels: 1 | 3;
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
  /** A label drawn left of each row (for example the class of a class-conditional row). */
  rowLabels?: string[];
}

function check(pixels: ArrayLike<number>, o: ImageGridOptions): void {
  for (const k of ['n', 'height', 'width'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`imageGridPng: ${k} must be a positive integer; got ${o[k]}`);
  }
  if (o.channels !== 1 && o.channels !== 3) throw new RangeError(`imageGridPng: channels must be 1 or 3; got ${o.channels}`);
  const want = o.n * o.height * o.width * o.channels;
  if (pixels.length !== want) {
    throw new RangeError(`imageGridPng: pixels has ${pixels.length} values; n·height·width·channels = ${o.n}·${o.height}·${o.width}·${o.channels} = ${want}`);
  }
  if (o.cols !== undefined && (!Number.isInteger(o.cols) || o.cols < 1)) throw new RangeError(`imageGridPng: cols must be a positive integer; got ${o.cols}`);
  if (o.scale !== undefined && (!Number.isInteger(o.scale) || o.scale < 1)) throw new RangeError(`imageGridPng: scale must be a positive integer; got ${o.scale}`);
  if (o.padding !== undefined && (!Number.isInteger(o.padding) || o.padding < 0)) throw new RangeError(`imageGridPng: padding must be a non-negative integer; got ${o.padding}`);
  const [lo, hi] = o.range ?? [-1, 1];
  if (!(hi > lo)) throw new RangeError(`imageGridPng: range must be [low, high] with high > low; got [${lo}, ${hi}]`);
}

/** The grid's layout: where image k's top-left pixel lands, and the canvas size. */
export function gridLayout(o: Pick<ImageGridOptions, 'n' | 'height' | 'width' | 'cols' | 'padding' | 'scale'>) {
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

/** RGBA pixels of the grid (without labels). */
function gridRgba(pixels: ArrayLike<number>, o: ImageGridOptions): { data: Buffer; width: number; height: number } {
  const L = gridLayout(o);
  const s = o.scale ?? 1;
  const [lo, hi] = o.range ?? [-1, 1];
  const bg = o.background ?? 255;
  const data = Buffer.alloc(L.width * L.height * 4, bg);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  const { height: h, width: w, channels: c } = o;
  const to8 = (v: number) => (Number.isNaN(v) ? 0 : Math.round((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo) * 255));
  for (let k = 0; k < o.n; k++) {
    const { x: ox, y: oy } = L.origin(k);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const base = ((k * h + y) * w + x) * c;
        const r = to8(pixels[base]!);
        const g = c === 3 ? to8(pixels[base + 1]!) : r;
        const b = c === 3 ? to8(pixels[base + 2]!) : r;
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

/**
 * A PNG of n images (NHWC, row-major) in a grid. Values are clipped to
 * `range` and mapped linearly to 0..255.
 */
export function imageGridPng(pixels: ArrayLike<number>, opts: ImageGridOptions): Buffer {
  check(pixels, opts);
  const g = gridRgba(pixels, opts);
  const png = new PNG({ width: g.width, height: g.height });
  g.data.copy(png.data);
  const plain = PNG.sync.write(png);
  if (!opts.rowLabels || opts.rowLabels.length === 0) return plain;
  const L = gridLayout(opts);
  if (opts.rowLabels.length !== L.rows) throw new RangeError(`imageGridPng: rowLabels has ${opts.rowLabels.length} labels for ${L.rows} rows`);
  const s = opts.scale ?? 1;
  const fontSize = Math.max(10, Math.min(16, Math.round(opts.height * s * 0.5)));
  const labelW = Math.ceil(Math.max(...opts.rowLabels.map((l) => l.length)) * fontSize * 0.62) + 8;
  const cellH = (opts.height + (opts.padding ?? 2)) * s;
  const texts = opts.rowLabels
    .map((l, r) => `<text x="${labelW - 4}" y="${L.origin(r * L.cols).y + (opts.height * s) / 2}" text-anchor="end" dominant-baseline="central" font-size="${fontSize}">${escapeXml(l)}</text>`)
    .join('');
  void cellH;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + g.width}" height="${g.height}">` +
    `<rect width="100%" height="100%" fill="white"/>${texts}` +
    `<image x="${labelW}" y="0" width="${g.width}" height="${g.height}" href="data:image/png;base64,${plain.toString('base64')}"/></svg>`;
  return renderSvg(svg);
}
