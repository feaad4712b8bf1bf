// Writes a grid of gradient images and a loss curve to examples/ (and prints where).
import { fileURLToPath } from 'node:url';
import { imageGridPng, linePlotPng, writePng } from '@tfjs-diffusion/viz/node';

const here = fileURLToPath(new URL('.', import.meta.url));
const n = 12, h = 16, w = 16;
const pixels = new Float32Array(n * h * w);
for (let k = 0; k < n; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
  pixels[(k * h + y) * w + x] = Math.cos((x * Math.cos(k) + y * Math.sin(k)) / 3); // values in [-1, 1]
}
await writePng(`${here}grid.png`, imageGridPng(pixels, { n, height: h, width: w, channels: 1, cols: 4, scale: 3, rowLabels: ['a', 'b', 'c'] }));

const steps = Array.from({ length: 200 }, (_, i) => (i + 1) * 10);
const train = steps.map((s, i) => 0.05 + 0.9 / Math.sqrt(s) + 0.02 * Math.sin(i));
const val = steps.map((s, i) => (i % 20 === 19 ? 0.06 + 0.8 / Math.sqrt(s) : NaN));
await writePng(`${here}plot.png`, linePlotPng({
  series: [{ name: 'train', x: steps, y: train }, { name: 'validation', x: steps, y: val.map((v, i) => (Number.isNaN(v) ? v : v)) }],
  title: 'Loss', xLabel: 'step', yLabel: 'MSE', logY: true,
}));
console.log(`wrote ${here}grid.png and ${here}plot.png`);
