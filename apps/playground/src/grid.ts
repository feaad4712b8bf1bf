/** Image grids on a canvas: one image per cell, a 1-pixel gap, values in [-1, 1] mapped to 0..255 (1 to 4 channels). */

export interface GridLayout {
  n: number;
  cols: number;
  height: number;
  width: number;
  channels: number;
}

export const GAP = 1;

export function gridSize(g: GridLayout): { width: number; height: number } {
  const rows = Math.ceil(g.n / g.cols);
  return { width: g.cols * (g.width + GAP) - GAP, height: rows * (g.height + GAP) - GAP };
}

/** RGBA pixels of the grid (the gap and empty cells are a dark grey). */
export function gridRgba(pixels: Float32Array, g: GridLayout): ImageData {
  const { width: W, height: H } = gridSize(g);
  const img = new ImageData(W, H);
  const d = img.data;
  for (let i = 0; i < d.length; i += 4) {
    d[i] = d[i + 1] = d[i + 2] = 40;
    d[i + 3] = 255;
  }
  const size = g.height * g.width * g.channels;
  for (let k = 0; k < g.n; k++) {
    const ox = (k % g.cols) * (g.width + GAP);
    const oy = Math.floor(k / g.cols) * (g.height + GAP);
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.width; x++) {
        const src = k * size + (y * g.width + x) * g.channels;
        const dst = ((oy + y) * W + ox + x) * 4;
        // Grey + alpha and RGBA: composited on white, as the data package reads transparent images.
        const alpha = g.channels === 2 || g.channels === 4 ? Math.max(0, Math.min(1, (pixels[src + g.channels - 1]! + 1) / 2)) : 1;
        for (let c = 0; c < 3; c++) {
          const v = pixels[src + (g.channels < 3 ? 0 : c)]!;
          d[dst + c] = alpha === 1 ? Math.max(0, Math.min(255, Math.round((v + 1) * 127.5))) : Math.round((Math.max(0, Math.min(1, (v + 1) / 2)) * alpha + 1 - alpha) * 255);
        }
      }
    }
  }
  return img;
}

export function drawGrid(canvas: HTMLCanvasElement, pixels: Float32Array, g: GridLayout): void {
  const img = gridRgba(pixels, g);
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.dataset.cells = String(g.n);
  canvas.dataset.cols = String(g.cols);
  canvas.getContext('2d')!.putImageData(img, 0, 0);
}

/** Columns of a grid of n images: one column per class when every class is drawn, else near-square. */
export function gridCols(n: number, perClassColumns?: number): number {
  if (perClassColumns !== undefined) return Math.min(n, perClassColumns);
  return Math.max(1, Math.ceil(Math.sqrt(n)));
}
