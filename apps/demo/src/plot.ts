import { linePlotPng } from '@tfjs-diffusion/viz';
import { readMetrics, writeFileAtomic } from './runFolder.js';

/** loss.png: training loss (logged steps) and validation loss (model and EMA) against the step. */
export function writeLossPlot(metricsPath: string, outPath: string): void {
  const lines = readMetrics(metricsPath);
  const series: { name: string; x: number[]; y: number[] }[] = [];
  const add = (name: string, key: 'loss' | 'valLoss' | 'valLossEma') => {
    const pts = lines.filter((l) => typeof l[key] === 'number' && Number.isFinite(l[key]));
    if (pts.length) series.push({ name, x: pts.map((l) => l.step), y: pts.map((l) => l[key] as number) });
  };
  add('train loss', 'loss');
  add('validation loss', 'valLoss');
  add('validation loss (EMA)', 'valLossEma');
  if (!series.length) return;
  writeFileAtomic(outPath, linePlotPng({ series, title: 'Loss', xLabel: 'step', yLabel: 'MSE', logY: true, width: 640, height: 400 }));
}
