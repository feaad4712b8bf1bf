import { PNG } from 'pngjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { checkGrid, gridLayout, IMAGE_GRID_KEYS, imageGrid, type ImageGridOptions, type RgbaImage } from './grid.js';
import { renderSvg } from './svg.js';
import { escapeXml } from './xml.js';

export interface ImageGridPngOptions extends ImageGridOptions {
  /** A label drawn left of each row (for example the class of a class-conditional row). */
  rowLabels?: string[];
}

const IMAGE_GRID_PNG_KEYS = optionKeys<ImageGridPngOptions>()([...IMAGE_GRID_KEYS, 'rowLabels']);

/** PNG bytes of an RGBA image (pngjs). */
export function encodePng(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data.set(image.data);
  return PNG.sync.write(png);
}

/**
 * A PNG of n images (NHWC, row-major) in a grid. Values are clipped to
 * `range` and mapped linearly to 0..255.
 */
export function imageGridPng(pixels: ArrayLike<number>, opts: ImageGridPngOptions): Buffer {
  checkOptions('imageGridPng', opts, IMAGE_GRID_PNG_KEYS);
  checkGrid(pixels, opts, 'imageGridPng');
  const { rowLabels, ...grid } = opts;
  const g = imageGrid(pixels, grid);
  const plain = encodePng(g);
  if (!rowLabels || rowLabels.length === 0) return plain;
  const L = gridLayout(grid);
  if (rowLabels.length !== L.rows) throw new RangeError(`imageGridPng: rowLabels has ${rowLabels.length} labels for ${L.rows} rows`);
  const s = opts.scale ?? 1;
  const fontSize = Math.max(10, Math.min(16, Math.round(opts.height * s * 0.5)));
  const labelW = Math.ceil(Math.max(...rowLabels.map((l) => l.length)) * fontSize * 0.62) + 8;
  const texts = rowLabels
    .map((l, r) => `<text x="${labelW - 4}" y="${L.origin(r * L.cols).y + (opts.height * s) / 2}" text-anchor="end" dominant-baseline="central" font-size="${fontSize}">${escapeXml(l)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + g.width}" height="${g.height}">` +
    `<rect width="100%" height="100%" fill="white"/>${texts}` +
    `<image x="${labelW}" y="0" width="${g.width}" height="${g.height}" href="data:image/png;base64,${plain.toString('base64')}"/></svg>`;
  return renderSvg(svg);
}
