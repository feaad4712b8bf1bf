/**
 * Training in the tab with the demo's own recipe (read from the shipped run
 * config: schedule, prediction, learning rate, EMA, label dropout, weight
 * decay, clipping) on any image dataset (MNIST, or the user's folder: the
 * model takes its size, channels and classes), and writing the result as a
 * model folder.
 */
import * as tf from '@tensorflow/tfjs';
import { batchSource, type ImageDataset } from '@tfjs-diffusion/data';
import { createModel, resolveUNetConfig, type Model, type UNetConfig } from '@tfjs-diffusion/models';
import type { NoiseSchedule } from '@tfjs-diffusion/schedules';
import { createTrainer, encodeModelFolder, type FitResult, type StepEvent, type Trainer, type TrainerOptions } from '@tfjs-diffusion/training';
import type { Digits } from './mnist.js';
import type { LoadedModel } from './modelFolder.js';
import type { Recipe } from './recipe.js';

/** The run config written beside the trained weights: the recipe's, with this run's model, steps and data. */
export interface RunConfig {
  demo: Record<string, unknown>;
  model: UNetConfig;
  dataset: { numClasses: number; height: number; width: number; channels: number; classNames?: string[] };
  [k: string]: unknown;
}

export interface TrainSettings {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
}

export interface InTabTrainer {
  readonly trainer: Trainer;
  readonly model: Model;
  readonly schedule: NoiseSchedule;
  readonly config: RunConfig;
  /** The data's [N, H, W, C]: the model's size and channels. */
  readonly shape: [number, number, number, number];
  /** The model's classes (the data's); undefined when unconditional. */
  readonly numClasses: number | undefined;
  readonly losses: number[];
  /**
   * Trains to `steps` on the library's loop: `signal` (the stop button) stops at
   * a step boundary, `onStep` (status line, live plot, previews) runs after each step.
   */
  train(o: { signal?: AbortSignal; onStep?: (e: StepEvent) => unknown }): Promise<FitResult>;
  /** The model (with the EMA weights swapped in) as a LoadedModel for sampling previews. */
  withEma<T>(fn: (m: LoadedModel) => Promise<T>): Promise<T>;
  /** The model folder's two files: config.json (a run config) and model.safetensors (EMA weights). */
  modelFolder(): Promise<{ config: string; weights: Uint8Array }>;
  dispose(): Promise<void>;
}

export function digitsDataset(d: Digits, limit = d.count): ImageDataset {
  const n = Math.min(limit, d.count);
  const size = d.height * d.width;
  const images = new Float32Array(n * size);
  for (let i = 0; i < images.length; i++) images[i] = d.pixels[i]! / 127.5 - 1;
  return {
    images,
    shape: [n, d.height, d.width, 1],
    labels: Int32Array.from(d.labels.subarray(0, n)),
    classNames: Array.from({ length: 10 }, (_, c) => String(c)),
  };
}

/** Classes of a labelled dataset: its class names, else one more than the largest label; undefined when unlabelled. */
export function classCount(data: ImageDataset): number | undefined {
  if (!data.labels) return undefined;
  return data.classNames?.length ?? data.labels.reduce((a, l) => Math.max(a, l + 1), 0);
}

/**
 * A trainer for `data` with the recipe's network, schedule and regularizers: the
 * model's sample size, channels and classes are the data's (unconditional when it has no labels).
 * `what` names the run on the page ('mnist-tiny', 'a U-Net on folder pets'); `source` is written
 * into the run config's demo section (the demo's names: `{ dataset: 'folder', resolution, centerCrop }`).
 */
export async function createInTabTrainer(recipe: Recipe, data: ImageDataset, s: TrainSettings, what = 'mnist-tiny', source: Record<string, unknown> = {}): Promise<InTabTrainer> {
  for (const [k, v] of Object.entries({ steps: s.steps, batchSize: s.batchSize, seed: s.seed })) {
    if (!Number.isInteger(v) || v < (k === 'seed' ? 0 : 1)) throw new Error(`${k} must be a ${k === 'seed' ? 'non-negative' : 'positive'} integer; got ${v}`);
  }
  if (!(s.lr > 0 && s.lr < 1)) throw new Error(`learning rate must be in (0, 1); got ${s.lr}`);
  const [, height, width, channels] = data.shape;
  const numClasses = classCount(data);
  if (numClasses !== undefined && numClasses < 2) throw new Error(`a class-conditional dataset needs at least 2 classes; got ${numClasses}`);
  if (data.shape[0] < s.batchSize) throw new Error(`batch must be at most the ${data.shape[0]} images of the dataset; got ${s.batchSize}`);
  // The recipe's network at the data's shape; resolveUNetConfig names a size the levels cannot halve.
  const modelConfig = resolveUNetConfig({ ...recipe.model, sampleSize: height === width ? height : [height, width], inChannels: channels, outChannels: channels, numClasses: numClasses ?? null });
  const config: RunConfig = {
    ...recipe.json,
    demo: { ...recipe.demo, ...source, classConditional: numClasses !== undefined, steps: s.steps, batchSize: s.batchSize, lr: s.lr, seed: s.seed, threads: 1 },
    model: modelConfig,
    dataset: { numClasses: numClasses ?? 1, height, width, channels, ...(data.classNames && { classNames: data.classNames }) },
  };
  const r = recipe.regularizers;
  const schedule = recipe.schedule;
  const model = createModel(modelConfig, { seed: s.seed });
  const batches = batchSource(data, { batchSize: s.batchSize, seed: s.seed + 1, labels: numClasses !== undefined });
  const options: TrainerOptions = {
    denoiser: model,
    schedule,
    data: batches,
    learningRate: { schedule: recipe.lrSchedule, peak: s.lr, warmupSteps: Math.min(recipe.warmupSteps, Math.floor(s.steps / 4)), totalSteps: s.steps },
    regularizers: {
      ema: r.ema > 0 ? { decay: r.ema, useEmaWarmup: true, power: 3 / 4 } : undefined,
      weightDecay: r.weightDecay,
      clipGradNorm: r.clipGradNorm > 0 ? r.clipGradNorm : undefined,
      pUncond: r.pUncond > 0 && numClasses !== undefined ? r.pUncond : undefined,
      dropout: r.dropout > 0 ? r.dropout : undefined,
    },
    seed: s.seed,
  };
  let trainer: Trainer;
  try {
    trainer = await createTrainer(options);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const losses: number[] = [];
  const loaded = (): LoadedModel => ({
    model, schedule, numClasses, height, width, channels, config, description: `${what} trained in this tab (${trainer.step} steps)`, notes: [],
  });
  return {
    trainer, model, schedule, config, losses, shape: [data.shape[0], height, width, channels], numClasses,
    train({ signal, onStep }) {
      return trainer.fit({
        steps: Math.max(0, s.steps - trainer.step),
        signal,
        onStep: (e) => {
          losses.push(e.loss);
          return onStep?.(e);
        },
      });
    },
    withEma(fn) {
      const run = () => fn(loaded());
      return trainer.ema ? trainer.ema.withAveraged(run) : run();
    },
    async modelFolder() {
      // The one writer of a model folder: the weights cli sample and the page take (EMA for trained, raw for frozen).
      const files = encodeModelFolder(trainer.checkpoint(), { config: { ...config, demo: { ...config.demo, steps: trainer.step } } });
      return { config: files.config!, weights: files.weights };
    },
    async dispose() {
      await trainer.dispose();
      tf.tidy(() => model.dispose());
    },
  };
}
