// The pictures the page trains on: the MNIST digits it ships, or the user's
// folder read by the data package's imageFolder at a resolution and colour
// the user picks (class subfolders give a class-conditional model).
import { imageFolder, type FolderDataset, type ImageDataset } from '@tfjs-diffusion/data';
import type { PickedFile } from './files.js';

export const RESOLUTIONS = { min: 16, max: 128 } as const;

export interface FolderChoice {
  resolution: number;
  /** 3 RGB, 1 grey (both composited on white where the images are transparent). */
  channels: 1 | 3;
}

/** The images' float32 pixels may take at most this much of the tab's memory. */
const MAX_BYTES = 512 * 2 ** 20;

/** A resolution the network takes: 16..128, a multiple of `multiple` (the U-Net halves it once per level below the first). */
export function checkResolution(v: number, multiple: number): number {
  if (!Number.isInteger(v) || v < RESOLUTIONS.min || v > RESOLUTIONS.max || v % multiple !== 0) {
    throw new Error(`resolution must be an integer from ${RESOLUTIONS.min} to ${RESOLUTIONS.max} and a multiple of ${multiple} (the network halves it ${Math.log2(multiple)} times); got ${v}`);
  }
  return v;
}

/**
 * The picked or dropped files as a dataset: resized (shorter side) and
 * centre-cropped to `resolution`, each file read only when decoded. Files that
 * cannot be read are skipped and listed in `skippedFiles`; a folder without a
 * usable image throws, saying so.
 */
export async function readTrainFolder(files: PickedFile[], choice: FolderChoice): Promise<FolderDataset> {
  if (files.length === 0) throw new Error('the folder is empty: drop or pick a folder of PNG or JPEG images (one subfolder per class for a class-conditional model)');
  return imageFolder(
    files.map((p) => ({ path: p.path, bytes: async () => new Uint8Array(await p.file.arrayBuffer()) })),
    { resolution: choice.resolution, channels: choice.channels, centerCrop: true, maxBytes: MAX_BYTES },
    { where: 'your images' },
  );
}

/** One line for the page: what a dataset holds. */
export function describeData(d: ImageDataset, what: string): string {
  const [n, h, w, c] = d.shape;
  const classes = d.classNames ? `${d.classNames.length} classes (${d.classNames.join(', ')}): class-conditional` : 'no class folders: unconditional';
  return `${what}: ${n.toLocaleString('en')} images at ${h}×${w} ${c === 1 ? 'grey' : c === 3 ? 'RGB' : `${c} channels`}, ${classes}`;
}
