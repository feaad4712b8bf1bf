import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { augment, batchSource as dataBatchSource, randomCrop, randomFlip, split, take, type Augmentation, type ImageDataset } from '@tfjs-diffusion/data';
import { loadEmoji, loadFashionMnist, loadImageFolder, loadMnist } from '@tfjs-diffusion/data/node';
import { offsetSeed } from '@tfjs-diffusion/schedules';
import type { DatasetName, DemoConfig } from './presets.js';

export interface HostImages {
  /** [n, height, width, channels] in [-1, 1]. */
  data: Float32Array;
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  classNames: string[];
}

/** What a run trains on: the dataset and, for folders and emoji, how its images are read. */
export type DataSpec = Pick<DemoConfig, 'dataset' | 'dataDir' | 'resolution' | 'centerCrop'>;

/** The emoji vendor of an `emoji-<vendor>` dataset name. */
const EMOJI = { 'emoji-google': 'google', 'emoji-twitter': 'twitter', 'emoji-facebook': 'facebook' } as const;
const isEmoji = (d: DatasetName): d is keyof typeof EMOJI => d in EMOJI;

/** Pixel size of a folder's images when --resolution is not given (diffusers' train_unconditional.py default). */
export const FOLDER_RESOLUTION = 64;

/** Refuses settings that the dataset does not take, naming the flag; returns the resolution to read at. */
export function checkDataSpec(s: DataSpec): number | undefined {
  if (s.dataset === 'folder') {
    if (!s.dataDir) throw new Error('--data-dir: --dataset folder needs the folder of images (--data-dir <folder>)');
    return s.resolution ?? FOLDER_RESOLUTION;
  }
  if (s.dataDir) throw new Error(`--data-dir ${s.dataDir}: a folder is read as --dataset folder, not with --dataset ${s.dataset}; give one of them`);
  if (s.centerCrop) throw new Error(`--center-crop: only folders are cropped (--data-dir); --dataset ${s.dataset} images are square already`);
  if (isEmoji(s.dataset)) {
    const r = s.resolution ?? 64;
    if (r !== 32 && r !== 64) throw new Error(`--resolution ${r}: --dataset ${s.dataset} comes at 32 or 64 px`);
    return r;
  }
  if (s.resolution !== undefined && s.resolution !== 28) throw new Error(`--resolution ${s.resolution}: --dataset ${s.dataset} is 28 × 28 (--resolution is for --data-dir and the emoji datasets)`);
  return undefined;
}

