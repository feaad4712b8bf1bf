// Writes examples/emoji-grid.png: the first eight emoji of each category (one row each) of emoji-datasource-google, 64 px on white.
import { fileURLToPath } from 'node:url';
import { take } from '@tfjs-diffusion/data';
import { loadEmoji } from '@tfjs-diffusion/data/node';
import { imageGridPng, writePng } from '@tfjs-diffusion/viz/node';

const emoji = await loadEmoji({ size: 64 });
const firsts = emoji.classNames.flatMap((_, c) => Array.from({ length: 8 }, (_, j) => emoji.labels.indexOf(c) + j));
const rows = take(emoji, firsts);
const out = fileURLToPath(new URL('emoji-grid.png', import.meta.url));
await writePng(out, imageGridPng(rows.images, { n: firsts.length, height: 64, width: 64, channels: 3, cols: 8, rowLabels: emoji.classNames }));
console.log(`wrote ${out}`);
