import * as modelsPkg from '@tfjs-diffusion/models';
import * as vizPkg from '@tfjs-diffusion/viz';

/** Thrown when a command needs a part of a package that is not published yet. */
export class NotAvailableError extends Error {}

function pick<T>(pkg: string, mod: Record<string, unknown>, name: string): T {
  const v = mod[name];
  if (v === undefined) throw new NotAvailableError(`not available yet: this command needs ${name} from @tfjs-diffusion/${pkg}, which does not export it yet`);
  return v as T;
}

// Typed views of what the demo uses from packages whose API the shared contract fixes.
export interface DemoModel {
  readonly prediction: 'epsilon' | 'v' | 'sample';
  readonly config: Record<string, unknown> & { numClasses?: number; imageSize?: number; inChannels?: number; sampleSize?: number };
  predict(x: import('@tensorflow/tfjs').Tensor4D, t: import('@tensorflow/tfjs').Tensor1D, cond?: { classLabels?: import('@tensorflow/tfjs').Tensor1D }, opts?: { training?: boolean; seed?: number; dropoutRate?: number }): import('@tensorflow/tfjs').Tensor4D;
  parameters(): { name: string; variable: import('@tensorflow/tfjs').Variable }[];
  numParameters(): number;
  dispose(): void;
}

export const models = {
  UNet: () => pick<new (config: Record<string, unknown>, opts?: { seed?: number }) => DemoModel>('models', modelsPkg as Record<string, unknown>, 'UNet'),
  unetPreset: () => pick<(name: string, overrides?: Record<string, unknown>) => Record<string, unknown>>('models', modelsPkg as Record<string, unknown>, 'unetPreset'),
};

export const viz = {
  imageGridPng: () =>
    pick<(pixels: Float32Array, opts: { n: number; height: number; width: number; channels: 1 | 3; cols?: number; padding?: number; range?: [number, number] }) => Buffer>(
      'viz', vizPkg as Record<string, unknown>, 'imageGridPng'),
  linePlotPng: () =>
    pick<(opts: { series: { name: string; x: number[]; y: number[] }[]; title?: string; xLabel?: string; yLabel?: string; logY?: boolean; width?: number; height?: number }) => Buffer>(
      'viz', vizPkg as Record<string, unknown>, 'linePlotPng'),
};
