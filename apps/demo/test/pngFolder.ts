// A small folder of PNGs for the folder tests, written with the viz PNG encoder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng } from '@tfjs-diffusion/viz/node';

/** A w × h PNG of one colour with a little seeded texture. */
function png(w: number, h: number, rgb: [number, number, number], seed: number): Buffer {
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) data[4 * i + c] = Math.max(0, Math.min(255, rgb[c]! + Math.round(30 * Math.sin(i * 0.7 + seed + c))));
    data[4 * i + 3] = 255;
  }
  return encodePng({ width: w, height: h, data });
}

/** Class subfolders red/ and blue/ (images of several sizes), or a flat folder; plus a corrupt file. */
export function writeImageFolder(dir: string, opts: { classes: boolean; corrupt?: boolean }): string {
  const colours = { red: [220, 40, 40], blue: [40, 40, 220] } as const;
  for (const [name, rgb] of Object.entries(colours)) {
    const sub = opts.classes ? join(dir, name) : dir;
    mkdirSync(sub, { recursive: true });
    for (let i = 0; i < 6; i++) writeFileSync(join(sub, `${name}-${i}.png`), png(20 + 3 * i, 18 + i, [...rgb], i));
  }
  if (opts.corrupt) writeFileSync(join(dir, opts.classes ? 'red' : '', 'broken.png'), 'not a png');
  return dir;
}
