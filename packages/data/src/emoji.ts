import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import type { ImageDataset } from './dataset.js';
import { decodeImage } from './decode.js';
import { areaDownsample, parseBackground, premultiply, writeChannels, type Background } from './resample.js';

/** The emoji sets of the `emoji-datasource-<vendor>` npm packages this loader reads (v16). */
export const EMOJI_VENDORS = ['google', 'twitter', 'facebook'] as const;
export type EmojiVendor = (typeof EMOJI_VENDORS)[number];

/** The fields of an `emoji.json` entry that the loader reads. */
export interface EmojiEntry {
  name: string;
  unified: string;
  image: string;
  category: string;
  subcategory: string;
  sort_order: number;
  [hasImage: `has_img_${string}`]: unknown;
  skin_variations?: Record<string, { unified: string; image: string; [hasImage: `has_img_${string}`]: unknown }>;
}

export interface EmojiOptions {
  /** Which vendor's artwork. Default 'google'. */
  vendor?: EmojiVendor;
  /** 64 (the package's images) or 32 (means of 2 × 2 blocks). Default 64. */
  size?: 32 | 64;
  /** Class labels: the 9 categories (default) or the 98 subcategories, in the package's order. */
  labels?: 'category' | 'subcategory';
  /** Also the skin-tone variants (1,875 more). Default false. */
  skinTones?: boolean;
  /** 1 grey, 3 RGB (default), both composited on `background`; 2 and 4 keep alpha. */
  channels?: 1 | 2 | 3 | 4;
  /** Colour under transparent pixels, '#rrggbb' or [r, g, b] in 0..255. Default white. */
  background?: Background;
}

/** Emoji as a dataset: labels and class names, a caption per image, and a group (its base emoji) per image. */
export interface EmojiDataset extends ImageDataset {
  labels: Int32Array;
  classNames: string[];
  captions: string[];
  groups: Int32Array;
  /** Code points of each image, as emoji.json's `unified` ('1F385-1F3FB'). */
  unified: string[];
}

const TONES: Record<string, string> = { '1F3FB': 'light', '1F3FC': 'medium-light', '1F3FD': 'medium', '1F3FE': 'medium-dark', '1F3FF': 'dark' };

/** "father christmas: medium-dark skin tone", or with two tones "… light skin tone, dark skin tone" (as Unicode names variants). */
function toneCaption(name: string, key: string): string {
  const tones = [...new Set(key.split('-'))].map((t) => `${TONES[t] ?? t.toLowerCase()} skin tone`);
  return `${name}: ${tones.join(', ')}`;
}

const KEYS = optionKeys<EmojiOptions>()(['vendor', 'size', 'labels', 'skinTones', 'channels', 'background']);

export function checkEmojiOptions(opts: EmojiOptions, where: string): Required<Omit<EmojiOptions, 'background'>> & { background: [number, number, number] } {
  checkOptions(where, opts, KEYS);
  const vendor = opts.vendor ?? 'google';
  if (!EMOJI_VENDORS.includes(vendor)) throw new RangeError(`${where}: vendor must be one of ${EMOJI_VENDORS.map((v) => `'${v}'`).join(', ')}; got ${JSON.stringify(vendor)}`);
  const size = opts.size ?? 64;
  if (size !== 32 && size !== 64) throw new RangeError(`${where}: size must be 32 or 64; got ${JSON.stringify(size)}`);
  const labels = opts.labels ?? 'category';
  if (labels !== 'category' && labels !== 'subcategory') throw new RangeError(`${where}: labels must be 'category' or 'subcategory'; got ${JSON.stringify(labels)}`);
  const channels = opts.channels ?? 3;
  if (![1, 2, 3, 4].includes(channels)) throw new RangeError(`${where}: channels must be 1, 2, 3 or 4; got ${JSON.stringify(channels)}`);
  return { vendor, size, labels, skinTones: opts.skinTones ?? false, channels, background: parseBackground(opts.background, where) };
}

/**
 * The emoji of an emoji-datasource `emoji.json` (base emoji, and skin-tone
 * variants if asked; the `Component` category and images the vendor lacks
 * left out), ordered as the package orders them, each variant after its base.
 * `read(image)` gives the bytes of a 64 × 64 PNG by file name. Browser-safe:
 * the Node layer's `loadEmoji` reads the installed package.
 */
export async function emojiDataset(entries: EmojiEntry[], read: (image: string) => Uint8Array | Promise<Uint8Array>, opts: EmojiOptions = {}, where = 'emojiDataset'): Promise<EmojiDataset> {
  const o = checkEmojiOptions(opts, where);
  const has = (e: { [k: `has_img_${string}`]: unknown }) => e[`has_img_${o.vendor}`] === true;
  const base = entries.filter((e) => e.category !== 'Component' && has(e)).sort((a, b) => a.sort_order - b.sort_order);
  const classNames: string[] = [];
  for (const e of base) if (!classNames.includes(e[o.labels])) classNames.push(e[o.labels]);
  const items: { image: string; unified: string; caption: string; label: number; group: number }[] = [];
  base.forEach((e, g) => {
    const name = e.name.toLowerCase();
    const label = classNames.indexOf(e[o.labels]);
    items.push({ image: e.image, unified: e.unified, caption: name, label, group: g });
    if (!o.skinTones) return;
    for (const [key, v] of Object.entries(e.skin_variations ?? {})) if (has(v)) items.push({ image: v.image, unified: v.unified, caption: toneCaption(name, key), label, group: g });
  });
  const S = o.size;
  const perImage = S * S * o.channels;
  const images = new Float32Array(items.length * perImage);
  for (const [k, it] of items.entries()) {
    const img = decodeImage(await read(it.image), it.image);
    if (img.width !== 64 || img.height !== 64) throw new Error(`${where}: ${it.image} is ${img.width}×${img.height}; the emoji images are 64×64`);
    writeChannels(areaDownsample(premultiply(img), 64 / S), o.channels, o.background, images, k * perImage);
  }
  return {
    images,
    shape: [items.length, S, S, o.channels],
    labels: Int32Array.from(items, (it) => it.label),
    classNames,
    captions: items.map((it) => it.caption),
    groups: Int32Array.from(items, (it) => it.group),
    unified: items.map((it) => it.unified),
  };
}
