import * as tf from '@tensorflow/tfjs';
import { planThreads } from '@tfjs-diffusion/backend';
import { createParallelSampler, loadWeightsFrom, type ParallelSampler } from '@tfjs-diffusion/training/node';
import { makeSchedule, type NoiseSchedule, offsetSeed } from '@tfjs-diffusion/schedules';
import { clip, dynamicThreshold, createSampler, sample, type Sampler, type X0Processor } from '@tfjs-diffusion/samplers';
import { UNet, unetPreset } from '@tfjs-diffusion/models';
import { samplerOptions } from './samplerOptions.js';
import type { DemoConfig, SamplerName, SigmaPlan, Threshold } from './presets.js';

export function buildSchedule(c: DemoConfig): NoiseSchedule {
  return makeSchedule({ ...c.schedule });
}

/** The U-Net of a config: the models preset, the demo's prediction type and classes, then the overrides. */
/** The U-Net of a run: its preset, sized to the dataset's images (`shape`; the preset's 28×28×1 without), then the overrides. */
export function modelConfig(c: DemoConfig, numClasses: number, shape?: { height: number; width: number; channels: number }): Record<string, unknown> {
  const sized = shape ? {
    sampleSize: shape.height === shape.width ? shape.height : [shape.height, shape.width] as [number, number],
    inChannels: shape.channels, outChannels: shape.channels,
  } : {};
  return { ...unetPreset(c.model.preset, {
    ...sized,
    predictionType: c.prediction,
    numClasses: c.classConditional ? numClasses : null,
    ...c.model.overrides,
  }) };
}

export type DemoModel = UNet;

export function buildModel(config: Record<string, unknown>, seed: number): DemoModel {
  return new UNet(config, { seed });
}

/** A registry sampler with the demo's recipe (`samplerOptions`). */
export function buildSampler(name: SamplerName, opts: { eta?: number; sigmas?: SigmaPlan } = {}): Sampler {
  return createSampler(name, samplerOptions(name, opts)); // samplerOptions names '--sampler' for an unknown name
}

export function buildThreshold(t: Threshold): X0Processor | undefined {
  if (t === 'dynamic') return dynamicThreshold({ dynamicThresholdingRatio: 0.995, sampleMaxValue: 1.5 });
  if (t === 'clip') return clip(1);
  return undefined;
}

/**
 * Loads the weights to sample with at `dir` (a run folder, its checkpoints/
 * folder, one ckpt-* folder, a model folder or a diffusers folder; training's
 * one reader) into `model`: the EMA for the trained parameters when the run
 * kept one and `preferEma`, the raw weights for frozen ones. `ema` says
 * whether the trained weights are an EMA (undefined when the folder does not say).
 */
export async function loadWeights(model: DemoModel, dir: string, preferEma = true): Promise<{ source: 'ema' | 'model' | 'model-folder' | 'diffusers'; ema: boolean | undefined; path: string; step?: number }> {
  const { source, ema, path, step } = await loadWeightsFrom(model, dir, { ema: preferEma });
  return { source, ema, path, step };
}

export interface GridRequest {
  sampler: SamplerName;
  steps: number;
  guidance: number;
  guidanceRescale: number;
  threshold: Threshold;
  eta: number;
  sigmas?: SigmaPlan;
  seed: number;
  /** Class of every image; undefined for an unconditional model. */
  labels?: number[];
  n: number;
  numClasses?: number;
  height: number;
  width: number;
  channels: number;
  /** Called after every sampler step with the images done so far (fractional: steps done / steps) and in all. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Images per sampling call: one forward of the reference U-Net on 400 images
 * (200 guided) overflows the wasm backend's 4 GiB heap, so larger requests
 * run in chunks, chunk k with seed + k.
 */
export const SAMPLE_CHUNK = 64;

/**
 * The sampler over `threads` threads (this one included) for `model`'s config: worker threads on wasm,
 * none under tfjs-node (TensorFlow's pool) or for 1. Start once, pass to every `sampleImages`, dispose.
 */
export async function startSampler(model: DemoModel, threads: number): Promise<ParallelSampler> {
  return createParallelSampler(model, { threads: planThreads(threads, tf.getBackend()).replicas });
}

/**
 * Samples `n` images and returns them on the host, in [-1, 1]-ish data range; with `parallel`, each
 * chunk's rows are split over its threads (the same images as one thread).
 */
export async function sampleImages(model: DemoModel, schedule: NoiseSchedule, r: GridRequest, chunk = SAMPLE_CHUNK, parallel?: ParallelSampler): Promise<Float32Array> {
  const size = r.height * r.width * r.channels;
  const result = new Float32Array(r.n * size);
  for (let start = 0, k = 0; start < r.n; start += chunk, k++) {
    const n = Math.min(chunk, r.n - start);
    const onProgress = r.onProgress && ((i: number, len: number) => r.onProgress!(start + ((i + 1) / len) * n, r.n));
    result.set(await sampleChunk(model, schedule, { ...r, n, seed: offsetSeed(r.seed, k), labels: r.labels?.slice(start, start + n), onProgress }, parallel), start * size);
  }
  return result;
}

async function sampleChunk(model: DemoModel, schedule: NoiseSchedule, r: GridRequest, parallel: ParallelSampler | undefined): Promise<Float32Array> {
  const labels = r.labels ? tf.tensor1d(Int32Array.from(r.labels), 'int32') : undefined;
  try {
    const guided = labels !== undefined && r.numClasses !== undefined && r.guidance !== 1 && r.guidance > 0;
    const run = parallel ? parallel.sample.bind(parallel) : sample;
    const out = await run(model, buildSampler(r.sampler, { eta: r.eta, sigmas: r.sigmas }), {
      schedule,
      shape: [r.n, r.height, r.width, r.channels],
      numInferenceSteps: r.steps,
      seed: r.seed,
      cond: labels ? { classLabels: labels } : undefined,
      guidance: guided ? { guidanceScale: r.guidance, guidanceRescale: r.guidanceRescale, nullClass: r.numClasses! } : undefined,
      x0Processor: buildThreshold(r.threshold),
      // Each step yields to the event loop, so that a stop signal is seen while one thread samples.
      onStep: async (i, n) => {
        r.onProgress?.(i, n);
        await new Promise((res) => setImmediate(res));
      },
    });
    const data = (await out.samples.data()) as Float32Array;
    tf.dispose([out.samples, ...out.intermediates, ...out.predictions]);
    return data;
  } finally {
    labels?.dispose();
  }
}

/** One row per class (cols images each) for class-conditional models, else rows of cols. */
export function gridLabels(numClasses: number | undefined, cols: number, classes?: number[]): number[] | undefined {
  if (numClasses === undefined) return undefined;
  const rows = classes ?? Array.from({ length: numClasses }, (_, c) => c);
  return rows.flatMap((c) => Array.from({ length: cols }, () => c));
}
