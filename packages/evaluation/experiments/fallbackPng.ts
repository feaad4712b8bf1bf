import { crc32, deflateSync } from 'node:zlib';

// Minimal PNG drawing for the experiment plots, used only while
// @tfjs-diffusion/viz offers no linePlotPng / imageGridPng: no text, so
// the series colours are listed in each result's markdown.

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

export function encodeRgb(width: number, height: number, rgb: Uint8Array): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export const PALETTE: [string, [number, number, number]][] = [
  ['blue', [31, 119, 180]],
  ['orange', [255, 127, 14]],
  ['green', [44, 160, 44]],
  ['red', [214, 39, 40]],
  ['purple', [148, 103, 189]],
  ['brown', [140, 86, 75]],
  ['pink', [227, 119, 194]],
  ['grey', [127, 127, 127]],
];

export function linePlot(series: { x: number[]; y: number[] }[], width = 640, height = 400): Buffer {
  const img = new Uint8Array(width * height * 3).fill(255);
  const set = (x: number, y: number, c: readonly number[]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    img.set(c, (y * width + x) * 3);
  };
  const xs = series.flatMap((s) => s.x);
  const ys = series.flatMap((s) => s.y);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(0, ...ys), Math.max(...ys)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const m = 40;
  const px = (x: number) => Math.round(m + ((x - x0) / (x1 - x0)) * (width - 2 * m));
  const py = (y: number) => Math.round(height - m - ((y - y0) / (y1 - y0)) * (height - 2 * m));
  for (let i = 0; i <= 4; i++) {
    const gy = py(y0 + ((y1 - y0) * i) / 4);
    for (let x = m; x <= width - m; x++) set(x, gy, i === 0 ? [0, 0, 0] : [225, 225, 225]);
  }
  for (let y = m; y <= height - m; y++) set(m, y, [0, 0, 0]);
  series.forEach((s, k) => {
    const c = PALETTE[k % PALETTE.length]![1];
    for (let i = 0; i < s.x.length; i++) {
      const [ax, ay] = [px(s.x[i]!), py(s.y[i]!)];
      for (let dx = -3; dx <= 3; dx++) for (let dy = -3; dy <= 3; dy++) set(ax + dx, ay + dy, c);
      if (i + 1 < s.x.length) {
        const [bx, by] = [px(s.x[i + 1]!), py(s.y[i + 1]!)];
        const steps = Math.max(Math.abs(bx - ax), Math.abs(by - ay), 1);
        for (let t = 0; t <= steps; t++) {
          const x = Math.round(ax + ((bx - ax) * t) / steps);
          const y = Math.round(ay + ((by - ay) * t) / steps);
          set(x, y, c);
          set(x, y + 1, c);
        }
      }
    }
  });
  return encodeRgb(width, height, img);
}

export function imageGrid(pixels: Float32Array, o: { n: number; height: number; width: number; channels: 1 | 3; cols?: number; padding?: number; range?: [number, number] }): Buffer {
  const cols = o.cols ?? Math.ceil(Math.sqrt(o.n));
  const rows = Math.ceil(o.n / cols);
  const pad = o.padding ?? 2;
  const [lo, hi] = o.range ?? [-1, 1];
  const W = cols * (o.width + pad) + pad;
  const H = rows * (o.height + pad) + pad;
  const img = new Uint8Array(W * H * 3).fill(255);
  const d = o.height * o.width * o.channels;
  for (let k = 0; k < o.n; k++) {
    const ox = pad + (k % cols) * (o.width + pad);
    const oy = pad + Math.floor(k / cols) * (o.height + pad);
    for (let y = 0; y < o.height; y++) {
      for (let x = 0; x < o.width; x++) {
        for (let c = 0; c < 3; c++) {
          const v = pixels[k * d + (y * o.width + x) * o.channels + (o.channels === 3 ? c : 0)]!;
          img[((oy + y) * W + ox + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255)));
        }
      }
    }
  }
  return encodeRgb(W, H, img);
}
