import { writeResult } from './common.js';
import { imageGrid, linePlot, PALETTE } from './fallbackPng.js';

interface Series {
  name: string;
  x: number[];
  y: number[];
}

/** Writes a line plot PNG with @tfjs-diffusion/viz's linePlotPng, or a plain one without text while viz offers none; returns a markdown note naming it. */
export async function writeLinePlot(file: string, opts: { series: Series[]; title?: string; xLabel?: string; yLabel?: string; logY?: boolean }): Promise<string> {
  const viz = (await import('@tfjs-diffusion/viz')) as Record<string, unknown>;
  const linePlotPng = viz.linePlotPng as ((o: typeof opts & { width?: number; height?: number }) => Buffer) | undefined;
  if (typeof linePlotPng !== 'function') {
    await writeResult(file, linePlot(opts.series));
    const legend = opts.series.map((s, i) => `${PALETTE[i % PALETTE.length]![0]} = ${s.name}`).join('; ');
    return `\`${file}\` (plain plot without text: x = ${opts.xLabel ?? ''}, y = ${opts.yLabel ?? ''} from ${Math.min(0, ...opts.series.flatMap((q) => q.y))}; ${legend})`;
  }
  await writeResult(file, linePlotPng({ ...opts, width: 640, height: 400 }));
  return `\`${file}\``;
}

/** Writes an image grid PNG with viz's imageGridPng, or the built-in fallback (returns false then). */
export async function writeImageGrid(
  file: string,
  pixels: Float32Array,
  opts: { n: number; height: number; width: number; channels: 1 | 3; cols?: number; padding?: number; range?: [number, number] },
): Promise<boolean> {
  const viz = (await import('@tfjs-diffusion/viz')) as Record<string, unknown>;
  const imageGridPng = viz.imageGridPng as ((p: Float32Array, o: typeof opts) => Buffer) | undefined;
  if (typeof imageGridPng !== 'function') {
    await writeResult(file, imageGrid(pixels, opts));
    return false;
  }
  await writeResult(file, imageGridPng(pixels, opts));
  return true;
}
