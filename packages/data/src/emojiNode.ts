import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkEmojiOptions, emojiDataset, type EmojiDataset, type EmojiEntry, type EmojiOptions } from './emoji.js';
import { datasetPackageDir } from './mnist.js';

// Spelled out, so each optional peer is named where it is loaded.
const PACKAGES = { google: 'emoji-datasource-google', twitter: 'emoji-datasource-twitter', facebook: 'emoji-datasource-facebook' } as const;

/**
 * The emoji of the installed `emoji-datasource-<vendor>` package (an
 * optional peer: `npm install emoji-datasource-google`, or -twitter,
 * -facebook), from its `emoji.json` and 64 × 64 PNGs under `img/<vendor>/64/`.
 */
export async function loadEmoji(opts: EmojiOptions = {}): Promise<EmojiDataset> {
  const { vendor } = checkEmojiOptions(opts, 'loadEmoji');
  const dir = datasetPackageDir(PACKAGES[vendor], 'loadEmoji');
  const entries = JSON.parse(readFileSync(join(dir, 'emoji.json'), 'utf8')) as EmojiEntry[];
  const images = join(dir, 'img', vendor, '64');
  return emojiDataset(entries, (image) => new Uint8Array(readFileSync(join(images, image))), opts, 'loadEmoji');
}
