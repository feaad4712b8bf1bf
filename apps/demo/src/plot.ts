import { linePlotPng } from '@tfjs-diffusion/viz/node';
import { readMetrics, writeFileAtomic } from './runFolder.js';

/**
 * loss.png: training loss (logged steps) and validation loss (model and EMA) against the step.
 * With min-SNR-γ the training loss is weighted (weights ≤ 1) and sits below the unweighted validation MSE.
 */
export function writeLossPlot(metricsPath: string, outPath: string, opts: { minSnrGamma?: number } = {}): void {
  const lines = readMetrics(metricsPath);
  const series: { name: string; x: number[]; y: number[] }[] = [];
  const add = (name: string, key: 'loss' | 'valLoss' | 'valLossEma') => {
    const pts = lines.filter((l) => typeof l[key] === 'number' && Number.isFinite(l[key]));
    if (pts.length) series.push({ name, x: pts.map((l) => l.step), y: pts.map((l) => l[key] as number) });
  };
  add(opts.minSnrGamma ? `train loss (min-SNR-γ ${opts.minSnrGamma} weighted)` : 'train loss', 'loss');
  add('validation loss', 'valLoss');
  add('validation loss (EMA)', 'valLossEma');
  if (!series.length) return;
  writeFileAtomic(outPath, linePlotPng({ series, title: 'Loss', xLabel: 'step', yLabel: 'MSE', logY: true, width: 640, height: 400 }));
}
