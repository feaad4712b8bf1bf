import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import type { ImageDataset } from './dataset.js';

const EXT = new Set(['.png', '.jpg', '.jpeg']);

/** Decodes a PNG or JPEG to RGBA bytes; errors name the file. */
export function decodeImage(bytes: Uint8Array, path: string): { width: number; height: number; rgba: Uint8Array } {
  const ext = extname(path).toLowerCase();
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (ext === '.png') {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    throw new Error(`loadImageFolder: cannot decode ${path}: ${(e as Error).message}`);
  }
}

const LOAD_IMAGE_FOLDER_KEYS = optionKeys<NonNullable<Parameters<typeof loadImageFolder>[1]>>()(['size', 'channels']);

/**
 * Images from a folder: one subfolder per class (sorted names become class
 * ids), or the files directly inside for an unlabelled set. PNG and JPEG,
 * resized (bilinear) to `size`, as 1 or 3 channels in [-1, 1].
 */
export async function loadImageFolder(dir: string, opts: { size: number | [number, number]; channels?: 1 | 3 }): Promise<ImageDataset> {
  checkOptions('loadImageFolder', opts, LOAD_IMAGE_FOLDER_KEYS);
  const [H, W] = typeof opts.size === 'number' ? [opts.size, opts.size] : opts.size;
  if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1) throw new RangeError(`loadImageFolder: size must be a positive integer or [height, width]; got ${JSON.stringify(opts.size)}`);
  const C = opts.channels ?? 3;
  if (C !== 1 && C !== 3) throw new RangeError(`loadImageFolder: channels must be 1 or 3; got ${C}`);
  let entries;
  try {
    entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (e) {
    throw new Error(`loadImageFolder: cannot read folder ${dir}: ${(e as Error).message}`);
  }
  const classDirs = entries.filter((e) => e.isDirectory());
  const files: { path: string; label?: number }[] = [];
  if (classDirs.length > 0) {
    for (const [c, d] of classDirs.entries()) {
      for (const f of (await readdir(join(dir, d.name))).sort()) {
        if (EXT.has(extname(f).toLowerCase())) files.push({ path: join(dir, d.name, f), label: c });
      }
    }
  } else {
    for (const e of entries) if (e.isFile() && EXT.has(extname(e.name).toLowerCase())) files.push({ path: join(dir, e.name) });
  }
  if (files.length === 0) throw new Error(`loadImageFolder: no .png, .jpg or .jpeg files in ${dir}${classDirs.length ? ' or its class folders' : ''}`);
  const images = new Float32Array(files.length * H * W * C);
  for (const [k, f] of files.entries()) {
    if (!(await stat(f.path)).isFile()) continue;
    const img = decodeImage(await readFile(f.path), f.path);
    const out = tf.tidy(() => {
      let x = tf.slice(tf.tensor3d(img.rgba, [img.height, img.width, 4], 'int32'), [0, 0, 0], [-1, -1, 3]);
      let xf = tf.cast(x, 'float32');
      if (C === 1) xf = tf.sum(tf.mul(xf, tf.tensor1d([0.299, 0.587, 0.114])), 2, true);
      const r = img.height === H && img.width === W ? xf : tf.image.resizeBilinear(xf as tf.Tensor3D, [H, W]);
      x = tf.sub(tf.div(r, 127.5), 1);
      return x.dataSync() as Float32Array;
    });
    images.set(out, k * H * W * C);
  }
  const labelled = classDirs.length > 0;
  return {
    images,
    shape: [files.length, H, W, C],
    labels: labelled ? Int32Array.from(files, (f) => f.label!) : undefined,
    classNames: labelled ? classDirs.map((d) => d.name) : undefined,
  };
}
