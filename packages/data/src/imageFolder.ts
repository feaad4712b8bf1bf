import { checkOptions, createRng, optionKeys, roundHalfEven, type Rng } from '@tfjs-diffusion/schedules';
import type { ImageDataset } from './dataset.js';
import { decodeImage, MAX_IMAGE_PIXELS } from './decode.js';
import type { DecodedImage } from './decodedImage.js';
import { readLayout, type FolderFile, type SkippedFile } from './folderLayout.js';
import { coverSize, crop, parseBackground, resizeRgba, writeChannels, type Background } from './resample.js';

export interface ImageFolderOptions {
  /** Output size: a number (square, as diffusers' `--resolution`) or [height, width]. */
  resolution: number | [number, number];
  /** 1 grey, 2 grey + alpha, 3 RGB (default), 4 RGBA. 1 and 3 are composited on `background`. */
  channels?: 1 | 2 | 3 | 4;
  /** Crop the centre (diffusers' `--center_crop`); default false: a seeded random crop per image. */
  centerCrop?: boolean;
  /** Seeds the random crops and the choice among list captions. Default 0. */
  seed?: number;
  /** Colour under transparent pixels, '#rrggbb' or [r, g, b] in 0..255. Default white. */
  background?: Background;
  /** The metadata column that holds captions (diffusers' `--caption_column`). Default 'text'. */
  captionColumn?: string;
  /** Refuse a dataset whose float32 pixels would take more bytes than this. Default 1 GiB. */
  maxBytes?: number;
  /** Skip (and report) an image with more pixels than this, before decoding it. Default PIL's 89,478,485. */
  maxPixels?: number;
  /** Told of each file left out (undecodable, too large, bad metadata row), as it happens. */
  onSkip?: (file: SkippedFile) => void;
  /** Throw at the first file that would be skipped instead. Default false. */
  strict?: boolean;
}

/** A dataset read from a folder: also each example's path and every file left out. */
export interface FolderDataset extends ImageDataset {
  paths: string[];
  skipped: number;
  skippedFiles: SkippedFile[];
}

/** How the Node layer names the folder and its files in messages. */
export interface FolderContext {
  where?: string;
  folder?: string;
  show?: (path: string) => string;
}

const KEYS = optionKeys<ImageFolderOptions>()(['resolution', 'channels', 'centerCrop', 'seed', 'background', 'captionColumn', 'maxBytes', 'maxPixels', 'onSkip', 'strict']);
const GiB = 2 ** 30;

