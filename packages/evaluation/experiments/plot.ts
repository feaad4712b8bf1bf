import { writeResult } from './common.js';

interface Series {
  name: string;
  x: number[];
  y: number[];
}

/** Writes a line plot PNG with @tfjs-diffusion/viz's linePlotPng; returns false when viz offers none. */
export async function writeLinePlot(file: string, opts: { series: Series[]; title?: string; xLabel?: string; yLabel?: string; logY?: boolean }): Promise<boolean> {
  const viz = (await import('@tfjs-diffusion/viz')) as Record<string, unknown>;
  const linePlotPng = viz.linePlotPng as ((o: typeof opts & { width?: number; height?: number }) => Buffer) | undefined;
  if (typeof linePlotPng !== 'function') {
    console.warn(`@tfjs-diffusion/viz has no linePlotPng yet: ${file} not written`);
    return false;
  }
  await writeResult(file, linePlotPng({ ...opts, width: 640, height: 400 }));
  return true;
}

/** Writes an image grid PNG with viz's imageGridPng; returns false when viz offers none. */
export async function writeImageGrid(
  file: string,
  pixels: Float32Array,
  opts: { n: number; height: number; width: number; channels: 1 | 3; cols?: number; padding?: number; range?: [number, number] },
): Promise<boolean> {
  const viz = (await import('@tfjs-diffusion/viz')) as Record<string, unknown>;
  const imageGridPng = viz.imageGridPng as ((p: Float32Array, o: typeof opts) => Buffer) | undefined;
  if (typeof imageGridPng !== 'function') {
    console.warn(`@tfjs-diffusion/viz has no imageGridPng yet: ${file} not written`);
    return false;
  }
  await writeResult(file, imageGridPng(pixels, opts));
  return true;
}