async function readFolder(dir: string, resolution: number, centerCrop: boolean, seed: number, log?: (s: string) => void): Promise<ImageDataset> {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new Error(`--data-dir ${dir}: no such folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!isDir) throw new Error(`--data-dir ${dir}: is a file, not a folder of images`);
  let ds: Awaited<ReturnType<typeof loadImageFolder>>;
  try {
    ds = await loadImageFolder(dir, { resolution, centerCrop, seed, onSkip: (f) => log?.(`skipped ${f.path}: ${f.reason}`) });
  } catch (e) {
    throw new Error(`--data-dir ${dir}: ${(e as Error).message.replace(/^loadImageFolder: /, '')}`);
  }
  if (ds.skipped) log?.(`${ds.skipped} file${ds.skipped === 1 ? '' : 's'} of ${dir} skipped (listed above)`);
  if (ds.shape[0] === 0) {
    throw new Error(`--data-dir ${dir}: no PNG or JPEG image in it${ds.skipped ? ` (${ds.skipped} file${ds.skipped === 1 ? '' : 's'} could not be read: ${ds.skippedFiles.slice(0, 3).map((f) => f.path).join(', ')})` : ''}`);
  }
  // A flat folder is unlabelled: one class, unconditional.
  return ds.labels ? ds : { ...ds, labels: new Int32Array(ds.shape[0]), classNames: [] };
}

async function readEmoji(name: keyof typeof EMOJI, size: 32 | 64): Promise<ImageDataset> {
  try {
    return await loadEmoji({ vendor: EMOJI[name], size, labels: 'category' });
  } catch (e) {
    throw new Error(`--dataset ${name}: ${(e as Error).message.replace(/^loadEmoji: /, '')}`);
  }
}

const cache = new Map<string, Promise<ImageDataset>>();

/** The whole dataset of a spec, read once per process. `log` is told of skipped files. */
export function loadImages(s: DataSpec, seed: number, log?: (s: string) => void): Promise<ImageDataset> {
  const resolution = checkDataSpec(s);
  const key = JSON.stringify([s.dataset, s.dataDir, resolution, s.centerCrop ?? false, s.dataset === 'folder' ? seed : 0]);
  let ds = cache.get(key);
  if (!ds) {
    ds = s.dataset === 'mnist' ? Promise.resolve(loadMnist())
      : s.dataset === 'fashion-mnist' ? Promise.resolve(loadFashionMnist())
      : isEmoji(s.dataset) ? readEmoji(s.dataset, resolution as 32 | 64)
      : readFolder(s.dataDir!, resolution!, s.centerCrop ?? false, seed, log);
    cache.set(key, ds);
    ds.catch(() => cache.delete(key));
  }
  return ds;
}

const host = (ds: ImageDataset): HostImages => ({
  data: ds.images, labels: ds.labels!, n: ds.shape[0], height: ds.shape[1], width: ds.shape[2], channels: ds.shape[3],
  numClasses: Math.max(1, ds.classNames!.length), classNames: ds.classNames!,
});

/**
 * A stratified, seeded train/validation split (whole emoji held out, with their variants);
 * `trainSize` 0 keeps every remaining image, otherwise the first `trainSize` of the shuffled rest.
 */
export async function loadDataset(what: DataSpec | DatasetName, opts: { trainSize: number; valSize: number; seed: number; log?: (s: string) => void }): Promise<{ train: HostImages; val: HostImages }> {
  const spec: DataSpec = typeof what === 'string' ? { dataset: what } : what;
  const ds = await loadImages(spec, opts.seed, opts.log);
  const where = spec.dataset === 'folder' ? `--data-dir ${spec.dataDir}` : `--dataset ${spec.dataset}`;
  if (ds.shape[0] < 2) throw new Error(`${where}: holds ${ds.shape[0]} image; training needs at least 2 (one is held out for validation)`);
  // At most half the images are held out, so that a small folder still trains.
  const valSize = Math.min(opts.valSize, Math.floor(ds.shape[0] / 2));
  const { train, validation } = split(ds, { validation: valSize, seed: offsetSeed(opts.seed, 7919), stratified: ds.classNames!.length > 1 });
  const kept = opts.trainSize > 0 && opts.trainSize < train.shape[0] ? take(train, Array.from({ length: opts.trainSize }, (_, i) => i)) : train;
  return { train: host(kept), val: host(validation) };
}

/** How a dataset is named in messages. */
export const dataName = (s: DataSpec): string => (s.dataset === 'folder' ? `--data-dir ${s.dataDir}` : `--dataset ${s.dataset}`);

export interface ImageShape { height: number; width: number; channels: number }

export const shapeText = (s: ImageShape): string => `${s.height}×${s.width}×${s.channels}`;

/** The model's images and the dataset's must have one shape: training, fine-tuning and eval compare them pixel by pixel. */
export function checkDatasetShape(model: ImageShape, data: ImageShape, dataset: string, what: string): void {
  if (model.height !== data.height || model.width !== data.width || model.channels !== data.channels) {
    throw new Error(`${what}: the model takes ${shapeText(model)} images; ${dataset.startsWith('--') ? dataset : `--dataset ${dataset}`} gives ${shapeText(data)} images (use a dataset of the model's shape)`);
  }
}

/** Shuffled, resumable batches for the trainer, each image shifted by up to `shift` pixels and, with `flip`, mirrored left-right half the time. */
export function batchSource(set: HostImages, opts: { batchSize: number; seed: number; shift: number; flip?: boolean; labels: boolean }) {
  const ds: ImageDataset = { images: set.data, shape: [set.n, set.height, set.width, set.channels], labels: set.labels };
  const ops: Augmentation[] = [...(opts.shift > 0 ? [randomCrop({ padding: opts.shift })] : []), ...(opts.flip ? [randomFlip()] : [])];
  return dataBatchSource(ds, {
    batchSize: opts.batchSize,
    seed: opts.seed,
    labels: opts.labels,
    augment: ops.length ? augment(ops) : undefined,
  });
}

/** A file-name-safe key of what a run trains on, for caches: 'mnist', 'emoji-google-32', 'folder-pets-64-<hash>'. */
export function dataKey(s: DataSpec): string {
  if (s.dataset === 'folder') {
    let h = 2166136261;
    for (const ch of `${s.dataDir}|${s.centerCrop ?? false}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return `folder-${basename(s.dataDir ?? '').replace(/[^\w.-]/g, '_')}-${s.resolution ?? FOLDER_RESOLUTION}-${h.toString(16)}`;
  }
  return isEmoji(s.dataset) ? `${s.dataset}-${s.resolution ?? 64}` : s.dataset;
}

/** What the eval classifier learns for a run: another vendor's emoji for an emoji run (twitter for google, google for the others), else the run's own data. */
export function judgeOf<S extends DataSpec>(s: S): DataSpec {
  if (!isEmoji(s.dataset)) return s;
  return { dataset: s.dataset === 'emoji-google' ? 'emoji-twitter' : 'emoji-google', resolution: s.resolution };
}
