/**
 * Redraws the line plots of experiments 1–5 from their committed result
 * tables (results/*.md, temperature-smoothing.json) with @tfjs-diffusion/viz,
 * without rerunning them.
 *
 *   npx tsx --conditions=source apps/experiments/src/replot.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsDir } from './common.js';
import { writeLinePlot } from './plot.js';

/** The first markdown table of a results file as rows of cells. */
function table(file: string): string[][] {
  const lines = readFileSync(join(resultsDir, file), 'utf8').split('\n').filter((l) => l.startsWith('|'));
  return lines.filter((l) => !/^\|\s*---/.test(l)).slice(1).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}
const col = (rows: string[][], i: number) => rows.map((r) => Number(r[i]));

const e1 = table('empirical-ddim.md');
await writeLinePlot('empirical-ddim.png', {
  title: 'Empirical denoiser + DDIM on MNIST subsets',
  xLabel: 'log10 training images n', yLabel: 'rate, or distance / 20',
  series: [
    { name: 'memorization rate', x: col(e1, 0).map(Math.log10), y: col(e1, 2) },
    { name: 'median d(train NN) / 20', x: col(e1, 0).map(Math.log10), y: col(e1, 3).map((d) => d / 20) },
    { name: 'median d(held-out NN) / 20', x: col(e1, 0).map(Math.log10), y: col(e1, 4).map((d) => d / 20) },
  ],
});

// One table of both networks (memorization-vs-n.md), one plot per network.
for (const net of ['conditioned', 'unconditioned']) {
  const rows = table('memorization-vs-n.md').filter((r) => r[0] === net);
  await writeLinePlot(`memorization-vs-n-${net}.png`, {
    title: `Trained MLP (${net}) on a circle in R^64: memorization vs n`,
    xLabel: 'log2 training points n', yLabel: 'memorization rate',
    series: [
      { name: 'memorization rate', x: col(rows, 1).map(Math.log2), y: col(rows, 2) },
      { name: 'median distance to the circle', x: col(rows, 1).map(Math.log2), y: col(rows, 5) },
    ],
  });
}

const ts = JSON.parse(readFileSync(join(resultsDir, 'temperature-smoothing.json'), 'utf8')) as {
  circleCs: number[]; circleKs: number[]; circleRates: { rates: number[][] }; mnistCs: number[]; mnistKs: number[]; mnistRates: { rates: number[][] };
};
const series = (cs: number[], ks: number[], rates: number[][], zeroAt: number, label: string) =>
  ks.map((k, i) => ({ name: `${label} K=${k}`, x: cs.map((c) => (c === 0 ? zeroAt : Math.log10(c))), y: rates[i]! }));
await writeLinePlot('temperature-smoothing.png', {
  title: 'Temperature smoothing: memorization rate vs c',
  xLabel: 'log10 c (c = 0 drawn at the left end)', yLabel: 'memorization rate',
  series: [...series(ts.circleCs, ts.circleKs, ts.circleRates.rates, -3, 'circle'), ...series(ts.mnistCs, ts.mnistKs, ts.mnistRates.rates, -1, 'MNIST')],
});

const tr = table('transfer.md');
await writeLinePlot('transfer.png', {
  title: 'MNIST → Fashion-MNIST: validation loss while fine-tuning',
  xLabel: 'fine-tuning step', yLabel: 'validation ε-MSE',
  series: [
    { name: 'fine-tuned from MNIST (frozen input layers)', x: col(tr, 0), y: col(tr, 1) },
    { name: 'from scratch', x: col(tr, 0), y: col(tr, 2) },
  ],
});
console.log(`redrew the plots in ${resultsDir}`);
