import type { Series } from '@tfjs-diffusion/viz';
import { imageGridPng, linePlotPng, type ImageGridPngOptions } from '@tfjs-diffusion/viz/node';
import { writeResult } from './common.js';

/** Writes a line plot PNG (640×400) into results/ and returns a markdown note naming it. */
export async function writeLinePlot(file: string, opts: { series: Series[]; title?: string; xLabel?: string; yLabel?: string; logY?: boolean }): Promise<string> {
  await writeResult(file, linePlotPng({ ...opts, width: 640, height: 400 }));
  return `\`${file}\``;
}

/** Writes an image grid PNG into results/. */
export async function writeImageGrid(file: string, pixels: Float32Array, opts: ImageGridPngOptions): Promise<void> {
  await writeResult(file, imageGridPng(pixels, opts));
}