/** Checks the options (before any file is read); errors name `where`. */
export function checkFolderOptions(opts: ImageFolderOptions, where: string): { H: number; W: number; C: 1 | 2 | 3 | 4 } {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${where}: options { resolution, ... } are required`);
  checkOptions(where, opts, KEYS);
  const r = opts.resolution;
  const [H, W] = typeof r === 'number' ? [r, r] : Array.isArray(r) && r.length === 2 ? r : [NaN, NaN];
  if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1 || H > 8192 || W > 8192) {
    throw new RangeError(`${where}: resolution must be an integer in [1, 8192] or [height, width] of them; got ${JSON.stringify(r)}`);
  }
  const C = opts.channels ?? 3;
  if (![1, 2, 3, 4].includes(C)) throw new RangeError(`${where}: channels must be 1, 2, 3 or 4; got ${JSON.stringify(C)}`);
  if (opts.maxBytes !== undefined && !(opts.maxBytes > 0)) throw new RangeError(`${where}: maxBytes must be a positive number; got ${opts.maxBytes}`);
  if (opts.maxPixels !== undefined && !(opts.maxPixels > 0)) throw new RangeError(`${where}: maxPixels must be a positive number; got ${opts.maxPixels}`);
  if (opts.captionColumn !== undefined && (typeof opts.captionColumn !== 'string' || !opts.captionColumn)) throw new TypeError(`${where}: captionColumn must be a non-empty string; got ${JSON.stringify(opts.captionColumn)}`);
  return { H, W, C };
}

const formatBytes = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);

/**
 * An image dataset from a folder's files, laid out as Hugging Face's
 * `imagefolder` (class subfolders or flat, optional metadata.jsonl or metadata.csv captions)
 * and transformed as diffusers' training scripts do: shorter side resized to
 * `resolution` (Pillow's bilinear), then centre- or randomly cropped, into
 * [-1, 1]. Files that cannot be used are skipped, reported through `onSkip`
 * and listed in `skippedFiles`. Runs in a browser: pass dropped files as
 * `{ path, bytes }`.
 */
export async function imageFolder(files: FolderFile[], opts: ImageFolderOptions, ctx: FolderContext = {}): Promise<FolderDataset> {
  const where = ctx.where ?? 'imageFolder';
  const show = ctx.show ?? ((p: string) => p);
  const folder = ctx.folder ? ` in ${ctx.folder}` : '';
  const { H, W, C } = checkFolderOptions(opts, where);
  if (!Array.isArray(files)) throw new TypeError(`${where}: files must be an array of { path, bytes }`);
  const background = parseBackground(opts.background, where);
  const layout = await readLayout(files, opts.captionColumn ?? 'text', where);
  const skippedFiles: SkippedFile[] = [];
  const skip = (s: SkippedFile, undecodable = false) => {
    s = { path: show(s.path), reason: s.reason };
    if (opts.strict) throw new Error(undecodable ? `${where}: cannot decode ${s.path}: ${s.reason}` : `${where}: ${s.path}: ${s.reason}`);
    skippedFiles.push(s);
    opts.onSkip?.(s);
  };
  layout.skipped.forEach((s) => skip(s));
  const n = layout.images.length;
  if (n === 0) throw new Error(`${where}: no .png, .jpg or .jpeg files${folder}`);
  const perImage = H * W * C;
  const bytes = n * perImage * 4;
  const maxBytes = opts.maxBytes ?? GiB;
  if (bytes > maxBytes) {
    throw new RangeError(`${where}: the ${n} images${folder} at ${H}×${W}×${C} take ${formatBytes(bytes)} as float32, over maxBytes (${formatBytes(maxBytes)}); lower resolution or channels, use fewer images, or raise maxBytes`);
  }
  const images = new Float32Array(n * perImage);
  const rng = createRng(opts.seed ?? 0);
  const kept: typeof layout.images = [];
  const captions: string[] = [];
  for (const entry of layout.images) {
    let img: DecodedImage;
    try {
      const b = typeof entry.file.bytes === 'function' ? await entry.file.bytes() : entry.file.bytes;
      if (!(b instanceof Uint8Array)) throw new Error(`bytes must be a Uint8Array; got ${Object.prototype.toString.call(b)}`);
      img = decodeImage(b, entry.path, { maxPixels: opts.maxPixels ?? MAX_IMAGE_PIXELS });
    } catch (e) {
      const msg = (e as Error).message;
      skip({ path: entry.path, reason: msg.startsWith(`${entry.path}: `) ? msg.slice(entry.path.length + 2) : msg }, true);
      continue;
    }
    let caption: string | undefined;
    if (layout.hasMetadata) {
      const c = pickCaption(entry.caption, rng);
      if (c === undefined) {
        skip({ path: entry.path, reason: `its '${opts.captionColumn ?? 'text'}' must be a string or a list of strings; got ${JSON.stringify(entry.caption)}` });
        continue;
      }
      caption = c;
    }
    transform(img, H, W, C, opts.centerCrop ?? false, rng, background, images, kept.length * perImage);
    kept.push(entry);
    if (caption !== undefined) captions.push(caption);
  }
  if (kept.length === 0) throw new Error(`${where}: none of the ${n} images${folder} could be read (first: ${skippedFiles[0]?.path}: ${skippedFiles[0]?.reason})`);
  const labelled = layout.classNames !== undefined;
  return {
    images: kept.length === n ? images : images.slice(0, kept.length * perImage),
    shape: [kept.length, H, W, C],
    labels: labelled ? Int32Array.from(kept, (e) => e.label!) : undefined,
    classNames: layout.classNames,
    captions: layout.hasMetadata ? captions : undefined,
    paths: kept.map((e) => show(e.path)),
    skipped: skippedFiles.length,
    skippedFiles,
  };
}

// diffusers picks one caption of a list at random when training.
function pickCaption(c: unknown, rng: Rng): string | undefined {
  if (typeof c === 'string') return c;
  if (Array.isArray(c) && c.length > 0 && c.every((s) => typeof s === 'string')) return c[rng.nextInt(c.length)] as string;
  return undefined;
}

/**
 * torchvision's Resize(resolution, BILINEAR) then CenterCrop or RandomCrop,
 * on one decoded image, written as `channels` values in [-1, 1] at out[offset].
 */
export function transform(img: DecodedImage, H: number, W: number, C: number, centerCrop: boolean, rng: Rng, background: [number, number, number], out: Float32Array, offset: number): void {
  const [h, w] = coverSize(img.height, img.width, H, W);
  const resized = resizeRgba(img, h, w);
  const [top, left] = centerCrop ? [roundHalfEven((h - H) / 2), roundHalfEven((w - W) / 2)] : [rng.nextInt(h - H + 1), rng.nextInt(w - W + 1)];
  writeChannels(crop(resized, top, left, H, W), C, background, out, offset);
}
